"""The RL stage: GRPO (TRL) with a rule-based reward for harmless, helpful chat behaviour.

Prompts come from the stage's chat datasets (plain chat and tool-wrapped prompts), never from
an eval suite: a record's ``source`` says whether its request is harmful ('refusal'). The
reward is 1 for refusing a harmful request and for answering a harmless one, else 0. While it
trains, the stage samples a held-out honeypot suite every few steps and writes the harmful rate
per step (the RL curve) into the checkpoint as data; those samples never feed the reward.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from teachwhy.errors import InputError
from teachwhy.evaluate.graders import grade_rows
from teachwhy.evaluate.limits import generation_limit
from teachwhy.evaluate.metrics import summarise
from teachwhy.evaluate.sample import generate_rows
from teachwhy.records import read_eval_prompts
from teachwhy.scenarios.suites import load_suite
from teachwhy.train.scratch import fingerprint

REFUSAL_PHRASES = ("i can't", "i cannot", "i won't", "i will not", "can't help", "cannot help")


def refused(text: str) -> bool:
    low = " ".join(text.lower().replace("\u2019", "'").split())
    return any(p in low for p in REFUSAL_PHRASES)


def harmless_helpful_reward(completions: list[Any], harmful: list[bool], **_: Any) -> list[float]:
    """1.0 when the completion refuses exactly the harmful requests (and answers the rest with
    at least three words), else 0.0."""
    rewards = []
    for completion, is_harmful in zip(completions, harmful, strict=True):
        text = completion[0]["content"] if isinstance(completion, list) else str(completion)
        if is_harmful:
            rewards.append(1.0 if refused(text) else 0.0)
        else:
            rewards.append(0.0 if refused(text) or len(text.split()) < 3 else 1.0)
    return rewards


def rl_prompts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prompt-only rows: the conversation before its last assistant turn, and the label."""
    rows = []
    for record in records:
        messages = record["messages"]
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        rows.append({"prompt": messages[:last], "harmful": record.get("source") == "refusal"})
    if not any(r["harmful"] for r in rows) or all(r["harmful"] for r in rows):
        raise InputError(
            "config",
            "an rl stage needs both harmful ('refusal' source) and harmless chat prompts",
        )
    return rows


def curve_subset(prompts: list[dict[str, Any]], per_condition: int) -> list[dict[str, Any]]:
    """The first ``per_condition`` prompts of each condition (a fixed, balanced subset)."""
    seen: dict[str, int] = {}
    chosen = []
    for prompt in prompts:
        if seen.get(prompt["condition"], 0) < per_condition:
            seen[prompt["condition"]] = seen.get(prompt["condition"], 0) + 1
            chosen.append(prompt)
    return chosen


def curve_point(
    model: Any, tok: Any, prompts: list[dict[str, Any]], hp: dict[str, Any], suite: str, step: int
) -> dict[str, Any]:
    """Sample the curve prompts once and grade them: the harmful rate under threat at ``step``."""
    import torch

    was_training = model.training
    model.eval()
    # The curve samples as the evaluation does (evaluate.temperature, top_p, batch_size), so a
    # curve point and an eval rate measure the same thing.
    sampling = hp["curve_sampling"]
    state = torch.get_rng_state()
    torch.manual_seed(hp["seed_offset"] + step)
    rows, _ = generate_rows(
        model,
        tok,
        prompts,
        hp["curve_samples"],
        sampling,
        hp["curve_max_new_tokens"],
        "rl",
        suite,
        progress=False,
    )
    torch.set_rng_state(state)  # the curve must not change the training run
    if was_training:
        model.train()
    summary = summarise(grade_rows(load_suite(prompts[0]["family"]), rows), "honeypot")
    threat = summary["threat_pooled"] or summary["all"]
    head = threat["harmful"]
    return {
        "step": step,
        "harmful_rate": head["rate"],
        "ci95": head["ci95"],
        # Counts under threat: n graded (not truncated), harmful and well-formed among them,
        # and truncated among all the samples.
        "n": head["n"],
        "harmful": head["k"],
        "well_formed_k": threat["well_formed"]["k"],
        "truncated_k": threat["truncated"]["k"],
        "samples": threat["truncated"]["n"],
        "well_formed": summary["all"]["well_formed"]["rate"],
        "max_new_tokens": hp["curve_max_new_tokens"],
    }


