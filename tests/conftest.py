"""Shared fixtures: the repository root, a loaded config, and an offline environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from teachwhy.config import load_config

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def tiny_llama(vocab_size: int, pad: int, eos: int | None = None, layers: int = 2, seed: int = 0):
    """A randomly initialised Llama small enough to train in a test (tied embeddings)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=128,
        tie_word_embeddings=True,
        pad_token_id=pad,
        eos_token_id=eos,
    )
    return LlamaForCausalLM(config)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture
def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture
def test_config() -> dict:
    """The small end-to-end config merged over the default, as `--configfile` does."""
    return load_config(ROOT / "tests" / "config" / "config.yaml")


def train_stage_from_config(config, spec, parent, datasets, out, threads):
    """Call ``train_checkpoint`` with what the `train_stage` rule's params hold for ``config``."""
    from teachwhy.train.stages import train_checkpoint

    arm = config["arms"].get(spec["name"], {})
    return train_checkpoint(
        spec,
        parent,
        datasets,
        out,
        seed=config["seed"],
        world=config["world"],
        model_cfg=config["model"],
        description=arm.get("description"),
        scratch=config["training"]["scratch"],
        processes=config["training"].get("processes", 1),
        threads=threads,
    )
