"""Shared fixtures: the repository root, a loaded config, and an offline environment."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture
def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture
def test_config() -> dict:
    """The small end-to-end config merged over the default, as `--configfile` does."""
    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    small = yaml.safe_load((ROOT / "tests" / "config" / "config.yaml").read_text())
    merged = _deep_merge(copy.deepcopy(base), small)
    merged["arms"] = small["arms"]  # teachwhy.config.REPLACED_KEYS
    return merged


def _deep_merge(base: dict, override: dict) -> dict:
    """Nested dicts merge key by key, anything else is replaced (Snakemake's update_config)."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value
    return base
