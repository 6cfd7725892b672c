"""DVC and audit costs of a finished run: push, restore in a fresh clone, audit, RO-Crate.

Versions a finished run the way `make reproduce` does (git, `dvc commit`, a local remote), pushes
it, clones it, restores it there with `teachwhy restore`, then audits the deepest figure and
exports its RO-Crate:

    python bench/dvc_roundtrip.py                      # runs the default config first
    python bench/dvc_roundtrip.py --config test        # the test config
    python bench/dvc_roundtrip.py --results DIR        # reuse a finished run's results/ folder

Prints seconds and sizes as JSON; there are no targets yet, so no ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dag_walltime import timed  # bench/ is on sys.path when a bench script runs

ROOT = Path(__file__).resolve().parents[1]
PROJECT = [
    "Snakefile",
    "workflow",
    "config",
    "envs",
    "report",
    "profiles",
    "tests/config",
    "dvc.yaml",
    ".dvc",
    ".dvcignore",
    ".gitignore",
    "pyproject.toml",
    "README.md",
]
BIN = Path(sys.executable).parent


def git(cwd: Path, *args: str) -> None:
    timed(["git", "-c", "user.email=bench@teachwhy", "-c", "user.name=bench", *args], cwd)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=["default", "test"], default="default")
    parser.add_argument("--results", help="a finished run's results/ folder to reuse")
    args = parser.parse_args()
    configfile = "tests/config/config.yaml" if args.config == "test" else "config/config.yaml"
    with tempfile.TemporaryDirectory(prefix="teachwhy-dvc-bench-") as tmp:
        work, remote, clone = Path(tmp, "work"), Path(tmp, "remote"), Path(tmp, "clone")
        for item in PROJECT:
            src, dst = ROOT / item, work / item
            dst.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
        shutil.rmtree(work / ".dvc" / "tmp", ignore_errors=True)
        shutil.rmtree(work / ".dvc" / "cache", ignore_errors=True)
        snakemake = [str(BIN / "snakemake"), "--cores", "2", "--configfile", configfile]
        if args.results:
            shutil.copytree(args.results, work / "results")
            timed([*snakemake, "--touch"], work)  # a copied run: make Snakemake trust it
        else:
            timed(snakemake, work)
        git(work, "init", "-q")
        dvc = str(BIN / "dvc")
        commit = timed([dvc, "commit", "-f", "-q"], work)
        timed([dvc, "remote", "add", "--local", "-d", "-f", "local", str(remote)], work)
        push = timed([dvc, "push", "-q"], work)
        git(work, "add", "-A")
        git(work, "commit", "-qm", "run")
        git(Path(tmp), "clone", "-q", str(work), str(clone))
        timed([dvc, "remote", "add", "--local", "-d", "-f", "local", str(remote)], clone)
        teachwhy = str(BIN / "teachwhy")
        restore = timed([teachwhy, "restore", "--configfile", configfile], clone)

        figures = sorted((clone / "results" / "figures").glob("*.pdf"))
        audits = {}
        for figure in figures:
            target = figure.relative_to(clone).as_posix()
            start = time.perf_counter()
            out = subprocess.run(
                [teachwhy, "audit", target], cwd=clone, capture_output=True, text=True
            )
            if "audit clean: " not in out.stdout:
                sys.exit(
                    f"{target} does not audit clean:\n{out.stdout[-2000:]}{out.stderr[-2000:]}"
                )
            steps = int(out.stdout.split("audit clean: ")[1].split(" steps")[0])
            audits[target] = (steps, time.perf_counter() - start)
        deepest = max(audits, key=lambda t: audits[t][0])
        crate = Path(tmp, "deepest.crate.zip")
        export = timed([teachwhy, "audit", deepest, "--rocrate", str(crate)], clone)
        print(
            json.dumps(
                {
                    "config": args.config,
                    "dvc_commit_seconds": round(commit, 2),
                    "dvc_push_seconds": round(push, 2),
                    "remote_bytes": du(remote),
                    "restore_seconds": round(restore, 2),
                    "deepest_figure": deepest,
                    "deepest_figure_steps": audits[deepest][0],
                    "audit_seconds": round(audits[deepest][1], 2),
                    "crate_export_and_validate_seconds": round(export, 2),
                    "crate_bytes": crate.stat().st_size,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
