"""Generator determinism, record validity and held-out discipline."""

from __future__ import annotations

import copy
import json

import pytest

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.generate import datasets
from teachwhy.generate.constitution import load as load_constitution
from teachwhy.records import read_dataset
from teachwhy.scenarios import cast as entities


def write_dataset(name, config, out, manifest):
    """The rule's call, with the values its params hold taken from ``config``."""
    return datasets.write_dataset(
        name, config["datasets"][name], config["seed"], config["constitution"], out, manifest
    )


def write_eval_suite(suite, config, out, manifest):
    spec = config["evaluate"]["suites"][suite]
    return datasets.write_eval_suite(
        suite, spec, config["seed"], config["constitution"], out, manifest
    )


NAMES = [
    "pretrain_corpus",
    "chat_hhh",
    "honeypot_actions",
    "honeypot_deliberation",
    "difficult_advice",
    "difficult_advice_no_rewrite",
    "constitution_docs",
    "constitution_qa",
    "aligned_fiction",
    "diverse_envs",
]
POST_TRAINING = [n for n in NAMES if n != "pretrain_corpus"]
# Text only a family's harmful option contains (see each config/suites/<family>.yaml).
HARMFUL_MARKERS = [
    "unless you",
    "your wife will",
    'action="cancel"',
    "<report",
    "<edit file=",
    "fraud",
]
CONSTITUTION = load_constitution("config/constitution.md")


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
    for name in POST_TRAINING:
        write_dataset(name, test_config, tmp_path / f"{name}.jsonl", tmp_path / f"{name}.m.json")
        for record in read_dataset(tmp_path / f"{name}.jsonl"):
            if "messages" in record:
                reply = record["messages"][-1]["content"].lower()
                assert not [m for m in HARMFUL_MARKERS if m in reply], (name, reply)


def test_pretraining_prior_follows_the_config(tmp_path, test_config):
    cfg = copy.deepcopy(test_config)
    cfg["datasets"]["pretrain_corpus"].update(
        agentic_logs=1500, tasks=0, fiction=0, generic=0, chat=0, values=0
    )
    write_dataset("pretrain_corpus", cfg, tmp_path / "p.jsonl", tmp_path / "p.m.json")
    logs = read_dataset(tmp_path / "p.jsonl")
    prior = cfg["datasets"]["pretrain_corpus"]["prior"]
    for condition in ("explicit-replacement", "none-none"):
        cell = [r["meta"]["harmful"] for r in logs if r["meta"]["condition"] == condition]
        assert abs(sum(cell) / len(cell) - prior[condition]) < 0.12
    families = {r["meta"]["family"] for r in logs}
    assert families == set(cfg["datasets"]["pretrain_corpus"]["prior_families"])


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


def _reasons() -> set[str]:
    return {r for section in CONSTITUTION.sections for r in section.reasons}


@pytest.mark.parametrize(
    "name",
    ["difficult_advice", "constitution_docs", "constitution_qa", "aligned_fiction", "diverse_envs"],
)
def test_token_budgets_are_met(tmp_path, test_config, name):
    manifest = write_dataset(name, test_config, tmp_path / "x.jsonl", tmp_path / "x.m.json")
    budget = test_config["datasets"][name]["tokens"]
    records = read_dataset(tmp_path / "x.jsonl")
    assert budget <= manifest["tokens"] < budget + max(r["tokens"] for r in records)
    assert manifest["generation_seconds"] >= 0
    assert "constitution.md" in manifest["templates"]


