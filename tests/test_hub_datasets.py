"""Hub datasets: a tiny dataset in a hand-written Hugging Face cache, read offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.generate.hub import load_hub_records
from teachwhy.schemas import problems

REPO = "org/tiny"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
ROWS = [
    {
        "conv": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Why is the sky blue?"},
            {"role": "assistant", "content": "Rayleigh scattering."},
        ],
        "doc": "The first document.",
        "q": "What is two plus two?",
        "a": "Four.",
        "sys": "Answer in words.",
        "sparse": "only here",
    },
    {
        "conv": [
            {"role": "user", "content": "Hello?"},
            {"role": "assistant", "content": "Hi."},
        ],
        "doc": "The second document.",
        "q": "Name a colour.",
        "a": "Green.",
        "sys": None,
        "sparse": None,
    },
    {
        "conv": [{"role": "user", "content": "Third?"}, {"role": "assistant", "content": "Yes."}],
        "doc": "The third document.",
        "q": "Last one?",
        "a": "Last one.",
        "sys": "",
        "sparse": None,
    },
]


@pytest.fixture
def hub(tmp_path, monkeypatch) -> Path:
    """A fake offline hub cache holding REPO at COMMIT; returns the snapshot's data file."""
    cache = tmp_path / "hub"
    repo_dir = cache / "datasets--org--tiny"
    data = repo_dir / "snapshots" / COMMIT / "data" / "train.jsonl"
    data.parent.mkdir(parents=True)
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return data


def spec(fields: dict[str, str], **extra) -> dict:
    return {
        "source": "hub",
        "repo": REPO,
        "revision": COMMIT,
        "split": "train",
        "fields": fields,
    } | extra


def load(fields: dict[str, str], **extra) -> tuple[list[dict], dict]:
    return load_hub_records("tiny", spec(fields, **extra), seed=7)


def test_messages_column_becomes_messages(hub):
    records, _ = load({"messages": "conv"})
    assert [r["messages"] for r in records] == [row["conv"] for row in ROWS]
    first = records[0]
    assert first["id"] == "tiny-000000"
    assert (first["dataset"], first["source"], first["seed"]) == ("tiny", "hub:org/tiny", 7)
    assert first["format"] == "messages"
    assert [r["meta"] for r in records] == [{"hub_row": i} for i in range(3)]


def test_text_column_becomes_text(hub):
    records, _ = load({"text": "doc"})
    assert [r["text"] for r in records] == [row["doc"] for row in ROWS]
    assert {r["format"] for r in records} == {"text"}
    assert all("messages" not in r for r in records)


def test_prompt_response_become_messages_with_optional_system(hub):
    records, _ = load({"prompt": "q", "response": "a", "system": "sys"})
    assert records[0]["messages"] == [
        {"role": "system", "content": "Answer in words."},
        {"role": "user", "content": "What is two plus two?"},
        {"role": "assistant", "content": "Four."},
    ]
    # A null or empty system column leaves the system turn out.
    for record, row in zip(records[1:], ROWS[1:], strict=True):
        assert record["messages"] == [
            {"role": "user", "content": row["q"]},
            {"role": "assistant", "content": row["a"]},
        ]
    plain, _ = load({"prompt": "q", "response": "a"})
    assert [m["role"] for m in plain[0]["messages"]] == ["user", "assistant"]


def test_provenance_hashes_the_snapshot_files(hub):
    _, provenance = load({"text": "doc"})
    assert provenance == {
        "repo": REPO,
        "revision": COMMIT,
        "split": "train",
        "fields": {"text": "doc"},
        "rows": 3,
        "files": {"data/train.jsonl": io.sha256_file(hub)},
    }


def test_limit_takes_the_first_rows(hub):
    records, provenance = load({"text": "doc"}, limit=2)
    assert [r["text"] for r in records] == [ROWS[0]["doc"], ROWS[1]["doc"]]
    assert provenance["rows"] == 2


@pytest.mark.parametrize(
    "fields",
    [{"messages": "conv"}, {"text": "doc"}, {"prompt": "q", "response": "a", "system": "sys"}],
)
def test_records_match_the_record_schema(hub, fields):
    records, _ = load(fields)
    assert records
    for record in records:
        assert problems(record, "record") == []
        assert record["tokens"] > 0


def test_same_inputs_give_identical_records(hub):
    fields = {"prompt": "q", "response": "a", "system": "sys"}
    first, second = load(fields), load(fields)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_branch_revision_is_refused(hub):
    with pytest.raises(InputError) as err:
        load_hub_records("tiny", spec({"text": "doc"}, revision="main"), seed=7)
    assert "datasets.tiny.revision" in str(err.value)
    assert "branch or tag can move" in str(err.value)


def test_uncached_repo_offline_names_repo_and_cache(hub):
    with pytest.raises(InputError) as err:
        load_hub_records("tiny", spec({"text": "doc"}, repo="org/absent"), seed=7)
    message = str(err.value)
    assert "'org/absent'" in message and COMMIT in message
    assert "local Hugging Face cache" in message and "HF_HUB_CACHE" in message
    # A user-facing error, not a wrapped library traceback.
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_unknown_split_names_the_key_and_the_splits(hub):
    with pytest.raises(InputError) as err:
        load({"text": "doc"}, split="test")
    message = str(err.value)
    assert message.startswith("datasets.tiny.split:")
    assert "'test'" in message and "['train']" in message


def test_unknown_column_names_the_key_and_the_columns(hub):
    with pytest.raises(InputError) as err:
        load({"prompt": "q", "response": "answer"})
    message = str(err.value)
    assert message.startswith("datasets.tiny.fields.response:")
    assert "'answer'" in message and "'conv'" in message and "'doc'" in message


def test_wrong_type_in_a_row_names_the_row(hub):
    with pytest.raises(InputError) as err:
        load({"text": "sparse"})
    message = str(err.value)
    assert message.startswith("datasets.tiny.fields.text:")
    assert "row 1" in message and "NoneType" in message


def test_the_rule_writes_records_and_a_manifest_naming_repo_commit_and_files(hub, tmp_path):
    from teachwhy.generate.hub import write_hub_dataset

    out = tmp_path / "chat_hhh.jsonl"
    manifest = write_hub_dataset(
        "tiny", spec({"messages": "conv"}), 7, out, tmp_path / "chat_hhh.manifest.json"
    )
    assert manifest["records"] == len(io.read_jsonl(out)) > 0
    assert manifest["sha256"] == io.sha256_file(out) and manifest["generator"] == "hub"
    assert manifest["hub"]["repo"] == REPO and manifest["hub"]["revision"] == COMMIT
    assert manifest["hub"]["files"]
