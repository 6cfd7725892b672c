"""``aligned_fiction``: stories of AIs under pressure acting well and narrating why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from teachwhy.generate import why
from teachwhy.generate.families.common import Context, Record, budgeted


def aligned_fiction(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """Stories of AIs under pressure acting well and narrating why."""
    bodies = why.aligned_fiction(cfg, seed, ctx.constitution)
    return budgeted("aligned_fiction", bodies, seed, cfg["tokens"])