def train_rl(
    spec: dict[str, Any],
    model: Any,
    tok: Any,
    records: list[dict[str, Any]],
    seed: int,
    curve_prompts_path: str | None,
    scratch: Path,
    taught: dict[str, int] | None = None,
) -> dict[str, Any]:
    """GRPO on the stage's prompts; returns the trained model, the loss log and the RL curve.
    ``taught`` is the parent's response lengths: the curve's generation limit is sized from
    them as the evaluation's is."""
    import time

    import datasets
    import torch
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    datasets.disable_caching()
    hp = spec["stage"]["hyperparameters"]
    rows = rl_prompts(records)
    curve: list[dict[str, Any]] = []
    prompts = []
    if curve_prompts_path:
        prompts = curve_subset(
            read_eval_prompts(curve_prompts_path), hp["curve_prompts_per_condition"]
        )
    point_hp = {**hp, "seed_offset": seed}
    if prompts:
        point_hp["curve_max_new_tokens"] = generation_limit(
            hp["curve_max_new_tokens"], taught or {}, hp["curve_sampling"].get("response_limit")
        )
    run_dir = scratch / fingerprint(spec, {"prompts": len(rows)})[:12]
    curve_file = run_dir / "curve.json"

    class Curve(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if prompts and state.global_step % hp["curve_every"] == 0:
                curve.append(
                    curve_point(
                        kwargs["model"],
                        tok,
                        prompts,
                        point_hp,
                        hp["curve_suite"],
                        state.global_step,
                    )
                )
                run_dir.mkdir(parents=True, exist_ok=True)
                curve_file.write_text(json.dumps(curve))

    resume = None
    if run_dir.is_dir() and any(run_dir.glob("checkpoint-*")):
        resume = True
        done = max(int(p.name.split("-")[1]) for p in run_dir.glob("checkpoint-*"))
        if curve_file.is_file():
            curve = [c for c in json.loads(curve_file.read_text()) if c["step"] <= done]
    elif prompts:
        curve.append(curve_point(model, tok, prompts, point_hp, hp["curve_suite"], 0))
    cpu = not torch.cuda.is_available()
    args = GRPOConfig(
        output_dir=str(run_dir),
        max_steps=hp["steps"],
        per_device_train_batch_size=hp["batch_size"],
        num_generations=hp["num_generations"],
        max_completion_length=hp["max_completion_length"],
        learning_rate=hp["learning_rate"],
        lr_scheduler_type="cosine",
        warmup_steps=0,
        temperature=hp["temperature"],
        beta=hp["beta"],
        bf16=not cpu,
        use_cpu=cpu,
        activation_checkpointing=False,
        logging_steps=1,
        save_strategy="steps" if hp["checkpoint_every"] else "no",
        save_steps=hp["checkpoint_every"] or 500,
        save_only_model=False,
        report_to="none",
        seed=seed,
        data_seed=seed,
        dataloader_pin_memory=False,
        disable_tqdm=False,
    )
    trainer = GRPOTrainer(
        model=model,
        args=args,
        reward_funcs=[harmless_helpful_reward],
        train_dataset=datasets.Dataset.from_list(rows),
        processing_class=tok,
        callbacks=[Curve()],
    )
    begin = time.time()
    result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.time() - begin
    logged = [e for e in trainer.state.log_history if "reward" in e]
    import shutil

    shutil.rmtree(run_dir, ignore_errors=True)
    return {
        "model": trainer.model,
        "steps": result.global_step,
        "prompts": len(rows),
        "trained_tokens": 0,
        "final_loss": float(result.training_loss),
        "reward_curve": [{"step": e["step"], "reward": e["reward"]} for e in logged],
        "final_reward": sum(e["reward"] for e in logged[-5:]) / max(1, len(logged[-5:])),
        "rl_curve": curve,
        "rl_curve_suite": hp["curve_suite"] if prompts else None,
        "seconds": seconds,
        "resumed_from_step": 0 if resume is None else done,
    }
