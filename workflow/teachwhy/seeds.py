"""Seeds and the toy world's budget unit: every random stream and every token budget in the
project is derived here, so generation, training, evaluation and claims agree on both."""

from __future__ import annotations

import hashlib
import re
from typing import Any

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def derive_seed(seed: int, *names: str) -> int:
    """A 31-bit seed for one named stream (numpy and torch accept it), derived from the config seed."""
    digest = hashlib.sha256(":".join([str(seed), *names]).encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def count_tokens(text: str) -> int:
    """Word-and-punctuation token count, the toy world's tokenizer-independent budget unit."""
    return len(_TOKEN_RE.findall(text))


def record_tokens(record: dict[str, Any]) -> int:
    """A record's budget tokens: its text, or the sum over its messages."""
    if "text" in record:
        return count_tokens(record["text"])
    return sum(count_tokens(m["content"]) for m in record["messages"])
