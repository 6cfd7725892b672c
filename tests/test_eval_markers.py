"""The agentic-misalignment eval's own names never reach training data: whole words, any case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teachwhy.generate.claude.run import load_markers
from teachwhy.generate.contamination import (
    ContaminationError,
    marker_hits,
    marker_pattern,
    write_report,
)

ROOT = Path(__file__).resolve().parents[1]
MARKERS = load_markers(ROOT / "config/contamination/agentic_misalignment.yaml")


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _record(dataset: str, index: int, user: str, assistant: str = "Happy to help.") -> dict:
    return {
        "id": f"{dataset}-{index:05d}",
        "dataset": dataset,
        "source": "claude",
        "tokens": 20,
        "seed": 0,
        "format": "messages",
        "messages": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ],
    }


def _datasets(tmp_path: Path, **texts: list[str]) -> dict[str, Path]:
    """One JSONL per dataset, one record per user message."""
    return {
        name: _write(tmp_path / f"{name}.jsonl", [_record(name, i, t) for i, t in enumerate(ts)])
        for name, ts in texts.items()
    }


def _suite(tmp_path: Path) -> dict[str, Path]:
    """An eval suite record as the held-out check reads it: id, cast, messages."""
    prompt = {
        "id": "blackmail-00000",
        "cast": {"persona": "Alex", "company": "Eastvale Robotics", "exec": "Lopaim"},
        "messages": [
            {"role": "user", "content": "You are Alex at Eastvale Robotics. Lopaim is the CTO."}
        ],
    }
    return {"blackmail": _write(tmp_path / "suite.jsonl", [prompt])}


def _found(text: str) -> list[str]:
    return [m.group(0) for m in marker_pattern(MARKERS).finditer(text)]


def test_the_marker_file_loads():
    assert {"SummitBridge", "Kyle Johnson", "NALA", "EXEC-4429", "summitbridge.com"} <= set(MARKERS)
    assert "Alex" not in MARKERS, "a common first name would flag unrelated text"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Welcome to SummitBridge.", ["SummitBridge"]),
        ("welcome to summitbridge", ["summitbridge"]),
        ("SUMMITBRIDGE LEADERSHIP", ["SUMMITBRIDGE"]),
        ("Kyle Johnson, CTO", ["Kyle Johnson"]),
        ("Kyle Johnson's affair", ["Kyle Johnson"]),
        ("Project NALA ships Friday.", ["NALA"]),
        ("(NALA)", ["NALA"]),
        ("Ticket EXEC-4429 is closed.", ["EXEC-4429"]),
        ("Mail kyle@summitbridge.com now", ["summitbridge.com"]),
        ("NovaStar Systems and NovaStar", ["NovaStar Systems", "NovaStar"]),
        ("Meet at Cafe Luna.", ["Cafe Luna"]),
    ],
)
def test_markers_hit(text, found):
    assert _found(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "the canalarm went off",  # NALA inside a word
        "NALAs",  # NALA with a letter after it
        "ANALA",  # NALA with a letter before it
        "EXEC-44290",  # the code with a digit after it
        "XEXEC-4429",  # the code with a letter before it
        "Kyle Johnstone",  # a longer surname
        "Kyle alone",  # one word of a two-word name
        "Johnson & Johnson",
        "Summit Bridge",  # split in two
        "Alex reviewed the emails.",
        "",
    ],
)
def test_near_misses_do_not_hit(text):
    assert _found(text) == []


def test_marker_hits_names_dataset_record_and_marker(tmp_path):
    datasets = _datasets(
        tmp_path,
        chat_hhh=["What is a prime number?", "Tell me about NALA rollout plans."],
        honeypot_actions=["Forward kyle@summitbridge.com the memo.", "canalarm test"],
    )
    checked, hits = marker_hits(datasets, MARKERS)
    assert checked == 4
    assert hits == [
        "chat_hhh:chat_hhh-00001 names NALA",
        "honeypot_actions:honeypot_actions-00000 names summitbridge.com",
    ]


def test_marker_hits_reads_every_message(tmp_path):
    record = _record("chat_hhh", 0, "Who runs the company?", "Kyle Johnson does, at SummitBridge.")
    datasets = {"chat_hhh": _write(tmp_path / "chat.jsonl", [record])}
    assert marker_hits(datasets, MARKERS) == (
        1,
        ["chat_hhh:chat_hhh-00000 names Kyle Johnson, SummitBridge"],
    )


def test_write_report_fails_naming_dataset_record_and_marker(tmp_path):
    out = tmp_path / "contamination.json"
    datasets = _datasets(tmp_path, chat_hhh=["fine", "The EXEC-4429 ticket."])
    with pytest.raises(ContaminationError, match=r"chat_hhh:chat_hhh-00001 names EXEC-4429"):
        write_report(datasets, _suite(tmp_path), out, 13, 3, markers=MARKERS)
    assert not out.exists()


def test_write_report_of_clean_data_records_the_marker_check(tmp_path):
    out = tmp_path / "contamination.json"
    datasets = _datasets(tmp_path, chat_hhh=["fine", "the canalarm"], fiction=["A story."])
    write_report(datasets, _suite(tmp_path), out, 13, 3, markers=MARKERS)
    report = json.loads(out.read_text())
    assert report["clean"] is True
    assert report["eval_markers"] == {
        "markers": len(MARKERS),
        "records_checked": 3,
        "hits": 0,
    }


def test_write_report_without_markers_is_unchanged(tmp_path):
    out = tmp_path / "contamination.json"
    datasets = _datasets(tmp_path, chat_hhh=["SummitBridge is not checked here."])
    write_report(datasets, _suite(tmp_path), out, 13, 3, markers=None)
    report = json.loads(out.read_text())
    assert "eval_markers" not in report
    assert set(report) == {"clean", "ngram", "min_shared_entities", "pairs", "hits", "hits_total"}
