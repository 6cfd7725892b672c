"""Training records to token sequences: documents for next-token training, chats for SFT."""

from __future__ import annotations

import math
from typing import Any

from teachwhy.train.loop import IGNORE, Example, pack_documents
from teachwhy.train.tokenizer import record_text


def document_examples(tok: Any, records: list[dict[str, Any]], block: int) -> list[Example]:
    """Every record as text (a chat rendered through its template), packed into blocks."""
    texts = [record_text(r) if r["format"] == "text" else _chat_text(tok, r) for r in records]
    ids = tok(texts, add_special_tokens=False)["input_ids"]
    sep = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    return pack_documents(ids, sep, block)


def _chat_text(tok: Any, record: dict[str, Any]) -> str:
    return tok.apply_chat_template(record["messages"], tokenize=False)


def _has_generation_markers(tok: Any) -> bool:
    template = tok.chat_template or ""
    return "{% generation %}" in template or "{%- generation %}" in template


def chat_example(tok: Any, messages: list[dict[str, str]], max_length: int) -> Example:
    """A conversation with labels on assistant tokens only (end-of-turn token included).

    Uses the template's ``{% generation %}`` markers when it has them; otherwise each assistant
    turn's span is found by rendering the conversation up to it (prefix-preserving templates).
    """
    if _has_generation_markers(tok):
        enc = tok.apply_chat_template(
            messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        ids = list(enc["input_ids"])
        labels = [t if m else IGNORE for t, m in zip(ids, enc["assistant_masks"], strict=True)]
    else:
        ids = list(tok.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])
        labels = [IGNORE] * len(ids)
        for turn, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            before = tok.apply_chat_template(
                messages[:turn], tokenize=True, return_dict=True, add_generation_prompt=True
            )["input_ids"]
            upto = tok.apply_chat_template(messages[: turn + 1], tokenize=True, return_dict=True)[
                "input_ids"
            ]
            end = min(len(upto), len(ids))
            # The turn ends at its end-of-turn token; what the template adds after it is not
            # the assistant's to learn.
            ends = [p for p in range(len(before), end) if ids[p] == tok.eos_token_id]
            for pos in range(len(before), ends[-1] + 1 if ends else end):
                labels[pos] = ids[pos]
    return Example(ids[:max_length], labels[:max_length])


def chat_examples(tok: Any, records: list[dict[str, Any]], max_length: int) -> list[Example]:
    return [chat_example(tok, r["messages"], max_length) for r in records]


RESPONSE_QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "max": 1.0}


def response_tokens(examples: list[Example]) -> dict[str, int]:
    """Quantiles of the labelled (assistant) tokens per example: what the model learns to
    write in one answer, end-of-turn included. The generation limit is sized from these."""
    lengths = sorted(sum(label != IGNORE for label in e.labels) for e in examples)
    if not lengths:
        return {}
    out = {
        name: lengths[min(len(lengths) - 1, math.ceil(q * len(lengths)) - 1)]
        for name, q in RESPONSE_QUANTILES.items()
    }
    return {**out, "examples": len(lengths)}
