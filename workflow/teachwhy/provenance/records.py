"""Per-job provenance records: what a rule read and wrote (with sha256), how, where and when.

``teachwhy.steps.run`` writes one record per job under ``results/provenance/<phase>/<rule>/``;
``teachwhy.provenance.audit`` walks them back from any result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

from teachwhy.io import sha256_file
from teachwhy.provenance import code_version, host, package_versions, scheduler

PROVENANCE_ROOT = "results/provenance"
# Rules grouped by the phase (DVC stage) whose folders their outputs live in.
PHASES = {
    "data": (
        "generate_dataset",
        "generate_step",
        "claude_dataset",
        "hub_dataset",
        "generate_suite",
        "check_contamination",
    ),
    "models": ("train_tokenizer", "pretrain", "train_stage"),
    "evals": ("sample_arm", "grade_suite", "suite_validity"),
    "paper": ("claim_verdict", "claim_metrics", "figure_data", "paper_numbers", "report_landing"),
}
# Figure rules are named after their figure's file stem (fig04_..., msm_fig04_...).
FIGURE_RULE = re.compile(r"^(msm_)?fig[0-9]{2}_")
# A key that names a credential: "token" only as the key's last word ("hf_token",
# "access_token"), so counts such as "tokens" and "max_new_tokens" stay readable.
_SECRET_KEY = re.compile(
    r"(api[_-]?key|(^|[_-])token$|secret|password|passwd|credential)", re.IGNORECASE
)
_SECRET_VALUE = re.compile(r"(sk-ant-[A-Za-z0-9_-]{8,}|hf_[A-Za-z0-9]{30,})")
IGNORED_IN_DIRECTORIES = {".snakemake_timestamp"}


def phase_of(rule: str) -> str:
    """The phase of a rule; figure rules are named after their figure (``figNN_...``)."""
    if FIGURE_RULE.match(rule):
        return "paper"
    for phase, rules in PHASES.items():
        if rule in rules:
            return phase
    raise KeyError(f"rule '{rule}' belongs to no phase")


def redact(value: Any) -> Any:
    """The value with anything that looks like a secret replaced, so no key reaches a record."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _SECRET_VALUE.sub("[redacted]", value)
    return value


def hash_path(path: str | Path) -> dict[str, Any]:
    """sha256 of a file, or of a directory's sorted (relative path, file sha256) listing."""
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.name not in IGNORED_IN_DIRECTORIES
        )
        for file in files:
            digest.update(f"{file.relative_to(path).as_posix()}\t{sha256_file(file)}\n".encode())
        return {
            "path": str(path),
            "kind": "directory",
            "sha256": digest.hexdigest(),
            "files": len(files),
        }
    if path.is_file():
        return {
            "path": str(path),
            "kind": "file",
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
        }
    return {"path": str(path), "kind": "missing", "sha256": None}


def record_path(rule: str, wildcards: dict[str, str]) -> Path:
    name = "_".join(str(v) for v in wildcards.values()) or "all"
    return Path(PROVENANCE_ROOT) / phase_of(rule) / rule / f"{name}.json"


def device() -> str:
    """The accelerator a job ran on, without importing torch where the job did not."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return "cpu"


def job_record(smk: Any, started: float, finished: float, tools: dict[str, str]) -> dict[str, Any]:
    """The provenance record of one finished Snakemake job."""

    def stamp(t: float) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")

    params = dict(smk.params.items())
    record = {
        "rule": smk.rule,
        "wildcards": dict(smk.wildcards.items()),
        "inputs": [hash_path(p) for p in smk.input],
        "outputs": [hash_path(p) for p in smk.output],
        "params": redact(params),
        # What the job was given, not the whole config: a job without a seed param has none.
        "seed": params.get("seed"),
        "world": dict(smk.wildcards.items()).get("world", params.get("world")),
        "tools": tools,
        "code_version": code_version(),
        "packages": package_versions(),
        "host": host(),
        "scheduler": scheduler(),
        "device": device(),
        "threads": smk.threads,
        "started": stamp(started),
        "finished": stamp(finished),
        "seconds": round(finished - started, 3),
        "log": list(smk.log),
    }
    # How a paper-world step sent its requests (budget, API path, retries): resources, so a
    # change reruns nothing, and recorded here, so the record still says what the job used.
    resources = getattr(smk, "resources", None)
    sending = {k: v for k, v in (resources.items() if resources else []) if k.startswith("claude_")}
    if sending:
        record["sending"] = redact(sending)
    return record
