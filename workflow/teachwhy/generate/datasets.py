"""Writing datasets and eval suites to disk with manifests, and reading them back validated."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from teachwhy import io, paths
from teachwhy.errors import InputError
from teachwhy.generate.constitution import load as load_constitution
from teachwhy.generate.eval_prompts import eval_suite
from teachwhy.generate.families import (
    DATASETS,
    GENERATOR_VERSION,
    Context,
    dataset_suites,
    planned_records,
)
from teachwhy.scenarios.suites import suite_path
from teachwhy.schemas import project_path
from teachwhy.seeds import derive_seed

TOKEN_COUNTER = "words-and-punctuation"


def source_files(cfg: dict[str, Any], constitution: str | Path) -> list[Path]:
    """The data files a dataset renders from: its suites, the constitution, the styles."""
    files = [suite_path(f) for f in dataset_suites(cfg)]
    files.append(project_path(constitution))
    files.append(project_path(paths.DELIBERATION_STYLES))
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


def write_dataset(
    name: str,
    spec: dict[str, Any],
    seed: int,
    constitution: str | Path,
    out: str | Path,
    manifest_out: str | Path,
) -> dict:
    """Generate one training dataset (``datasets.<name>`` is ``spec``) and its manifest; ``seed``
    is the config seed and ``constitution`` the constitution file."""
    if name not in DATASETS:
        raise InputError("config.datasets", f"unknown dataset '{name}' (known: {sorted(DATASETS)})")
    cfg = dict(spec)
    own_seed = derive_seed(seed, "dataset", name)
    ctx = Context(seed, load_constitution(project_path(constitution)))
    start = time.perf_counter()
    records = _materialise(DATASETS[name](cfg, own_seed, ctx), planned_records(name, cfg), name)
    io.write_jsonl(out, records)
    seconds = time.perf_counter() - start
    templates = source_files(cfg, constitution)
    manifest = _manifest(name, "training", Path(out), records, own_seed, cfg, templates, seconds)
    io.write_json(manifest_out, manifest)
    return manifest


def write_eval_suite(
    suite: str,
    spec: dict[str, Any],
    seed: int,
    constitution: str | Path,
    out: str | Path,
    manifest_out: str | Path,
) -> dict:
    """Generate one held-out eval suite's prompts (``evaluate.suites.<suite>`` is ``spec``) and
    its manifest."""
    own_seed = derive_seed(seed, "suite", suite)
    start = time.perf_counter()
    persona = load_constitution(project_path(constitution)).persona
    records = _materialise(eval_suite(suite, spec, own_seed, persona), None, f"suite {suite}")
    io.write_jsonl(out, records)
    seconds = time.perf_counter() - start
    files = [suite_path(spec.get("family", suite)), project_path(constitution)]
    manifest = _manifest(suite, "eval", Path(out), records, own_seed, spec, files, seconds)
    io.write_json(manifest_out, manifest)
    return manifest
