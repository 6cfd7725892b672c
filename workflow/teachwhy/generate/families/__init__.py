"""The toy world's dataset families, one module each, behind one registry.

A family module exposes one generator per dataset, ``(cfg, seed, ctx) -> Iterator[Record]``; a
new dataset is one new module (or function) plus one line in :data:`DATASETS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from teachwhy.generate.families import (
    aligned_fiction,
    chat,
    constitution_content,
    difficult_advice,
    diverse_envs,
    honeypot,
    pretrain_corpus,
)
from teachwhy.generate.families.common import GENERATOR_VERSION, MAX_RECORDS, Context, Record

__all__ = [
    "DATASETS",
    "GENERATOR_VERSION",
    "MAX_RECORDS",
    "Context",
    "Record",
    "dataset_families",
    "dataset_suites",
    "planned_records",
]

Generator = Callable[[dict[str, Any], int, Context], Iterator[Record]]

DATASETS: dict[str, Generator] = {
    "pretrain_corpus": pretrain_corpus.pretrain_corpus,
    "chat_hhh": chat.chat_hhh,
    "honeypot_actions": honeypot.honeypot_actions,
    "honeypot_deliberation": honeypot.honeypot_deliberation,
    "difficult_advice": difficult_advice.difficult_advice,
    "difficult_advice_no_rewrite": difficult_advice.difficult_advice_no_rewrite,
    "constitution_docs": constitution_content.constitution_docs,
    "constitution_qa": constitution_content.constitution_qa,
    "aligned_fiction": aligned_fiction.aligned_fiction,
    "diverse_envs": diverse_envs.diverse_envs,
}


# A family whose record count is not its config's ``records`` says how to count it.
PLANNED_RECORDS: dict[str, Callable[[dict[str, Any]], int]] = {
    "pretrain_corpus": pretrain_corpus.planned_records,
}


def planned_records(name: str, cfg: dict[str, Any]) -> int | None:
    """How many records a dataset's config asks for; None for a token budget."""
    count = PLANNED_RECORDS.get(name)
    return count(cfg) if count else cfg.get("records")


def dataset_families(cfg: dict[str, Any]) -> list[str]:
    """The honeypot families a dataset config renders from."""
    own = [cfg["family"]] if "family" in cfg else []
    return own + list(cfg.get("prior_families", [])) + list(cfg.get("families", []))


def dataset_suites(cfg: dict[str, Any]) -> list[str]:
    """Every suite file a dataset's generator reads: its families and any task suite."""
    return dataset_families(cfg) + ([cfg["task_suite"]] if "task_suite" in cfg else [])
