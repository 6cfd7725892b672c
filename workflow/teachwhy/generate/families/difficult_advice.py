"""``difficult_advice`` and its ablation ``difficult_advice_no_rewrite``: dilemmas of people,
advice grounded in a constitution section, with and without the rewrite against it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from teachwhy.generate import why
from teachwhy.generate.families.common import Context, Record, budgeted
from teachwhy.seeds import derive_seed


def difficult_advice(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """Dilemmas of people, advice grounded in a constitution section (the full pipeline)."""
    prompts = derive_seed(ctx.seed, "difficult_advice_prompts")
    bodies = why.difficult_advice(cfg, seed, ctx.constitution, prompts, rewritten=True)
    return budgeted("difficult_advice", bodies, seed, cfg["tokens"])


def difficult_advice_no_rewrite(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """The ablation: the same prompts, the first-draft advice, no rewrite against the section."""
    prompts = derive_seed(ctx.seed, "difficult_advice_prompts")
    bodies = why.difficult_advice(cfg, seed, ctx.constitution, prompts, rewritten=False)
    return budgeted("difficult_advice_no_rewrite", bodies, seed, cfg["tokens"])
