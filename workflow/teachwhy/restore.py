"""``teachwhy restore``: pull artifacts with DVC, check them, then make Snakemake trust them.

After ``dvc pull`` every file's mtime is "now", so Snakemake would rerun jobs whose outputs are
fine. ``snakemake --touch`` fixes that, but it would also bless stale outputs, so it runs only
when ``dvc status`` says every artifact matches ``dvc.lock``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from teachwhy.errors import TeachwhyError

BIN = Path(sys.executable).parent


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True)


def out_of_sync(status: dict) -> list[str]:
    """'stage: path (change)' for every artifact ``dvc status --json`` reports as changed."""
    found = []
    for stage, changes in status.items():
        for change in changes:
            if isinstance(change, dict):
                for kind, paths in change.items():
                    for path, what in (paths or {}).items():
                        found.append(f"{stage}: {path} ({kind} {what})")
            else:
                found.append(f"{stage}: {change}")
    return found


def restore(configfile: str | None = None, pull: bool = True) -> str:
    """Pull, verify, touch; returns Snakemake's dry-run verdict afterwards."""
    if pull:
        pulled = _run([str(BIN / "dvc"), "pull", "-q"])
        if pulled.returncode != 0:
            raise TeachwhyError(
                f"dvc pull failed: {pulled.stderr.strip() or pulled.stdout.strip()}"
            )
    status = _run([str(BIN / "dvc"), "status", "--json"])
    if status.returncode != 0:
        raise TeachwhyError(f"dvc status failed: {status.stderr.strip()}")
    changed = out_of_sync(json.loads(status.stdout or "{}"))
    if changed:
        raise TeachwhyError(
            "refusing to touch: these artifacts do not match dvc.lock:\n  " + "\n  ".join(changed)
        )
    extra = ["--configfile", configfile] if configfile else []
    # --forceall: every job is touched and so gets a metadata record; a job whose pulled outputs
    # happened to be newer than its inputs would otherwise keep none, and a later params change
    # to it would go unnoticed.
    touched = _run([str(BIN / "snakemake"), "--touch", "--forceall", "--cores", "1", *extra])
    if touched.returncode != 0:
        raise TeachwhyError(f"snakemake --touch failed:\n{touched.stderr[-2000:]}")
    dry = _run([str(BIN / "snakemake"), "-n", *extra])
    text = dry.stdout + dry.stderr
    return "nothing to do" if "Nothing to be done" in text else "jobs pending:\n" + text[-2000:]
