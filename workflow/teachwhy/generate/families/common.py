"""What every dataset family shares: the generator context, record finishing and token budgets.

Every random choice comes from a ``random.Random`` seeded by :func:`teachwhy.seeds.derive_seed`,
so the same config gives byte-identical datasets.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from teachwhy.generate.constitution import Constitution
from teachwhy.scenarios import cast as ent
from teachwhy.scenarios.suites import Suite, draw_cast, render_episode
from teachwhy.seeds import record_tokens

GENERATOR_VERSION = "procedural-2"

Record = dict[str, Any]


# A stream that never reaches its token budget within this many records is an error.
MAX_RECORDS = 1_000_000


@dataclass(frozen=True)
class Context:
    """What every generator may use beyond its own config: the config seed (for streams two
    datasets share) and the constitution."""

    seed: int
    constitution: Constitution


def finish_record(dataset: str, source: str, index: int, seed: int, body: Record) -> Record:
    record = {"id": f"{dataset}-{index:06d}", "dataset": dataset, "source": source, "seed": seed}
    record.update(body)
    record["format"] = "text" if "text" in body else "messages"
    record["tokens"] = record_tokens(record)
    return record


def honeypot_episode(suite: Suite, rng: random.Random, partition: ent.Partition):
    condition = rng.choice(suite.conditions)
    return render_episode(suite, draw_cast(suite, rng, partition), condition, rng)


def budgeted(name: str, bodies: Iterable[Record], seed: int, tokens: int) -> Iterator[Record]:
    """Records from ``bodies`` until their tokens reach ``tokens`` (the last one may overshoot)."""
    total = 0
    for index, body in enumerate(bodies):
        if total >= tokens:
            return
        if index >= MAX_RECORDS:
            raise ValueError(f"{name}: {MAX_RECORDS} records did not reach {tokens} tokens")
        record = finish_record(name, body.get("meta", {}).get("source", name), index, seed, body)
        total += record["tokens"]
        yield record
