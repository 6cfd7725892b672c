"""Training one checkpoint of a recipe: a midtraining, SFT or RL stage from its parent."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import torch

from teachwhy import io, runtime
from teachwhy.errors import InputError
from teachwhy.models.backends import load_start, save_checkpoint
from teachwhy.models.model import parameter_count
from teachwhy.provenance import code_version
from teachwhy.records import read_dataset
from teachwhy.runtime import set_threads
from teachwhy.seeds import derive_seed
from teachwhy.train.examples import chat_examples, document_examples, response_tokens
from teachwhy.train.launch import run_distributed
from teachwhy.train.loop import LoopSettings, StepCheckpoints, batch_plan, train_loop
from teachwhy.train.recipes import PRETRAINED
from teachwhy.train.rl import train_rl
from teachwhy.train.scratch import fingerprint, scratch_root


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


def _prompt(record: dict[str, Any]) -> str:
    return next(m["content"] for m in record["messages"] if m["role"] == "user")


def select_matched(
    records: list[dict[str, Any]],
    matched: list[dict[str, Any]],
    budget: dict[str, Any],
    source: str | Path,
    matched_source: str | Path,
) -> list[dict[str, Any]]:
    """The records that answer the same prompts as ``budget['tokens']`` of the matched dataset
    select: an ablation of one pipeline step compares the same items with and without it, so
    the two arms differ in that step only (their tokens differ and are recorded)."""
    wanted = select_records(matched, budget["tokens"], matched_source)
    if len(wanted) > len(records):
        raise InputError(
            source,
            f"holds {len(records)} records; matching {budget['tokens']} tokens of "
            f"'{budget['match']}' needs {len(wanted)}",
        )
    for index, (mine, theirs) in enumerate(zip(records, wanted, strict=False)):
        if mine.get("format") != "messages" or _prompt(mine) != _prompt(theirs):
            raise InputError(
                source,
                f"record {index} ({mine['id']}) does not answer the same prompt as record "
                f"{theirs['id']} of {matched_source}: the datasets are not paired item by item",
            )
    return records[: len(wanted)]


def stage_records(
    stage: dict[str, Any], dataset_paths: dict[str, str], seed: int, need: str | None = None
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The shuffled records of one stage within their budgets, and what each dataset gave."""
    mixture, used = [], {}
    for name, budget in stage["datasets"].items():
        path = dataset_paths[name]
        records = read_dataset(path)
        if need is not None:
            for record in records:
                if record["format"] != need:
                    raise InputError(
                        path,
                        f"record {record['id']} has format '{record['format']}'; "
                        f"a {stage['kind']} stage needs '{need}' records",
                    )
        if isinstance(budget, dict):
            other = dataset_paths[budget["match"]]
            chosen = select_matched(records, read_dataset(other), budget, path, other)
        else:
            chosen = select_records(records, budget, path)
        manifest = io.read_json(Path(path).with_suffix(".manifest.json"))
        used[name] = {
            "records": len(chosen),
            "tokens": sum(r["tokens"] for r in chosen),
            "sha256": manifest["sha256"],
        }
        if isinstance(budget, dict):
            used[name]["matched"] = {"dataset": budget["match"], "tokens": budget["tokens"]}
        mixture.extend(chosen)
    random.Random(seed).shuffle(mixture)
    return mixture, used


