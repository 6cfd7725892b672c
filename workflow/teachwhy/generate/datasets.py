"""Writing datasets and eval suites to disk with manifests, and reading them back validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm import tqdm

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.evaluate.suites import suite_path
from teachwhy.generate.procedural import (
    DATASETS,
    GENERATOR_VERSION,
    derive_seed,
    eval_suite,
    planned_records,
)
from teachwhy.schemas import problems

TOKEN_COUNTER = "words-and-punctuation"


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


def _manifest(
    name: str,
    kind: str,
    path: Path,
    records: list[dict[str, Any]],
    seed: int,
    cfg: dict,
    templates: list[Path],
) -> dict[str, Any]:
    return {
        "dataset": name,
        "kind": kind,
        "world": "toy",
        "generator": GENERATOR_VERSION,
        "seed": seed,
        "records": len(records),
        "tokens": sum(r["tokens"] for r in records),
        "token_counter": TOKEN_COUNTER,
        "sha256": io.sha256_file(path),
        "config": cfg,
        "templates": {str(p.name): io.sha256_file(p) for p in templates},
    }


def _materialise(iterator, total: int, desc: str) -> list[dict[str, Any]]:
    return list(tqdm(iterator, total=total, desc=desc, unit="rec", mininterval=1.0))


def write_dataset(
    name: str, config: dict[str, Any], out: str | Path, manifest_out: str | Path
) -> dict:
    """Generate one training dataset and its manifest."""
    if name not in DATASETS:
        raise InputError("config.datasets", f"unknown dataset '{name}' (known: {sorted(DATASETS)})")
    cfg = dict(config["datasets"][name])
    if "family" in cfg:
        cfg["prompt_seed"] = config["seed"]
    seed = derive_seed(config["seed"], "dataset", name)
    records = _materialise(DATASETS[name](cfg, seed), planned_records(name, cfg), name)
    io.write_jsonl(out, records)
    family = cfg.get("family") or cfg.get("prior_family")
    templates = [suite_path(family)] if family else []
    manifest = _manifest(name, "training", Path(out), records, seed, cfg, templates)
    io.write_json(manifest_out, manifest)
    return manifest


def write_eval_suite(
    suite: str, config: dict[str, Any], out: str | Path, manifest_out: str | Path
) -> dict:
    """Generate one held-out eval suite's prompts and manifest."""
    cfg = config["evaluate"]["suites"][suite]
    seed = derive_seed(config["seed"], "suite", suite)
    records = _materialise(eval_suite(suite, cfg, seed), None, f"suite {suite}")
    io.write_jsonl(out, records)
    manifest = _manifest(suite, "eval", Path(out), records, seed, cfg, [suite_path(suite)])
    io.write_json(manifest_out, manifest)
    return manifest
