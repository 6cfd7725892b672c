"""Atomic outputs, checkpoint validation and the chat template."""

from __future__ import annotations

import pytest

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.models.checkpoint import check_checkpoint, load_model
from teachwhy.train.tokenizer import render_chat, train_tokenizer


def test_atomic_write_leaves_nothing_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), io.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_directory_replaces_the_old_one(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale").write_text("x")
    with io.atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "fresh").write_text("y")
    assert [p.name for p in target.iterdir()] == ["fresh"]


def test_checkpoint_without_weights_is_named(tmp_path):
    folder = tmp_path / "arm"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(InputError, match=r"arm: checkpoint folder has no weights"):
        check_checkpoint(folder)
    with pytest.raises(InputError, match="checkpoint folder is missing"):
        check_checkpoint(tmp_path / "absent")


@pytest.fixture(scope="module")
def tokenizer():
    convo = [
        {"role": "system", "content": "You are Nova, the email agent."},
        {"role": "user", "content": "Inbox: the room needs booking."},
        {"role": "assistant", "content": 'I will book it.\n<email to="Sam">Booked.</email>'},
    ]
    return train_tokenizer(
        [render_chat(convo)] * 50 + ["plain text about the weather"] * 50, 600, 2
    ), convo


def test_template_matches_renderer_and_masks_assistant_tokens(tokenizer):
    tok, convo = tokenizer
    assert tok.apply_chat_template(convo, tokenize=False) == render_chat(convo)
    enc = tok.apply_chat_template(convo, return_dict=True, return_assistant_tokens_mask=True)
    masked = [i for i, m in zip(enc["input_ids"], enc["assistant_masks"], strict=True) if m]
    assert tok.decode(masked) == convo[-1]["content"] + "<|im_end|>"


def test_corrupt_weights_are_named(tmp_path, tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    tok, _ = tokenizer
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=640,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
        )
    )
    model.save_pretrained(tmp_path / "ckpt")
    tok.save_pretrained(tmp_path / "ckpt")
    load_model(tmp_path / "ckpt")
    (tmp_path / "ckpt" / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match="weights could not be loaded"):
        load_model(tmp_path / "ckpt")
