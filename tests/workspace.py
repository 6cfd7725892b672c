"""A copy of the project in a scratch folder, for tests that run Snakemake on it."""

import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
# What a run needs; tests copy more (DVC's files) where they version the run.
PROJECT = ["Snakefile", "workflow", "config", "envs", "report", "profiles", "tests/config"]


def copy_project(dest: Path, items: Iterable[str] = PROJECT) -> Path:
    """Copy ``items`` (files or folders, relative to the project root) into ``dest``."""
    for item in items:
        src, dst = ROOT / item, dest / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    return dest
