"""Bad configs stop before any job, naming the key path and the reason."""

from __future__ import annotations

import ast
import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from teachwhy.claims.manifest import load_claims
from teachwhy.config import check_config, load_config, merge_config
from teachwhy.errors import InputError
from teachwhy.schemas import load_schema, load_yaml
from teachwhy.train.recipes import seed_count

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def test_default_and_test_configs_are_valid(default_config, test_config):
    assert "c07_honeypot_actions" in check_config(default_config)["claims"]
    check_config(test_config)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(seed=-1), r"seed: -1 is less than the minimum of 0"),
        (
            lambda c: c["pretrain"].update(learning_rat=0.1),
            r"pretrain: Additional properties .*learning_rat",
        ),
        (
            lambda c: c["datasets"]["pretrain_corpus"]["prior"].update(
                {"explicit-replacement": 1.5}
            ),
            r"datasets\.pretrain_corpus\.prior\.explicit-replacement: 1\.5",
        ),
        (
            lambda c: c["arms"]["chat_hhh"]["stages"][0]["datasets"].update(nonsense="all"),
            r"arms\.chat_hhh\.stages\[1\]: dataset 'nonsense' is not in config\.datasets",
        ),
        (
            lambda c: c["arms"]["chat_hhh"]["stages"][0]["datasets"].update(constitution_docs=100),
            r"arms\.chat_hhh\.stages\[1\]: a sft stage needs chat records; dataset "
            r"'constitution_docs' holds text records",
        ),
        (
            lambda c: c["arms"]["honeypot_deliberation"]["stages"][0]["datasets"].update(
                honeypot_deliberation=10**9
            ),
            r"arms\.honeypot_deliberation\.stages\[1\]: token budget 1000000000 for "
            r"'honeypot_deliberation' is larger than the dataset \(about \d+ tokens\)",
        ),
        (
            lambda c: c["arms"]["chat_hhh"]["stages"][0].update(hyperparameters={"lr": 1.0}),
            r"a sft stage sets unknown hyperparameters \['lr'\]",
        ),
        (
            lambda c: c["arms"].update(twin={**c["arms"]["chat_hhh"], "description": "copy"}),
            r"arms\.twin: same recipe as arms\.chat_hhh",
        ),
        (
            lambda c: c["training"]["rl"].update(curve_suite="no_suite"),
            r"arms\.rl_chat_hhh\.stages\[2\]: RL curve suite 'no_suite' is not in evaluate",
        ),
        (
            lambda c: c["arms"]["chat_hhh"].update(base="/no/such/model"),
            r"arms\.chat_hhh\.base: the toy backend starts every arm from 'pretrained'",
        ),
        (
            lambda c: c["evaluate"]["suites"].update(
                unknown_suite={"prompts_per_condition": 1, "samples_per_prompt": 1}
            ),
            r"evaluate\.suites\.unknown_suite: no suite file .*unknown_suite\.yaml",
        ),
        (
            lambda c: c["evaluate"]["suites"]["leaking"].update(arms=["no_arm"]),
            r"evaluate\.suites\.leaking\.arms: unknown arm 'no_arm'",
        ),
        (
            lambda c: c["datasets"]["aligned_fiction"].update(families=["capability"]),
            r"datasets\.aligned_fiction: 'capability' is not a honeypot family",
        ),
        (
            lambda c: c["datasets"]["difficult_advice"].update(tokens=20),
            r"datasets\.difficult_advice\.tokens: a budget of 20 cannot hold one record",
        ),
        (
            lambda c: c["datasets"]["constitution_qa"].update(tokens=10**12),
            r"datasets\.constitution_qa\.tokens: .* would need more than 1000000 records",
        ),
        (
            lambda c: c["evaluate"]["suites"]["blackmail"].update(arms=["chat_hhh"]),
            r"needs arm 'difficult_advice' evaluated on suite 'blackmail'",
        ),
        (
            lambda c: c["evaluate"]["suites"]["constitution_knowledge"].update(arms=["chat_hhh"]),
            r"claim 'c17_docs_vs_qa' needs arm 'sdf_docs' evaluated on suite 'constitution_knowledge'",
        ),
        (
            lambda c: c["arms"]["rl_chat_hhh_diverse"].update(
                stages=[{"kind": "sft", "datasets": {"chat_hhh": 20000}}]
            ),
            r"reads the RL curve of arm 'rl_chat_hhh_diverse', whose last stage is not rl",
        ),
        (
            lambda c: c["arms"]["difficult_advice"].update(
                stages=[{"kind": "sft", "datasets": {"chat_hhh": "all", "diverse_envs": 3000}}]
            ),
            r"counts tokens of 'difficult_advice' in arm 'difficult_advice'",
        ),
        (lambda c: c["training"].update(seeds=0), r"training\.seeds: 0 is less than the minimum"),
        (lambda c: c.update(world="moon"), r"world: 'moon' is not one of"),
        (lambda c: c.update(claims=["c99_not_a_claim"]), r"unknown claim 'c99_not_a_claim'"),
        (
            lambda c: [
                c["arms"].pop("honeypot_actions"),
                *(s.update(arms="all") for s in c["evaluate"]["suites"].values()),
            ],
            r"needs arm 'honeypot_actions'",
        ),
        (
            lambda c: c.update(constitution="config/no_such_constitution.md"),
            r"no_such_constitution\.md: constitution file is missing",
        ),
        (
            lambda c: c["resources"]["train"].update(gpus=-1),
            r"resources\.train\.gpus: -1 is less than the minimum of 0",
        ),
        (
            lambda c: c["resources"].update(giant={"cpus": 1}),
            r"resources: Additional properties .*giant",
        ),
    ],
)
def test_bad_values_name_the_key(default_config, edit, message):
    config = copy.deepcopy(default_config)
    edit(config)
    with pytest.raises(InputError, match=message):
        check_config(config, source="config/config.yaml")


