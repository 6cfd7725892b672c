"""The pinned environment: conda env files agree with the pip lock, and the lock pins exactly."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ENVS = Path(__file__).resolve().parents[1] / "envs"


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ENVS / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.txt: '{line}' is not an exact pin"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_pins_the_stack():
    lock = _lock()
    assert lock["torch"] == "2.13.0"
    assert lock["snakemake"].startswith("9.") and lock["dvc"].startswith("3.")
    assert lock["transformers"].startswith("5.") and lock["trl"].startswith("1.")


def test_conda_envs_match_the_lock():
    lock = _lock()
    files = sorted(ENVS.glob("*.yaml"))
    assert files
    for path in files:
        spec = yaml.safe_load(path.read_text())
        pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
        for line in pip:
            name, _, version = line.partition("==")
            assert lock.get(re.sub(r"[-_.]+", "-", name).lower()) == version, f"{path.name}: {line}"
