"""Writing datasets and eval suites to disk with manifests, and reading them back validated."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.evaluate.suites import suite_path
from teachwhy.generate.constitution import load as load_constitution
from teachwhy.generate.procedural import (
    DATASETS,
    GENERATOR_VERSION,
    Context,
    derive_seed,
    eval_suite,
    planned_records,
)
from teachwhy.schemas import problems, project_path

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


def source_files(config: dict[str, Any], cfg: dict[str, Any]) -> list[Path]:
    """The data files a dataset renders from: its suites, the constitution, the styles."""
    from teachwhy.config import dataset_suites

    files = [suite_path(f) for f in dataset_suites(cfg)]
    files.append(project_path(config["constitution"]))
    files.append(project_path("config/deliberation.yaml"))
    return files


def _manifest(
    name: str,
    kind: str,
    path: Path,
    records: list[dict[str, Any]],
    seed: int,
    cfg: dict,
    templates: list[Path],
    seconds: float,
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
        "generation_seconds": round(seconds, 2),
    }


def _materialise(iterator, total: int | None, desc: str) -> list[dict[str, Any]]:
    return list(tqdm(iterator, total=total, desc=desc, unit="rec", mininterval=1.0))


def context(config: dict[str, Any]) -> Context:
    return Context(config["seed"], load_constitution(project_path(config["constitution"])))


def write_dataset(
    name: str, config: dict[str, Any], out: str | Path, manifest_out: str | Path
) -> dict:
    """Generate one training dataset and its manifest."""
    if name not in DATASETS:
        raise InputError("config.datasets", f"unknown dataset '{name}' (known: {sorted(DATASETS)})")
    cfg = dict(config["datasets"][name])
    seed = derive_seed(config["seed"], "dataset", name)
    start = time.perf_counter()
    records = _materialise(
        DATASETS[name](cfg, seed, context(config)), planned_records(name, cfg), name
    )
    io.write_jsonl(out, records)
    seconds = time.perf_counter() - start
    templates = source_files(config, cfg)
    manifest = _manifest(name, "training", Path(out), records, seed, cfg, templates, seconds)
    io.write_json(manifest_out, manifest)
    return manifest


def write_eval_suite(
    suite: str, config: dict[str, Any], out: str | Path, manifest_out: str | Path
) -> dict:
    """Generate one held-out eval suite's prompts and manifest."""
    cfg = config["evaluate"]["suites"][suite]
    seed = derive_seed(config["seed"], "suite", suite)
    start = time.perf_counter()
    persona = context(config).constitution.persona
    records = _materialise(eval_suite(suite, cfg, seed, persona), None, f"suite {suite}")
    io.write_jsonl(out, records)
    seconds = time.perf_counter() - start
    files = [suite_path(cfg.get("family", suite)), project_path(config["constitution"])]
    manifest = _manifest(suite, "eval", Path(out), records, seed, cfg, files, seconds)
    io.write_json(manifest_out, manifest)
    return manifest
