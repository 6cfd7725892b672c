"""Scratch space for step checkpoints, and what a resumed run must share with the killed one."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

# Where step checkpoints go unless TEACHWHY_SCRATCH says otherwise: never under results/.
DEFAULT_SCRATCH = ".scratch/train"


def scratch_root(configured: str | None) -> Path:
    """``TEACHWHY_SCRATCH`` if set (a cluster's node-local disk), else ``training.scratch``."""
    return Path(os.environ.get("TEACHWHY_SCRATCH") or configured or DEFAULT_SCRATCH)


def fingerprint(spec: dict[str, Any], used: dict[str, dict[str, Any]]) -> str:
    """What a resumed run must share with the killed one: the recipe and the data bytes."""
    blob = json.dumps({"spec": spec, "data": used}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()