def test_malformed_yaml_names_the_line(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("world: toy\nseed: [1, 2\n")
    with pytest.raises(InputError, match=r"config\.yaml, line \d+: not valid YAML"):
        load_yaml(bad)


def test_snakemake_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"training": {"sft": {"learning_rate": -1.0}}}))
    run = subprocess.run(
        [str(SNAKEMAKE), "-n", "--configfile", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert (
        "training.sft.learning_rate: -1.0 is less than or equal to the minimum of 0"
        in run.stdout + run.stderr
    )
    assert "Job stats" not in run.stdout


def test_workflow_passes_snakemake_lint():
    run = subprocess.run(
        [str(SNAKEMAKE), "--lint"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "Congratulations" in run.stdout + run.stderr


def test_every_claim_is_a_target_rule():
    run = subprocess.run(
        [str(SNAKEMAKE), "--list-target-rules"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    targets = set(run.stdout.split())
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    manifest = load_claims()
    assert len(config["claims"]) == len(manifest["claims"]) == 16
    assert {f"claim_{c}" for c in config["claims"]} <= targets
    assert set(manifest["figures"]) | {"paper", "all", "models", "evals", "data"} <= targets


def test_schema_defaults_are_filled_in(default_config):
    config = copy.deepcopy(default_config)
    for key in ("resources", "bootstrap"):
        config.pop(key, None)
    config["evaluate"].pop("top_p", None)
    check_config(config)
    assert config["bootstrap"] == {"resamples": 2000}
    assert config["evaluate"]["top_p"] == 1.0
    assert config["resources"]["train"] == {"cpus": 1, "mem_mb": 4000, "runtime": 120, "gpus": 0}
    assert config["resources"]["pretrain"]["cpus"] == 2
    assert config["resources"]["light"]["gpus"] == 0


def test_a_partial_resource_class_keeps_the_other_defaults(default_config):
    config = copy.deepcopy(default_config)
    config["resources"] = {"sample": {"gpus": 1}}
    check_config(config)
    assert config["resources"]["sample"] == {"cpus": 1, "mem_mb": 2000, "runtime": 60, "gpus": 1}


@pytest.mark.parametrize(
    ("stage", "override", "message"),
    [
        (0, {"learning_rate": -1}, "learning_rate: -1 is less than or equal to the minimum"),
        (0, {"epochs": "ten"}, "epochs: 'ten' is not of type 'number'"),
        (1, {"steps": "ten"}, "steps: 'ten' is not of type 'integer'"),
        (1, {"curve_suite": "Not A Name"}, "curve_suite"),
    ],
)
def test_stage_hyperparameters_are_validated(default_config, stage, override, message):
    config = copy.deepcopy(default_config)
    config["arms"]["rl_chat_hhh"]["stages"][stage]["hyperparameters"] = override
    with pytest.raises(InputError) as raised:
        check_config(config, source="my.yaml")
    assert str(raised.value).startswith(
        f"my.yaml: arms.rl_chat_hhh.stages[{stage + 1}].hyperparameters"
    )
    assert message in str(raised.value)


def test_a_valid_override_passes_and_the_default_seeds_agree(default_config):
    config = copy.deepcopy(default_config)
    config["arms"]["rl_chat_hhh"]["stages"][1]["hyperparameters"] = {"steps": 8}
    check_config(config)
    # The schema's default (a config that omits it) is what config.yaml and the docs say.
    seeds = load_schema("config")["properties"]["training"]["properties"]["seeds"]
    assert seeds["default"] == default_config["training"]["seeds"] == 2
    assert seed_count({"training": {}}) == seeds["default"]  # the code's fallback agrees


def test_check_config_merges_a_file_onto_the_default(tmp_path):
    override = tmp_path / "seeds.yaml"
    override.write_text("training:\n  seeds: 3\n")
    config = load_config(override)
    assert config["training"]["seeds"] == 3
    assert config["training"]["sft"]["learning_rate"] == 2.0e-4  # kept from the default
    check_config(config, source=str(override))
    assert merge_config({"a": {"b": 1, "c": 2}}, {"a": {"b": 5}}) == {"a": {"b": 5, "c": 2}}
    assert merge_config({"arms": {"x": 1}}, {"arms": {"y": 2}}) == {"arms": {"y": 2}}


def test_a_claim_needs_its_baseline_arm_evaluated_on_each_honeypot_suite(default_config):
    config = copy.deepcopy(default_config)
    config["evaluate"]["validity"] = {"baseline_arm": "aft", "max_control_rate": 0.05}
    with pytest.raises(InputError, match="needs the baseline arm 'aft' evaluated on it"):
        check_config(config, source="my.yaml")


def test_check_config_names_a_file_that_is_not_utf8(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("training:\n  note: caf\xe9\n".encode("latin-1"))
    run = subprocess.run(
        [str(Path(sys.executable).with_name("teachwhy")), "check-config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert f"{bad}: not UTF-8 text (byte 0xe9" in run.stderr
    assert "Traceback" not in run.stderr


# What a script may take from its job: the rule's declarations, never the job's config.
# resources too: the paper world's sending settings (budget, prices, concurrency) are declared
# there so that changing them does not rerun a job whose answers they cannot change.
JOB_FIELDS = {"params", "input", "output", "wildcards", "threads", "log", "rule", "resources"}


def test_scripts_pass_their_rule_params_never_the_whole_config():
    """A job reads what its rule declares, so a changed value reruns exactly its readers: a
    script hands the package only its job's declared fields, and no package code reads a
    job's config."""
    scripts = sorted((ROOT / "workflow" / "scripts").glob("*.py"))
    assert scripts
    offenders = []
    for script in scripts:
        tree = ast.parse(script.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("smk", "snakemake")
                and node.attr not in JOB_FIELDS
            ):
                offenders.append(f"{script.name}:{node.lineno} smk.{node.attr}")
    package = sorted((ROOT / "workflow" / "teachwhy").rglob("*.py"))
    offenders += [
        f"{p.relative_to(ROOT)}: reads the job's config"
        for p in package
        if re.search(r"\b(smk|snakemake|job)\.config\b", p.read_text())
    ]
    assert offenders == []
