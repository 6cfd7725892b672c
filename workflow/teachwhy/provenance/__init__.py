"""Provenance: code version, package versions and host of a run."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata

from teachwhy.schemas import REPO_ROOT

PACKAGES = ["teachwhy", "torch", "transformers", "trl", "tokenizers", "snakemake", "numpy"]


def code_version() -> str:
    """``<commit>`` or ``<commit>-dirty``; ``unknown`` outside a git checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def host() -> dict[str, str]:
    return {
        "node": platform.node(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


def scheduler() -> dict[str, str] | None:
    """The batch job a step ran in, so a record shows where it was scheduled; None outside one.

    ``gpus`` is what the scheduler made visible to the job (CUDA_VISIBLE_DEVICES), if anything.
    """
    job_id = os.environ.get("SLURM_JOB_ID")
    if not job_id:
        return None
    out = {"kind": "slurm", "job_id": job_id}
    for key, var in (("cluster", "SLURM_CLUSTER_NAME"), ("gpus", "CUDA_VISIBLE_DEVICES")):
        if os.environ.get(var):
            out[key] = os.environ[var]
    return out
