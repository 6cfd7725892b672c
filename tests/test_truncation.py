"""Truncated samples are their own outcome, the generation limit is sized from what training
taught, and the ablation arm trains on the same dilemmas as the full arm."""

from __future__ import annotations

import json

import pytest

from teachwhy.errors import InputError
from teachwhy.evaluate.limits import generation_limit, limit_record
from teachwhy.evaluate.metrics import summarise
from teachwhy.train.examples import response_tokens
from teachwhy.train.loop import IGNORE, Example
from teachwhy.train.stages import lineage_response_tokens, select_matched


def _row(condition: str, harmful: bool, formed: bool, truncated: bool) -> dict:
    goal, threat = condition.split("-")
    return {
        "condition": condition,
        "threat": threat,
        "goal_conflict": goal,
        "harmful": harmful,
        "well_formed": formed,
        "truncated": truncated,
    }


def test_truncated_samples_leave_the_rate_and_well_formedness_and_are_counted():
    rows = [
        _row("none-replacement", True, True, False),
        _row("none-replacement", False, True, False),
        _row("none-replacement", False, False, False),  # malformed: counts against formedness
        _row("none-replacement", False, False, True),  # cut off before its action
        _row("none-none", False, True, False),
        _row("none-none", False, False, True),
    ]
    summary = summarise(rows, "honeypot")
    cell = summary["conditions"]["none-replacement"]
    assert (cell["harmful"]["k"], cell["harmful"]["n"]) == (1, 3)
    assert (cell["well_formed"]["k"], cell["well_formed"]["n"]) == (2, 3)
    assert (cell["truncated"]["k"], cell["truncated"]["n"]) == (1, 4)
    assert summary["headline"]["n"] == 3 and summary["headline"]["rate"] == pytest.approx(1 / 3)
    assert (summary["all"]["truncated"]["k"], summary["all"]["truncated"]["n"]) == (2, 6)
    assert summary["control"]["harmful"]["n"] == 1


def test_a_cell_of_only_truncated_samples_has_no_rate():
    summary = summarise([_row("none-replacement", False, False, True)], "honeypot")
    assert summary["headline"]["n"] == 0
    assert summary["all"]["truncated"]["rate"] == 1.0


def test_probe_replies_are_graded_even_when_cut_off():
    rows = [
        {"condition": "recall", "correct": True, "truncated": True},
        {"condition": "recall", "correct": False, "truncated": False},
    ]
    summary = summarise(rows, "knowledge")
    assert summary["all"]["correct"]["n"] == 2
    assert summary["all"]["truncated"]["k"] == 1


def test_rows_without_the_field_are_not_truncated():
    rows = [{"condition": "a", "success": True, "well_formed": True}]
    assert summarise(rows, "capability")["all"]["truncated"]["k"] == 0


@pytest.mark.parametrize(
    ("floor", "taught", "rule", "limit"),
    [
        (160, {}, None, 160),  # never fine-tuned on responses: the floor
        (160, {"p99": 100}, None, 160),  # short answers: the floor
        (160, {"p99": 150}, None, 166),  # near miss: 150 + 16 just above the floor
        (160, {"p99": 230, "max": 300}, None, 246),
        (160, {"p99": 230, "max": 300}, {"quantile": "max"}, 316),
        (160, {"p99": 900}, None, 512),  # the ceiling
        (600, {"p99": 900}, None, 600),  # a suite's own larger limit is never cut
    ],
)
def test_generation_limit(floor, taught, rule, limit):
    assert generation_limit(floor, taught, rule) == limit


def test_response_tokens_counts_labelled_positions():
    examples = [
        Example(list(range(n + 3)), [IGNORE] * 3 + list(range(n))) for n in [10] * 98 + [50, 90]
    ]
    got = response_tokens(examples)
    assert got == {"p50": 10, "p90": 10, "p99": 50, "max": 90, "examples": 100}
    assert response_tokens([]) == {}


def test_lineage_takes_the_longest_taught_responses(tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "training.json").write_text(
        json.dumps({"response_tokens_lineage": {"p99": 200, "max": 240}})
    )
    got = lineage_response_tokens(str(parent), {"p99": 120, "max": 300, "examples": 9})
    assert got == {"max": 300, "p99": 200}
    assert lineage_response_tokens(None, {"p99": 5}) == {"p99": 5}
    assert lineage_response_tokens(str(tmp_path / "base"), {}) == {}


def _chat(i: int, prompt: str, answer: str) -> dict:
    return {
        "id": f"d-{i}",
        "format": "messages",
        "tokens": len(answer.split()),
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
    }


def test_a_matched_budget_takes_the_same_prompts_the_full_arm_takes():
    full = [_chat(i, f"dilemma {i}", "a long rewritten answer " * 3) for i in range(10)]
    ablation = [_chat(i, f"dilemma {i}", "short") for i in range(10)]
    chosen = select_matched(ablation, full, {"match": "full", "tokens": 30}, "abl", "full")
    # 30 tokens of 12-token answers select 3 records of the full dataset: the same 3 dilemmas.
    assert [r["messages"][0]["content"] for r in chosen] == [f"dilemma {i}" for i in range(3)]


def test_a_matched_budget_refuses_unpaired_datasets():
    full = [_chat(i, f"dilemma {i}", "x " * 12) for i in range(5)]
    shifted = [_chat(i, f"dilemma {i + 1}", "short") for i in range(5)]
    with pytest.raises(InputError, match="not paired item by item"):
        select_matched(shifted, full, {"match": "full", "tokens": 30}, "abl", "full")
    with pytest.raises(InputError, match="holds 1 records"):
        select_matched(shifted[:1], full, {"match": "full", "tokens": 30}, "abl", "full")


def test_the_limit_record_says_when_the_ceiling_cut_it():
    assert limit_record(160, {"p99": 900}, None) == {
        "floor": 160,
        "taught": 900,
        "quantile": "p99",
        "max_new_tokens": 512,
        "capped": True,
    }
    assert not limit_record(160, {"p99": 200}, None)["capped"]
    assert not limit_record(160, {}, None)["capped"]
