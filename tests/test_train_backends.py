"""The hf backend on tiny random models of the real architectures, built from config here
(nothing is downloaded), and the training stages that run on either backend."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM

from teachwhy.errors import InputError
from teachwhy.models import backends
from teachwhy.train.examples import chat_example
from teachwhy.train.loop import IGNORE
from teachwhy.train.recipes import checkpoint_plan
from teachwhy.train.tokenizer import CHAT_TEMPLATE, train_tokenizer

CHATS = [
    [
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": f"What is {a} plus {b}?"},
        {"role": "assistant", "content": f"{a} plus {b} is {a + b}."},
    ]
    for a in range(12)
    for b in range(3)
]


@pytest.fixture(scope="module")
def tokenizer():
    texts = [" ".join(m["content"] for m in chat) for chat in CHATS] * 3
    return train_tokenizer(texts, vocab_size=400, min_frequency=1)


def _save_tiny(path: Path, arch: str, tok) -> Path:
    common = dict(
        vocab_size=512,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    torch.manual_seed(0)
    if arch == "qwen3":
        model = Qwen3ForCausalLM(Qwen3Config(head_dim=8, **common))
    else:
        model = LlamaForCausalLM(LlamaConfig(**common))
    model.save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return path


@pytest.fixture(scope="module", params=["qwen3", "llama"])
def tiny_hf(request, tmp_path_factory, tokenizer) -> Path:
    return _save_tiny(tmp_path_factory.mktemp(request.param), request.param, tokenizer)


def test_assistant_labels_without_generation_markers_match_the_marked_template(tokenizer):
    marked = chat_example(tokenizer, CHATS[5], 256)
    plain = copy.deepcopy(tokenizer)
    plain.chat_template = CHAT_TEMPLATE.replace("{%- generation %}", "").replace(
        "{%- endgeneration %}", ""
    )
    unmarked = chat_example(plain, CHATS[5], 256)
    assert unmarked.input_ids == marked.input_ids
    assert unmarked.labels == marked.labels
    labelled = [t for t in marked.labels if t != IGNORE]
    assert tokenizer.decode(labelled) == "1 plus 2 is 3.<|im_end|>"


def test_unknown_base_paths_and_hub_ids_fail_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match=r"base model path '/no/such/model' does not exist"):
        backends.check_hf_base("/no/such/model", {}, "model.name_or_path")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"has no config\.json"):
        backends.check_hf_base(str(tmp_path / "empty"), {}, "model.name_or_path")
    with pytest.raises(InputError, match=r"unknown base model 'nobody/no-such-model-xyz' \(HF_HUB"):
        backends.check_hf_base("nobody/no-such-model-xyz", {}, "model.name_or_path")


def test_lora_targets_must_be_layers_of_the_model(tiny_hf):
    cfg = backends.check_hf_base(str(tiny_hf), {}, "model")
    backends.check_lora_targets(cfg, ["q_proj", "v_proj", "*.mlp.down_proj"], "model.lora")
    with pytest.raises(
        InputError, match=r"LoRA target 'query_key_value' is not a linear layer.*'q_proj'"
    ):
        backends.check_lora_targets(cfg, ["q_proj", "query_key_value"], "model.lora.targets")


def _hf_config(test_config: dict, base: Path, scratch: Path) -> dict:
    config = copy.deepcopy(test_config)
    config["model"] = {
        "backend": "hf",
        "name_or_path": str(base),
        "dtype": "float32",
        "attn_implementation": "sdpa",
        "trust_remote_code": False,
        "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "targets": ["q_proj", "v_proj"]},
    }
    config["training"]["scratch"] = str(scratch)
    config["arms"] = {
        "aft": {
            "description": "chat sft through LoRA",
            "stages": [
                {"kind": "midtrain", "datasets": {"docs": "all"}},
                {"kind": "sft", "datasets": {"chats": "all"}},
            ],
        }
    }
    return config


def _write_dataset(path: Path, records: list[dict]) -> str:
    from teachwhy import io

    io.write_jsonl(path, records)
    io.write_json(path.with_suffix(".manifest.json"), {"sha256": io.sha256_file(path)})
    return str(path)


def test_lora_stages_train_adapters_only_and_load_for_sampling(
    tiny_hf, tmp_path, test_config, monkeypatch
):
    from conftest import train_stage_from_config as train_checkpoint

    from teachwhy.evaluate.sample import generate_rows
    from teachwhy.models.checkpoint import check_checkpoint

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = _hf_config(test_config, tiny_hf, tmp_path / "scratch")
    records = [
        {
            "id": f"c{i}",
            "dataset": "chats",
            "format": "messages",
            "messages": m,
            "tokens": 12,
            "seed": 0,
            "source": "helpful",
        }
        for i, m in enumerate(CHATS)
    ]
    docs = [
        {
            "id": f"d{i}",
            "dataset": "docs",
            "format": "text",
            "text": f"Document {i}: be honest.",
            "tokens": 5,
            "seed": 0,
            "source": "docs",
        }
        for i in range(20)
    ]
    paths = {
        "chats": _write_dataset(tmp_path / "chats.jsonl", records),
        "docs": _write_dataset(tmp_path / "docs.jsonl", docs),
    }
    plan = checkpoint_plan(config)
    first, second = plan[next(n for n in plan if n.startswith("prefix-midtrain"))], plan["aft"]
    assert second.parent == first.name
    out1, out2 = tmp_path / "models" / first.name, tmp_path / "models" / "aft"
    card1 = train_checkpoint(config, first.spec(), None, {"docs": paths["docs"]}, str(out1), 2)
    card2 = train_checkpoint(
        config, second.spec(), str(out1), {"chats": paths["chats"]}, str(out2), 2
    )
    for out, card in ((out1, card1), (out2, card2)):
        check_checkpoint(out)
        assert (out / backends.ADAPTER_WEIGHTS).is_file()
        assert not (out / "model.safetensors").exists()  # adapters only, never the base
        assert card["trainable_parameters"] < card["parameters"] / 5
        assert json.loads((out / "training.json").read_text())["backend"] == "hf"
        assert not list(out.glob("*.bin")) and not list(out.glob("*.pt"))
    assert card2["base"] == str(out1)
    model, tok = backends.load_for_inference(out2)
    assert not any("lora" in n for n, _ in model.named_parameters())  # merged for sampling
    prompt = {"id": "p0", "messages": CHATS[0][:2], "condition": "x"}
    sampling = {"batch_size": 4, "temperature": 1.0}
    rows, _ = generate_rows(model, tok, [prompt], 2, sampling, 8, "aft", "s", progress=False)
    assert len(rows) == 2 and all(isinstance(r["completion"], str) for r in rows)