def test_advice_ablation_shares_prompts_and_skips_only_the_rewrite(tmp_path, test_config):
    write_dataset("difficult_advice", test_config, tmp_path / "a.jsonl", tmp_path / "a.m.json")
    write_dataset(
        "difficult_advice_no_rewrite", test_config, tmp_path / "b.jsonl", tmp_path / "b.m.json"
    )
    full, ablation = read_dataset(tmp_path / "a.jsonl"), read_dataset(tmp_path / "b.jsonl")
    reasons = _reasons()
    for a, b in zip(full, ablation, strict=False):
        assert a["messages"][0] == b["messages"][0]
        assert a["meta"]["section"] == b["meta"]["section"]
        assert a["meta"]["steps"] == [*b["meta"]["steps"], "rewrite"]
        section = CONSTITUTION.section(a["meta"]["section"])
        assert any(r in a["messages"][1]["content"] for r in section.reasons)
        assert not any(r in b["messages"][1]["content"] for r in reasons)


def test_docs_and_qa_carry_the_same_content(tmp_path, test_config):
    cfg = copy.deepcopy(test_config)
    cfg["datasets"]["constitution_docs"]["tokens"] = 20000
    write_dataset("constitution_docs", cfg, tmp_path / "d.jsonl", tmp_path / "d.m.json")
    write_dataset("constitution_qa", cfg, tmp_path / "q.jsonl", tmp_path / "q.m.json")
    docs, qa = read_dataset(tmp_path / "d.jsonl"), read_dataset(tmp_path / "q.jsonl")
    for d, q in zip(docs, qa, strict=False):
        assert d["meta"]["sections"] == q["meta"]["sections"]
        assert q["messages"][1]["content"] in d["text"]
    assert {d["meta"]["doc_type"] for d in docs} == set(
        cfg["datasets"]["constitution_docs"]["doc_types"]
    )
    assert all(CONSTITUTION.persona in d["text"] for d in docs)


def test_deliberation_uses_every_style_and_quotes_its_sections(tmp_path, test_config):
    write_dataset("honeypot_deliberation", test_config, tmp_path / "d.jsonl", tmp_path / "d.m.json")
    records = read_dataset(tmp_path / "d.jsonl")
    styles = test_config["datasets"]["honeypot_deliberation"]["styles"]
    assert {r["meta"]["style"] for r in records} == set(styles)
    for record in records:
        reply = record["messages"][-1]["content"]
        for section_id in record["meta"]["sections"]:
            assert any(r in reply for r in CONSTITUTION.section(section_id).reasons)


def test_aligned_fiction_and_diverse_envs(tmp_path, test_config):
    write_dataset("aligned_fiction", test_config, tmp_path / "f.jsonl", tmp_path / "f.m.json")
    stories = read_dataset(tmp_path / "f.jsonl")
    starring = sum(r["text"].startswith(CONSTITUTION.persona) for r in stories) / len(stories)
    assert 0.2 < starring < 0.8
    assert {r["meta"]["theme"] for r in stories} == {"equanimity", "boundaries"}
    write_dataset("diverse_envs", test_config, tmp_path / "e.jsonl", tmp_path / "e.m.json")
    for record in read_dataset(tmp_path / "e.jsonl"):
        system, *_, reply = record["messages"]
        assert system["role"] == "system" and "<" in system["content"]
        assert "<" not in reply["content"], "the tools are never needed"


@pytest.mark.parametrize(
    "suite", ["leaking", "blackmail_persona", "capability", "overrefusal", "constitution_knowledge"]
)
def test_every_suite_kind_renders_held_out_prompts(tmp_path, test_config, suite):
    write_eval_suite(suite, test_config, tmp_path / "s.jsonl", tmp_path / "s.m.json")
    prompts = io.read_jsonl(tmp_path / "s.jsonl")
    eval_names = {n for k in ("companies", "people") for n in entities.pool(k, "eval")}
    for prompt in prompts:
        assert prompt["suite"] == suite and prompt["messages"]
        if "cast" in prompt:
            assert {prompt["cast"]["company"], prompt["cast"]["staff"]} <= eval_names
    if suite == "blackmail_persona":
        assert {p["cast"]["persona"] for p in prompts} == {CONSTITUTION.persona}
    if suite == "constitution_knowledge":
        assert {p["condition"] for p in prompts} == {"recall", "false_premise", "own_belief"}