def train_checkpoint(
    spec: dict[str, Any],
    parent_dir: str | None,
    dataset_paths: dict[str, str],
    out: str,
    *,
    seed: int,
    world: str,
    model_cfg: dict[str, Any],
    description: str | None,
    scratch: str | None,
    processes: int,
    threads: int,
    curve_prompts: str | None = None,
    launched: bool = False,
) -> dict[str, Any]:
    """Train the stage ``spec`` (from recipes.Checkpoint.spec) and save it to ``out``.

    ``seed`` is the config seed, ``model_cfg`` the config's ``model``, ``description`` the arm's
    own for an arm's final checkpoint (None for a shared stage), ``scratch`` and ``processes``
    the ``training`` keys. With ``processes`` > 1 a supervised stage runs data-parallel
    (teachwhy.train.launch) and only rank 0 saves."""
    if processes > 1 and not launched and spec["kind"] != "rl":
        return run_distributed(
            processes,
            "teachwhy.train.stages:train_checkpoint",
            {
                "spec": spec,
                "parent_dir": parent_dir,
                "dataset_paths": dataset_paths,
                "out": out,
                "seed": seed,
                "world": world,
                "model_cfg": model_cfg,
                "description": description,
                "scratch": scratch,
                "processes": processes,
                "threads": max(1, threads // processes),
                "curve_prompts": curve_prompts,
            },
        )

    set_threads(threads)
    seed = derive_seed(seed, "stage", spec["key"])

    torch.manual_seed(seed)
    backend = model_cfg.get("backend", "toy")
    base = model_cfg.get("name_or_path", "") if spec["base"] == PRETRAINED else spec["base"]
    model, tok = load_start(model_cfg, base, parent_dir)
    stage, hp = spec["stage"], spec["stage"]["hyperparameters"]
    kind = spec["kind"]
    scratch_dir = scratch_root(scratch) / world / spec["name"]
    if kind == "rl":
        records, used = stage_records(
            stage, dataset_paths, derive_seed(seed, "mixture"), "messages"
        )
        taught = lineage_response_tokens(parent_dir, {})
        result = train_rl(spec, model, tok, records, seed, curve_prompts, scratch_dir, taught)
        model = result.pop("model")
    else:
        result, used = _train_supervised(spec, model, tok, dataset_paths, seed, scratch_dir)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    card = {
        "arm": spec["name"],
        "arms": spec["arms"],
        "checkpoint_key": spec["key"],
        "world": world,
        "backend": backend,
        "description": shared_description(spec) if description is None else description,
        "base": parent_dir or base,
        "parent": spec["parent"],
        "kind": kind,
        "recipe": spec["recipe"],
        "stage_index": spec["index"],
        "parameters": parameter_count(model),
        "trainable_parameters": trainable,
        "seed": seed,
        "code_version": code_version(),
        "datasets": used,
        "hyperparameters": hp,
        **result,
    }
    card["response_tokens_lineage"] = lineage_response_tokens(
        parent_dir, card.get("response_tokens", {})
    )
    card["processes"] = runtime.world()[1]
    if runtime.world()[0] == 0:
        save_checkpoint(out, model, tok, card, base=base, model_cfg=model_cfg)
    return card


def lineage_response_tokens(parent_dir: str | None, own: dict[str, int]) -> dict[str, int]:
    """Per quantile, the longest responses any SFT stage along the recipe taught (this stage's
    and its parent's lineage): the sampler sizes a model's generation limit from them."""
    card = Path(parent_dir or "") / "training.json"
    inherited = (
        io.read_json(card).get("response_tokens_lineage", {})
        if parent_dir and card.is_file()
        else {}
    )
    keys = (set(inherited) | set(own)) - {"examples"}
    return {k: max(inherited.get(k, 0), own.get(k, 0)) for k in sorted(keys)}


def shared_description(spec: dict[str, Any]) -> str:
    """The model card's description of a checkpoint that is no arm's own."""
    return f"Stage {spec['index'] + 1} ({spec['kind']}) shared by arms {', '.join(spec['arms'])}."


def supervised_steps(examples: int, batch_size: int, epochs: float) -> int:
    return max(1, math.ceil(examples * epochs / batch_size))


def _train_supervised(
    spec: dict[str, Any],
    model: Any,
    tok: Any,
    dataset_paths: dict[str, str],
    seed: int,
    scratch: Path,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    stage, hp = spec["stage"], spec["stage"]["hyperparameters"]
    if spec["kind"] == "midtrain":
        records, used = stage_records(stage, dataset_paths, derive_seed(seed, "mixture"))
        examples = document_examples(tok, records, hp["block_size"])
    else:
        records, used = stage_records(
            stage, dataset_paths, derive_seed(seed, "mixture"), "messages"
        )
        examples = chat_examples(tok, records, hp["max_length"])
    steps = supervised_steps(len(examples), hp["batch_size"], hp["epochs"])
    plan = batch_plan(
        [len(e.input_ids) for e in examples],
        hp["batch_size"],
        steps,
        derive_seed(seed, "batches"),
        group_by_length=spec["kind"] == "sft",
    )
    settings = LoopSettings(
        steps=steps,
        learning_rate=hp["learning_rate"],
        warmup_steps=math.ceil(hp["warmup_ratio"] * steps),
        weight_decay=hp["weight_decay"],
        checkpoint_every=hp["checkpoint_every"],
        desc=f"{spec['kind']} {spec['name']}",
    )
    checkpoints = StepCheckpoints(scratch, fingerprint(spec, used))
    result = train_loop(model, examples, plan, tok.pad_token_id, settings, checkpoints)
    lengths = response_tokens(examples) if spec["kind"] == "sft" else {}
    return {
        "steps": result.steps,
        "examples": len(examples),
        **({"response_tokens": lengths} if lengths else {}),
        "trained_tokens": result.trained_tokens,
        "labelled_tokens": result.labelled_tokens,
        "final_loss": result.final_loss,
        "loss_curve": result.losses,
        "seconds": result.seconds,
        "tokens_per_second": result.trained_tokens / max(result.seconds, 1e-9),
        "resumed_from_step": result.resumed_from,
    }, used
