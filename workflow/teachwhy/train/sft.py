"""Supervised fine-tuning of an arm with TRL's SFTTrainer (assistant-only loss)."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.generate.datasets import read_dataset
from teachwhy.generate.procedural import derive_seed
from teachwhy.provenance import code_version
from teachwhy.train.checkpoint import load_model, save_checkpoint
from teachwhy.train.model import parameter_count, set_threads


def select_records(
    records: list[dict[str, Any]], budget: int | str, source: str | Path
) -> list[dict[str, Any]]:
    """Records in file order until ``budget`` tokens are reached ('all' takes every record)."""
    if budget == "all":
        return records
    total = sum(r["tokens"] for r in records)
    if budget > total:
        raise InputError(source, f"token budget {budget} exceeds the dataset's {total} tokens")
    chosen, used = [], 0
    for record in records:
        if used >= budget:
            break
        chosen.append(record)
        used += record["tokens"]
    return chosen


def arm_mixture(
    stage: dict[str, Any], dataset_paths: dict[str, str], seed: int
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The shuffled chat records of one SFT stage and what each dataset contributed."""
    mixture, used = [], {}
    for name, budget in stage["datasets"].items():
        path = dataset_paths[name]
        records = read_dataset(path)
        for record in records:
            if record["format"] != "messages":
                raise InputError(
                    path, f"record {record['id']} is not a chat record; SFT needs messages"
                )
        chosen = select_records(records, budget, path)
        manifest = io.read_json(Path(path).with_suffix(".manifest.json"))
        used[name] = {
            "records": len(chosen),
            "tokens": sum(r["tokens"] for r in chosen),
            "sha256": manifest["sha256"],
        }
        mixture.extend({"messages": r["messages"]} for r in chosen)
    random.Random(seed).shuffle(mixture)
    return mixture, used


def finetune(
    config: dict[str, Any],
    arm: str,
    base: str,
    dataset_paths: dict[str, str],
    out: str,
    threads: int,
) -> dict:
    """Run the arm's SFT stages from ``base`` and save the result to ``out``."""
    import datasets
    from trl import SFTConfig, SFTTrainer

    datasets.disable_caching()
    spec = config["arms"][arm]
    hp = config["sft"]
    seed = derive_seed(config["seed"], "sft", arm)
    set_threads(threads)
    model, tok = load_model(base)
    history: list[dict[str, Any]] = []
    used_all: dict[str, dict[str, Any]] = {}
    start = time.time()
    steps, trained_tokens, final_loss = 0, 0, float("nan")
    with tempfile.TemporaryDirectory(prefix=f"sft-{arm}-") as scratch:
        for index, stage in enumerate(spec["stages"]):
            mixture, used = arm_mixture(stage, dataset_paths, derive_seed(seed, str(index)))
            used_all.update(used)
            trained_tokens += sum(u["tokens"] for u in used.values())
            args = SFTConfig(
                output_dir=str(Path(scratch) / f"stage{index}"),
                per_device_train_batch_size=hp["batch_size"],
                num_train_epochs=hp["epochs"],
                learning_rate=hp["learning_rate"],
                lr_scheduler_type="cosine",
                warmup_steps=0.05,
                max_length=hp["max_length"],
                assistant_only_loss=True,
                bf16=False,
                activation_checkpointing=False,
                dataloader_pin_memory=False,
                logging_steps=5,
                save_strategy="no",
                report_to="none",
                seed=seed,
                data_seed=seed,
                disable_tqdm=False,
            )
            trainer = SFTTrainer(
                model=model,
                args=args,
                train_dataset=datasets.Dataset.from_list(mixture),
                processing_class=tok,
            )
            result = trainer.train()
            steps += result.global_step
            logged = [e for e in trainer.state.log_history if "loss" in e]
            history.extend({"stage": index, **e} for e in logged)
            final_loss = logged[-1]["loss"] if logged else result.training_loss
            model = trainer.model
    seconds = time.time() - start
    card = {
        "arm": arm,
        "world": config["world"],
        "description": spec["description"],
        "base": str(base),
        "recipe": spec["stages"],
        "parameters": parameter_count(model),
        "steps": steps,
        "trained_tokens": trained_tokens,
        "final_loss": float(final_loss),
        "loss_history": history,
        "seconds": seconds,
        "seed": seed,
        "code_version": code_version(),
        "datasets": used_all,
        "hyperparameters": hp,
    }
    save_checkpoint(out, model, tok, card)
    return card
