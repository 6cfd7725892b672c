"""``teachwhy audit PATH``: the lineage of a result, with every recorded hash checked on disk."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teachwhy.errors import InputError
from teachwhy.provenance.records import PROVENANCE_ROOT, hash_path


@dataclass
class Mismatch:
    step: str
    path: str
    recorded: str | None
    found: str | None
    depth: int

    def __str__(self) -> str:
        found = "missing" if self.found is None else self.found[:12]
        return (
            f"{self.step}: {self.path} was {str(self.recorded)[:12]} when recorded, is {found} now"
        )


@dataclass
class Audit:
    target: str
    lines: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    steps: int = 0

    @property
    def clean(self) -> bool:
        return not self.mismatches

    def first(self) -> Mismatch | None:
        """The most upstream step whose recorded bytes no longer match."""
        return max(self.mismatches, key=lambda m: m.depth) if self.mismatches else None


def _norm(path: str | Path) -> str:
    return Path(path).as_posix().rstrip("/")


def load_records(root: str | Path = PROVENANCE_ROOT) -> dict[str, dict[str, Any]]:
    """Every job record under ``root``, indexed by the outputs it wrote."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "no provenance records here; run the workflow first")
    index: dict[str, dict[str, Any]] = {}
    for file in sorted(root.rglob("*.json")):
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
            outputs = record["outputs"]
            record["rule"], record["inputs"]  # noqa: B018  (shape check)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(
                file, f"corrupt provenance record ({type(exc).__name__}: {exc})"
            ) from None
        record["_file"] = str(file)
        for output in outputs:
            index[_norm(output["path"])] = record
    return index


def _step_name(record: dict[str, Any]) -> str:
    wildcards = ", ".join(f"{k}={v}" for k, v in record["wildcards"].items())
    return f"{record['rule']}({wildcards})" if wildcards else record["rule"]


def lineage(target: str | Path, index: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of every job ``target`` depends on, its own first, each once."""
    target = _norm(target)
    if target not in index:
        raise InputError(target, "no provenance record names this path")
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()
    queue = [index[target]]
    while queue:
        record = queue.pop(0)
        if record["_file"] in seen:
            continue
        seen.add(record["_file"])
        ordered.append(record)
        queue.extend(index[p] for p in (_norm(i["path"]) for i in record["inputs"]) if p in index)
    return ordered


def audit(
    target: str | Path,
    root: str | Path = PROVENANCE_ROOT,
    index: dict[str, dict[str, Any]] | None = None,
) -> Audit:
    """Walk from ``target`` back to its sources, checking every recorded sha256 against disk."""
    index = load_records(root) if index is None else index
    target = _norm(target)
    if target not in index:
        if not Path(target).exists():
            raise InputError(target, "no such file, and no provenance record names it")
        raise InputError(target, f"no provenance record names this path (records under {root})")
    result = Audit(target)
    seen: set[str] = set()

    def check(path: str, recorded: str | None, step: str, depth: int, prefix: str) -> None:
        found = hash_path(path)["sha256"]
        ok = found == recorded
        if not ok:
            result.mismatches.append(Mismatch(step, path, recorded, found, depth))
        mark = "ok " if ok else "BAD"
        producer = index.get(_norm(path))
        made_by = f"  <- {_step_name(producer)}" if producer else "  (source)"
        result.lines.append(f"{prefix}[{mark}] {path}{made_by}")
        if producer is None or _norm(path) in seen:
            return
        seen.add(_norm(path))
        result.steps += 1
        for item in producer["inputs"]:
            check(item["path"], item["sha256"], _step_name(producer), depth + 1, prefix + "    ")

    producer = index[target]
    own = next(o for o in producer["outputs"] if _norm(o["path"]) == target)
    check(target, own["sha256"], _step_name(producer), 0, "")
    return result
