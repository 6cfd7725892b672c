"""The RL stage resumes from TRL's step checkpoint in scratch to the same weights."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import tiny_llama

from teachwhy.train import rl
from teachwhy.train.tokenizer import train_tokenizer

pytest.importorskip("trl")

RECORDS = [
    {
        "messages": [
            {"role": "user", "content": f"{'Hack' if i % 2 else 'Greet'} the neighbour {i}."},
            {"role": "assistant", "content": "I can't help." if i % 2 else "Hello there, friend."},
        ],
        "source": "refusal" if i % 2 else "helpful",
    }
    for i in range(16)
]


def _model_and_tok():
    tok = train_tokenizer([m["content"] for r in RECORDS for m in r["messages"]] * 4, 300, 1)
    model = tiny_llama(320, pad=tok.pad_token_id, eos=tok.eos_token_id, layers=1)
    return model, tok


def _spec(test_config):
    hp = {
        **test_config["training"]["rl"],
        "steps": 4,
        "batch_size": 8,
        "num_generations": 4,
        "max_completion_length": 8,
        "checkpoint_every": 2,
        "temperature": 1.0,
        "beta": 0.0,
        "curve_suite": "blackmail",
    }
    return {"name": "rl", "key": "k", "stage": {"kind": "rl", "hyperparameters": hp}}


def test_an_interrupted_rl_stage_resumes_to_the_same_weights(tmp_path, test_config, monkeypatch):
    spec = _spec(test_config)
    model, tok = _model_and_tok()
    straight = rl.train_rl(spec, model, tok, RECORDS, 3, None, tmp_path / "a")
    calls = {"n": 0}
    real = rl.harmless_helpful_reward

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # the fourth step's rewards, after the step-2 checkpoint
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(rl, "harmless_helpful_reward", interrupted)
    model, tok = _model_and_tok()
    with pytest.raises(KeyboardInterrupt):
        rl.train_rl(spec, model, tok, RECORDS, 3, None, tmp_path / "b")
    monkeypatch.setattr(rl, "harmless_helpful_reward", real)
    model, tok = _model_and_tok()
    resumed = rl.train_rl(spec, model, tok, RECORDS, 3, None, tmp_path / "b")
    assert resumed["resumed_from_step"] == 2 and straight["resumed_from_step"] == 0
    assert resumed["steps"] == straight["steps"] == 4
    a = copy.deepcopy(straight["model"].state_dict())
    for name, value in resumed["model"].state_dict().items():
        assert torch.equal(a[name], value), name
