"""Dataset and eval-prompt records read back from disk, each checked against its schema (errors
name the file and line): what training, evaluation and the tokenizer read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teachwhy import io
from teachwhy.schemas import problems


def _record_problem(schema: str):
    def check(record: dict[str, Any]) -> str | None:
        found = problems(record, schema)
        return found[0] if found else None

    return check


def read_dataset(path: str | Path) -> list[dict[str, Any]]:
    """A dataset's records, each checked against the record schema (errors name the line)."""
    return io.read_jsonl(path, _record_problem("record"))


def read_eval_prompts(path: str | Path) -> list[dict[str, Any]]:
    return io.read_jsonl(path, _record_problem("eval_prompt"))
