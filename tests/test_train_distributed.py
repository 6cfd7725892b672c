"""Data-parallel training through accelerate: two gloo processes on CPU make the same update
as one process (the multi-GPU path, minus the GPUs)."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from conftest import tiny_llama, train_stage_from_config
from safetensors.torch import load_file

from teachwhy import io
from teachwhy.train.recipes import checkpoint_plan
from teachwhy.train.tokenizer import train_tokenizer

pytest.importorskip("accelerate")


def _dataset(tmp_path) -> str:
    records = [
        {
            "id": f"c{i}",
            "dataset": "chats",
            "format": "messages",
            "messages": [
                {"role": "user", "content": f"What is {i} plus {i + 1}?"},
                {"role": "assistant", "content": f"{i} plus {i + 1} is {2 * i + 1}."},
            ],
            "tokens": 12,
            "seed": 0,
            "source": "helpful",
        }
        for i in range(48)
    ]
    path = tmp_path / "chats.jsonl"
    io.write_jsonl(path, records)
    io.write_json(path.with_suffix(".manifest.json"), {"sha256": io.sha256_file(path)})
    return str(path)


def _base(tmp_path):
    tok = train_tokenizer([f"What is {i} plus {i + 1}? is" for i in range(60)], 300, 1)
    model = tiny_llama(320, pad=tok.pad_token_id)
    base = tmp_path / "base"
    model.save_pretrained(str(base))
    tok.save_pretrained(str(base))
    return str(base)


def test_two_processes_make_the_single_process_update(tmp_path, test_config):
    config = copy.deepcopy(test_config)
    config["training"]["sft"].update(batch_size=8, epochs=1, checkpoint_every=0)
    config["training"]["scratch"] = str(tmp_path / "scratch")
    config["arms"] = {
        "a": {"description": "x", "stages": [{"kind": "sft", "datasets": {"chats": "all"}}]}
    }
    spec = checkpoint_plan(config)["a"].spec()
    data, base = {"chats": _dataset(tmp_path)}, _base(tmp_path)
    single = train_stage_from_config(config, spec, base, data, str(tmp_path / "one"), 2)
    config["training"]["processes"] = 2
    double = train_stage_from_config(config, spec, base, data, str(tmp_path / "two"), 2)
    assert single["processes"] == 1 and double["processes"] == 2
    assert double["labelled_tokens"] == single["labelled_tokens"]
    assert double["final_loss"] == pytest.approx(single["final_loss"], abs=1e-4)
    a = load_file(str(tmp_path / "one" / "model.safetensors"))
    b = load_file(str(tmp_path / "two" / "model.safetensors"))
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-5), name
    card = json.loads((tmp_path / "two" / "training.json").read_text())
    assert card["processes"] == 2
