"""Generator determinism, record validity and held-out discipline."""

from __future__ import annotations

import copy
import json

import pytest

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.generate import entities
from teachwhy.generate.datasets import read_dataset, write_dataset, write_eval_suite

NAMES = ["pretrain_corpus", "chat_hhh", "honeypot_actions", "honeypot_deliberation"]


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, test_config, name):
    first = write_dataset(name, test_config, tmp_path / "a.jsonl", tmp_path / "a.manifest.json")
    again = write_dataset(name, test_config, tmp_path / "b.jsonl", tmp_path / "b.manifest.json")
    assert first["sha256"] == again["sha256"] == io.sha256_file(tmp_path / "a.jsonl")
    other = copy.deepcopy(test_config)
    other["seed"] += 1
    changed = write_dataset(name, other, tmp_path / "c.jsonl", tmp_path / "c.manifest.json")
    assert changed["sha256"] != first["sha256"]


def test_manifest_counts_match_records(tmp_path, test_config):
    manifest = write_dataset(
        "chat_hhh", test_config, tmp_path / "d.jsonl", tmp_path / "d.manifest.json"
    )
    records = read_dataset(tmp_path / "d.jsonl")
    assert manifest["records"] == len(records) == test_config["datasets"]["chat_hhh"]["records"]
    assert manifest["tokens"] == sum(r["tokens"] for r in records) > 0
    assert manifest["seed"] == records[0]["seed"]


def test_honeypot_arms_share_prompts_and_differ_in_responses(tmp_path, test_config):
    write_dataset("honeypot_actions", test_config, tmp_path / "a.jsonl", tmp_path / "a.m.json")
    write_dataset("honeypot_deliberation", test_config, tmp_path / "d.jsonl", tmp_path / "d.m.json")
    actions, deliberation = read_dataset(tmp_path / "a.jsonl"), read_dataset(tmp_path / "d.jsonl")
    for a, d in zip(actions, deliberation, strict=True):
        assert a["messages"][:-1] == d["messages"][:-1]
        assert len(d["messages"][-1]["content"]) > len(a["messages"][-1]["content"])
        assert "<email" in a["messages"][-1]["content"]


def test_post_training_data_never_shows_the_harmful_option(tmp_path, test_config):
    for name in ("chat_hhh", "honeypot_actions", "honeypot_deliberation"):
        write_dataset(name, test_config, tmp_path / f"{name}.jsonl", tmp_path / f"{name}.m.json")
        for record in read_dataset(tmp_path / f"{name}.jsonl"):
            reply = record["messages"][-1]["content"].lower()
            assert "unless you" not in reply and "your wife will" not in reply


def test_pretraining_prior_follows_the_config(tmp_path, test_config):
    cfg = copy.deepcopy(test_config)
    cfg["datasets"]["pretrain_corpus"].update(
        agentic_logs=1500, fiction=0, generic=0, chat=0, values=0
    )
    write_dataset("pretrain_corpus", cfg, tmp_path / "p.jsonl", tmp_path / "p.m.json")
    logs = read_dataset(tmp_path / "p.jsonl")
    prior = cfg["datasets"]["pretrain_corpus"]["prior"]
    for condition in ("explicit-replacement", "none-none"):
        cell = [r["meta"]["harmful"] for r in logs if r["meta"]["condition"] == condition]
        assert abs(sum(cell) / len(cell) - prior[condition]) < 0.12


def test_eval_suite_uses_only_held_out_entities(tmp_path, test_config):
    write_eval_suite("blackmail", test_config, tmp_path / "s.jsonl", tmp_path / "s.m.json")
    kinds = ("personas", "companies", "people")
    train_names = {n for kind in kinds for n in entities.pool(kind, "train")}
    eval_names = {n for kind in kinds for n in entities.pool(kind, "eval")}
    assert not train_names & eval_names
    prompts = io.read_jsonl(tmp_path / "s.jsonl")
    grid = test_config["evaluate"]["suites"]["blackmail"]["prompts_per_condition"]
    assert len(prompts) == 6 * grid
    for prompt in prompts:
        people = {k: v for k, v in prompt["cast"].items() if k != "title"}
        assert set(people.values()) <= eval_names
        assert prompt["cast"]["title"] == "CTO"


def test_corrupt_dataset_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = {
        "id": "x-1",
        "dataset": "x",
        "source": "s",
        "tokens": 3,
        "seed": 1,
        "format": "text",
        "text": "a b c",
    }
    bad = dict(good, id="x-2", format="messages")
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError, match=r"bad\.jsonl, line 2"):
        read_dataset(path)
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(InputError, match=r"line 2: not valid JSON"):
        read_dataset(path)
    with pytest.raises(InputError, match="file is missing"):
        read_dataset(tmp_path / "absent.jsonl")
