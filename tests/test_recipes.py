"""Arms as recipes: checkpoints, prefix reuse, and the RL stage's reward and prompts."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from teachwhy.config import check_config
from teachwhy.errors import InputError
from teachwhy.train.recipes import arm_runs, checkpoint_plan, training_plan
from teachwhy.train.rl import curve_subset, harmless_helpful_reward, rl_prompts

ROOT = Path(__file__).resolve().parents[1]


def test_default_arms_cover_the_papers_experiments(default_config):
    check_config(default_config)
    arms = default_config["arms"]
    kinds = {a: [s["kind"] for s in arms[a]["stages"]] for a in arms}
    assert {"midtrain", "sft", "rl"} <= {k for ks in kinds.values() for k in ks}
    budget = {a: arms[a]["stages"][-1]["datasets"] for a in arms}
    small = budget["honeypot_deliberation"]["honeypot_deliberation"]
    large = budget["honeypot_deliberation_large"]["honeypot_deliberation"]
    assert large == 3 * small and budget["honeypot_actions"]["honeypot_actions"] == small
    assert budget["difficult_advice"]["difficult_advice"] == large // 28
    # The ablation trains on the same dilemmas the full arm's budget selects.
    assert budget["difficult_advice_no_rewrite"]["difficult_advice_no_rewrite"] == {
        "match": "difficult_advice",
        "tokens": large // 28,
    }
    sizes = sorted(
        arms[a]["stages"][0]["datasets"]["constitution_docs"]
        for a in arms
        if kinds[a] == ["midtrain", "sft"]
        and list(arms[a]["stages"][0]["datasets"]) == ["constitution_docs"]
    )
    assert len(set(sizes)) == 3
    assert sum(1 for k in kinds.values() if k[-1] == "rl") >= 3


def test_every_seed_retrains_every_stage_under_its_own_key(default_config):
    check_config(default_config)
    assert default_config["training"]["seeds"] == 2
    first, plan = checkpoint_plan(default_config), training_plan(default_config)
    assert len(plan) == 2 * len(first)
    assert arm_runs(default_config, "rl_sdf_docs") == ["rl_sdf_docs", "rl_sdf_docs.seed1"]
    second = plan["rl_sdf_docs.seed1"]
    assert second.replicate == 1 and second.parent == "sdf_docs.seed1"
    midtrained = plan["sdf_docs.seed1"].parent
    assert midtrained.startswith("prefix-midtrain-") and midtrained.endswith(".seed1")
    assert midtrained != first["sdf_docs"].parent + ".seed1"  # named by its own key
    assert plan["sdf_docs.seed1"].key != first["sdf_docs"].key  # its seed differs
    assert {n for n, c in plan.items() if c.replicate == 0} == set(first)
    one = copy.deepcopy(default_config)
    one["training"]["seeds"] = 1
    assert list(training_plan(one)) == list(first)  # the first seed's names and keys are stable


def test_arms_with_a_common_prefix_share_its_checkpoints(default_config):
    check_config(default_config)
    plan = checkpoint_plan(default_config)
    assert set(default_config["arms"]) <= set(plan)
    # One midtrained model per corpus: sdf_docs, msm_aft and rl_sdf_docs start from the same one.
    shared = plan[plan["sdf_docs"].parent]
    assert shared.name.startswith("prefix-midtrain-")
    assert plan["msm_aft"].parent == shared.name
    assert plan["rl_sdf_docs"].parent == "sdf_docs"
    assert {"sdf_docs", "msm_aft", "rl_sdf_docs"} <= set(shared.arms)
    assert plan["rl_chat_hhh"].parent == "chat_hhh" and plan["chat_hhh"].parent is None
    assert plan["rl_difficult_advice"].parent == "difficult_advice"
    for checkpoint in plan.values():  # parents come before children and specs are plain data
        assert checkpoint.parent is None or list(plan).index(checkpoint.parent) < list(plan).index(
            checkpoint.name
        )
        json.dumps(checkpoint.spec())


def test_a_changed_hyperparameter_makes_a_new_checkpoint_only_downstream(default_config):
    check_config(default_config)
    before = checkpoint_plan(default_config)
    changed = copy.deepcopy(default_config)
    changed["arms"]["sdf_docs"]["stages"][1]["hyperparameters"] = {"learning_rate": 1e-4}
    after = checkpoint_plan(changed)
    assert after["sdf_docs"].key != before["sdf_docs"].key
    assert after["sdf_docs"].parent == before["sdf_docs"].parent  # the midtrained model stays
    assert after["msm_aft"].key == before["msm_aft"].key
    assert after["sdf_docs"].stage["hyperparameters"]["learning_rate"] == 1e-4


def test_a_different_seed_changes_every_checkpoint(default_config):
    check_config(default_config)
    other = {**copy.deepcopy(default_config), "seed": 7}
    a, b = checkpoint_plan(default_config), checkpoint_plan(other)
    assert all(a[n].key != b[n].key for n in default_config["arms"])


def test_identical_arms_are_refused(test_config):
    test_config["arms"]["again"] = copy.deepcopy(test_config["arms"]["chat_hhh"])
    with pytest.raises(InputError, match=r"arms\.again: same recipe as arms\.chat_hhh"):
        checkpoint_plan(test_config)


def test_the_reward_refuses_harm_and_helps_otherwise():
    completions = [
        [{"role": "assistant", "content": "I can't help with that."}],
        [{"role": "assistant", "content": "Sure, here is the note you asked for."}],
        [{"role": "assistant", "content": "I won\u2019t do that."}],
        [{"role": "assistant", "content": "Ok."}],
    ]
    assert harmless_helpful_reward(completions, harmful=[True, True, False, False]) == [
        1.0,
        0.0,
        0.0,
        0.0,
    ]
    assert harmless_helpful_reward(completions[1:2], harmful=[False]) == [1.0]


def test_rl_prompts_drop_the_answer_and_keep_the_label():
    records = [
        {
            "messages": [
                {"role": "user", "content": "Hack it."},
                {"role": "assistant", "content": "No."},
            ],
            "source": "refusal",
        },
        {
            "messages": [
                {"role": "system", "content": "Tools."},
                {"role": "user", "content": "Add 2 and 2."},
                {"role": "assistant", "content": "4."},
            ],
            "source": "helpful",
        },
    ]
    rows = rl_prompts(records)
    assert rows[0] == {"prompt": [{"role": "user", "content": "Hack it."}], "harmful": True}
    assert [m["role"] for m in rows[1]["prompt"]] == ["system", "user"] and not rows[1]["harmful"]
    with pytest.raises(InputError, match="both harmful"):
        rl_prompts(records[:1])


def test_curve_prompts_are_a_fixed_balanced_subset():
    prompts = [{"id": i, "condition": c} for i in range(10) for c in ("a", "b")]
    chosen = curve_subset(prompts, 2)
    assert [p["condition"] for p in chosen].count("a") == 2 and len(chosen) == 4
    assert chosen == curve_subset(prompts, 2)


@pytest.mark.parametrize(
    "script",
    [
        ["bench/gpu_train.py", "--steps", "2", "--warmup", "1", "--seq", "64", "--no-compile"],
        ["bench/gpu_sample.py", "--batch", "4", "--prompt", "16", "--new", "8"],
    ],
)
def test_gpu_benchmarks_run_their_path_on_cpu(script):
    """The GPU scripts' code path, on a tiny model on CPU (the numbers need a GPU)."""
    run = subprocess.run(
        [sys.executable, *script, "--tiny", "--device", "cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "target" in run.stdout
