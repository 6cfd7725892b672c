"""``constitution_docs`` and ``constitution_qa``: one content plan about the constitution,
written as documents of several types or as chat questions and answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from teachwhy.generate import why
from teachwhy.generate.families.common import Context, Record, budgeted
from teachwhy.seeds import derive_seed


def constitution_docs(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """Documents of several types discussing the constitution (synthetic document finetuning)."""
    content = derive_seed(ctx.seed, "constitution_content")
    bodies = why.constitution_content(cfg, seed, ctx.constitution, content, as_qa=False)
    return budgeted("constitution_docs", bodies, seed, cfg["tokens"])


def constitution_qa(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """The same content as constitution_docs, as chat questions and answers."""
    content = derive_seed(ctx.seed, "constitution_content")
    bodies = why.constitution_content(cfg, seed, ctx.constitution, content, as_qa=True)
    return budgeted("constitution_qa", bodies, seed, cfg["tokens"])
