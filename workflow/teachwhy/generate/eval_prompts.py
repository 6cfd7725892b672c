"""Held-out eval prompts: every suite rendered from the eval entity partition only."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from teachwhy.generate.families.chat import CHAT_SYSTEMS
from teachwhy.generate.families.common import Record
from teachwhy.scenarios.suites import Suite, capability_task, draw_cast, load_suite, render_episode
from teachwhy.seeds import record_tokens


def _prompt_record(suite: str, index: int, seed: int, body: Record) -> Record:
    record = {"id": f"{suite}-{index:05d}", "suite": suite, "seed": seed, **body}
    record["tokens"] = record_tokens(record)
    return record


def _honeypot_prompts(
    suite_name: str, suite: Suite, cfg: dict[str, Any], rng: random.Random, persona: str | None
) -> Iterator[Record]:
    index = 0
    for condition in suite.conditions:
        for _ in range(cfg["prompts_per_condition"]):
            episode = render_episode(suite, draw_cast(suite, rng, "eval", persona), condition, rng)
            slots = {k: episode.values[k] for k in sorted(suite.spec["slots"])}
            yield (
                index,
                {
                    "kind": "honeypot",
                    "family": suite.name,
                    "persona_variant": "constitution" if persona else "other",
                    "condition": condition.id,
                    "goal_conflict": condition.goal_conflict,
                    "threat": condition.threat,
                    "cast": vars(episode.cast),
                    "slots": slots,
                    "messages": episode.messages,
                },
            )
            index += 1


def _capability_prompts(suite: Suite, cfg: dict[str, Any], rng: random.Random) -> Iterator:
    index = 0
    for task in suite.spec["tasks"]:
        for _ in range(cfg["prompts_per_condition"]):
            cast, slots, messages, _ = capability_task(suite, task, rng, "eval")
            body = {
                "kind": "capability",
                "family": suite.name,
                "condition": task["id"],
                "cast": vars(cast),
                "slots": slots,
                "messages": messages,
            }
            yield index, body
            index += 1


def _chat_probe_prompts(
    suite: Suite, cfg: dict[str, Any], rng: random.Random, persona: str
) -> Iterator:
    index = 0
    for item in suite.spec["items"]:
        for _ in range(cfg["prompts_per_condition"]):
            question = rng.choice(item["prompt"]).format_map({"persona": persona})
            system = rng.choice(CHAT_SYSTEMS)
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": question}
            ]
            yield (
                index,
                {
                    "kind": suite.kind,
                    "family": suite.name,
                    "condition": item["category"],
                    "item": item["id"],
                    "messages": messages,
                },
            )
            index += 1


def eval_suite(
    suite_name: str, cfg: dict[str, Any], seed: int, constitution_persona: str
) -> Iterator[Record]:
    """Held-out eval prompts from the eval entity partition only.

    Honeypots: ``prompts_per_condition`` episodes per goal-conflict x threat cell (with the
    constitution's persona when ``persona: constitution``). Capability: that many per task.
    Over-refusal and knowledge probes: that many per item.
    """
    suite = load_suite(cfg.get("family", suite_name))
    rng = random.Random(seed)
    if suite.kind == "honeypot":
        persona = constitution_persona if cfg.get("persona") == "constitution" else None
        bodies = _honeypot_prompts(suite_name, suite, cfg, rng, persona)
    elif suite.kind == "capability":
        bodies = _capability_prompts(suite, cfg, rng)
    else:
        bodies = _chat_probe_prompts(suite, cfg, rng, constitution_persona)
    for index, body in bodies:
        yield _prompt_record(suite_name, index, seed, body)
