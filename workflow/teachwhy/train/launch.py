"""Data-parallel training of one stage: ``training.processes`` > 1 starts that many processes
on this node with torch's elastic launcher (one per GPU; gloo processes on a CPU-only host);
each joins the process group through accelerate (``teachwhy.runtime.world``). The Snakemake
job that asked for it waits, then writes its provenance as usual.

    python -m teachwhy.train.launch REQUEST.json   # what each launched process runs
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from teachwhy.errors import TeachwhyError
from teachwhy.runtime import world

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def launch_command(processes: int, request: Path) -> list[str]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += ["--nproc_per_node", str(processes)]
    return [*cmd, "-m", "teachwhy.train.launch", str(request)]


def run_distributed(processes: int, target: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run ``target`` (``"package.module:function"``) with ``kwargs`` in ``processes``
    processes; rank 0's answer. Naming the target keeps this module below its callers."""
    with tempfile.TemporaryDirectory(prefix="teachwhy-launch-") as tmp:
        request, answer = Path(tmp) / "request.json", Path(tmp) / "card.json"
        request.write_text(json.dumps({"target": target, "kwargs": kwargs, "answer": str(answer)}))
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        cmd = launch_command(processes, request)
        run = subprocess.run(cmd, env=env)
        if run.returncode != 0 or not answer.is_file():
            raise TeachwhyError(
                f"data-parallel training in {processes} processes failed (exit {run.returncode}); "
                "see the processes' output above"
            )
        return json.loads(answer.read_text())


def main(request_path: str) -> None:
    request = json.loads(Path(request_path).read_text())
    module, function = request["target"].split(":")
    card = getattr(importlib.import_module(module), function)(**request["kwargs"], launched=True)
    if world()[0] == 0:
        Path(request["answer"]).write_text(json.dumps(card, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
