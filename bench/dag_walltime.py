"""Wall time of the whole DAG, of a no-op dry run and of rebuilding one deleted figure,
printed as ratios to their targets.

Runs in a fresh temporary copy of the project so nothing in ./results is reused:

    python bench/dag_walltime.py                 # default config (target 1200 s)
    python bench/dag_walltime.py --config test   # tests/config (target 300 s)
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

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ["Snakefile", "workflow", "config", "envs", "report", "profiles", "tests/config"]
TARGETS = {"default": 1200.0, "test": 300.0}
NOOP_TARGET = 2.0
FIGURE_TARGET = 10.0
FIGURE = "fig04_honeypot_arms"


def copy_project(dest: Path) -> None:
    for item in PROJECT:
        src, dst = ROOT / item, dest / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    run = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(TARGETS), default="default")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", help="copy the finished run's results here")
    args = parser.parse_args()
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    with tempfile.TemporaryDirectory(prefix="teachwhy-bench-") as tmp:
        work = Path(tmp)
        copy_project(work)
        cmd = [snakemake, "--cores", str(args.cores)]
        if args.config == "test":
            cmd += ["--configfile", "tests/config/config.yaml"]
        full = timed(cmd, work)
        noop = min(timed([*cmd, "-n"], work) for _ in range(3))
        for ext in ("png", "pdf"):
            (work / "results" / "figures" / f"{FIGURE}.{ext}").unlink()
        # The target before --configfile, which would take it for a second config file.
        figure = timed([cmd[0], FIGURE, *cmd[1:]], work)
        jobs = {}
        for tsv in sorted((work / "results" / "benchmarks").rglob("*.tsv")):
            jobs[f"{tsv.parent.name}/{tsv.stem}"] = float(
                tsv.read_text().splitlines()[1].split("\t")[0]
            )
        if args.keep:
            shutil.copytree(work / "results", args.keep, dirs_exist_ok=True)
    target = TARGETS[args.config]
    print(
        json.dumps(
            {
                "config": args.config,
                "cores": args.cores,
                "dag_seconds": round(full, 1),
                "noop_dry_run_seconds": round(noop, 2),
                "figure_rebuild_seconds": round(figure, 2),
                "job_seconds": jobs,
            },
            indent=2,
        )
    )
    print(f"DAG wall time / target: {full:.0f} s / {target:.0f} s = {full / target:.2f}")
    print(f"no-op dry run / target: {noop:.2f} s / {NOOP_TARGET:.0f} s = {noop / NOOP_TARGET:.2f}")
    print(
        f"rebuild {FIGURE} / target: {figure:.2f} s / {FIGURE_TARGET:.0f} s "
        f"= {figure / FIGURE_TARGET:.2f}"
    )


if __name__ == "__main__":
    main()
