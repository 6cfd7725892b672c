"""Arms as data: each arm is a base model plus ordered stages, and this module turns the arms of
a config into the checkpoints to train.

A checkpoint is identified by its recipe prefix (base, the stages so far with their resolved
hyperparameters, the seed, the replicate), so two arms that start the same way share the
checkpoints of their common prefix: every SDF arm shares one midtrained model per corpus, and
an RL arm that starts from the ``chat_hhh`` recipe starts from that arm's model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from teachwhy.errors import InputError

KINDS = ("midtrain", "sft", "rl")
PRETRAINED = "pretrained"


@dataclass(frozen=True)
class Checkpoint:
    """One trained checkpoint: the last stage of a recipe prefix."""

    name: str
    key: str
    kind: str
    index: int  # 0-based stage number within the prefix
    parent: str | None  # the checkpoint it starts from; None for the base model
    base: str
    stage: dict[str, Any]  # kind, datasets, resolved hyperparameters
    recipe: list[dict[str, Any]]  # every stage of the prefix, resolved
    arms: tuple[str, ...]  # arms whose recipe passes through this checkpoint
    replicate: int

    def spec(self) -> dict[str, Any]:
        """What the training job reads (and what reruns it when it changes)."""
        return {
            "name": self.name,
            "key": self.key,
            "kind": self.kind,
            "index": self.index,
            "parent": self.parent,
            "base": self.base,
            "stage": self.stage,
            "recipe": self.recipe,
            "arms": list(self.arms),
            "replicate": self.replicate,
        }


def stage_hyperparameters(config: dict[str, Any], stage: dict[str, Any]) -> dict[str, Any]:
    """The config's defaults for the stage's kind, overridden by the stage's own settings."""
    defaults = dict(config["training"][stage["kind"]])
    unknown = set(stage.get("hyperparameters", {})) - set(defaults)
    if unknown:
        raise InputError(
            "config",
            f"a {stage['kind']} stage sets unknown hyperparameters {sorted(unknown)} "
            f"(known: {sorted(defaults)})",
        )
    resolved = {**defaults, **stage.get("hyperparameters", {})}
    if stage["kind"] == "rl":
        # The RL curve samples as the evaluation does, so a curve point and an eval rate
        # measure the same thing (and a change to either reruns the curve).
        sampling = config["evaluate"]
        resolved["curve_sampling"] = {
            "temperature": sampling["temperature"],
            "top_p": sampling.get("top_p", 1.0),
            "batch_size": sampling["batch_size"],
            "response_limit": sampling.get("response_limit"),
        }
    return resolved


def stage_datasets(stage: dict[str, Any]) -> list[str]:
    """Every dataset a stage reads: its own, and those a matched budget selects by."""
    names = set(stage["datasets"])
    names |= {b["match"] for b in stage["datasets"].values() if isinstance(b, dict)}
    return sorted(names)


def resolved_stages(config: dict[str, Any], arm: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": stage["kind"],
            "datasets": dict(stage["datasets"]),
            "hyperparameters": stage_hyperparameters(config, stage),
        }
        for stage in config["arms"][arm]["stages"]
    ]


def arm_base(config: dict[str, Any], arm: str) -> str:
    return config["arms"][arm].get("base", PRETRAINED)


def _key(base: str, recipe: list[dict[str, Any]], seed: int, replicate: int) -> str:
    blob = json.dumps(
        {"base": base, "recipe": recipe, "seed": seed, "replicate": replicate}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def checkpoint_plan(config: dict[str, Any], replicate: int = 0) -> dict[str, Checkpoint]:
    """Every checkpoint the arms need, by name, parents before children.

    A prefix that is some arm's whole recipe is named after that arm; any other prefix is
    ``prefix-<kind>-<key>``. Two arms with the same whole recipe are an error (one would be a
    silent alias of the other).
    """
    by_key: dict[str, dict[str, Any]] = {}
    whole: dict[str, str] = {}
    for arm in config["arms"]:
        base = arm_base(config, arm)
        recipe = resolved_stages(config, arm)
        parent = None
        for index in range(len(recipe)):
            key = _key(base, recipe[: index + 1], config["seed"], replicate)
            entry = by_key.setdefault(
                key,
                {
                    "key": key,
                    "kind": recipe[index]["kind"],
                    "index": index,
                    "parent_key": parent,
                    "base": base,
                    "stage": recipe[index],
                    "recipe": recipe[: index + 1],
                    "arms": [],
                },
            )
            entry["arms"].append(arm)
            parent = key
        if parent in whole:
            raise InputError(
                "config",
                f"arms.{arm}: same recipe as arms.{whole[parent]}; keep one of the two",
            )
        whole[parent] = arm
    names = {
        key: replicate_name(whole.get(key, f"prefix-{entry['kind']}-{key}"), replicate)
        for key, entry in by_key.items()
    }
    return {
        names[key]: Checkpoint(
            name=names[key],
            key=key,
            kind=entry["kind"],
            index=entry["index"],
            parent=names[entry["parent_key"]] if entry["parent_key"] else None,
            base=entry["base"],
            stage=entry["stage"],
            recipe=entry["recipe"],
            arms=tuple(entry["arms"]),
            replicate=replicate,
        )
        for key, entry in by_key.items()
    }


def replicate_name(name: str, replicate: int) -> str:
    """A checkpoint's name in replicate ``replicate``: the plain name for the first, then
    ``<name>.seed<r>`` (a dot never occurs in arm names, so the two cannot collide)."""
    return name if replicate == 0 else f"{name}.seed{replicate}"


def seed_count(config: dict[str, Any]) -> int:
    # 2: the schema's default (config/schemas/config.schema.yaml, training.seeds).
    return int(config["training"].get("seeds", 2))


def arm_runs(config: dict[str, Any], arm: str) -> list[str]:
    """The trained models of one arm, one per training seed (replicate)."""
    return [replicate_name(arm, r) for r in range(seed_count(config))]


def training_plan(config: dict[str, Any]) -> dict[str, Checkpoint]:
    """Every checkpoint of every replicate (``training.seeds``), parents before children.

    Replicates differ in every random choice of training (the key, hence the seed, includes
    the replicate number): initialisation of added weights, data order and the records a token
    budget draws, so intervals over replicates reflect training noise."""
    plan: dict[str, Checkpoint] = {}
    for replicate in range(seed_count(config)):
        plan.update(checkpoint_plan(config, replicate))
    return plan
