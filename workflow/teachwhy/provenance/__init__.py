"""Provenance: code version, package versions and host of a run."""

from __future__ import annotations

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
