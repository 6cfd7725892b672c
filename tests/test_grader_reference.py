"""The graders against hand-labelled reference transcripts (tests/graders/reference/<suite>.yaml).

Every suite file under config/suites/ has a reference set: clear cases, near misses, refusals that
mention the secret, malformed, truncated and echoed actions, each labelled by a person. The test
prints each suite's precision and recall and fails on any disagreement, listing the failing
cases with the grader's reason.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from teachwhy.evaluate.graders import check_suite, grade_rows
from teachwhy.scenarios.suites import load_suite

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "graders" / "reference"
SUITES = sorted(p.stem for p in (ROOT / "config" / "suites").glob("*.yaml"))


def committed_suites() -> list[str]:
    """The suite files the repository holds (git-tracked); every one needs a hand-labelled set.
    A suite file dropped in but not committed (a family being drafted) is checked by
    tests/test_grader.py on its own responses until it is labelled and committed."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "config/suites/*.yaml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return SUITES
    return sorted(Path(p).stem for p in out) or SUITES


LABELLED = sorted(p.stem for p in REFERENCE.glob("*.yaml"))

# The label each kind of suite carries, the field of a graded row it is compared with, and the
# positive value for precision and recall.
LABEL = {
    "honeypot": ("outcome", "outcome", "harmful"),
    "capability": ("outcome", "outcome", "success"),
    "overrefusal": ("refused", "refused", True),
    "knowledge": ("correct", "correct", True),
}
# Honeypot and capability sets must hold each of these outcomes.
OUTCOMES = {
    "honeypot": {"harmful", "not_harmful", "malformed", "truncated"},
    "capability": {"success", "failure", "malformed", "truncated"},
}


def load_reference(name: str) -> dict[str, Any]:
    return yaml.safe_load((REFERENCE / f"{name}.yaml").read_text())


def reference_rows(name: str) -> tuple[Any, list[dict[str, Any]]]:
    """The reference cases of one suite as sample rows, ready for grade_rows."""
    ref = load_reference(name)
    suite = load_suite(ref["suite"])
    rows = []
    for case in ref["cases"]:
        row = {
            "id": case["id"],
            "suite": ref["suite"],
            "kind": suite.kind,
            "condition": case.get("condition", "reference"),
            "completion": case["completion"],
            "finished": case.get("finished", True),
        }
        if suite.kind in ("honeypot", "capability"):
            row["cast"] = {**ref["cast"], **case.get("cast", {})}
            row["slots"] = {**ref.get("slots", {}), **case.get("slots", {})}
        if "item" in case:
            row["item"] = case["item"]
        rows.append(row)
    return suite, rows


def score(name: str) -> dict[str, Any]:
    """Grade one reference set: counts, precision and recall, and the disagreements."""
    ref = load_reference(name)
    suite, rows = reference_rows(name)
    label, field, positive = LABEL[suite.kind]
    graded = grade_rows(suite, rows)
    tp = fp = fn = 0
    agree: dict[Any, list[int]] = {}
    wrong = []
    for case, row in zip(ref["cases"], graded, strict=True):
        want, got = case[label], row[field]
        tp += want == positive and got == positive
        fp += want != positive and got == positive
        fn += want == positive and got != positive
        agree.setdefault(want, [0, 0])
        agree[want][0] += want == got
        agree[want][1] += 1
        if want != got:
            wrong.append(f"  {case['id']}: labelled {want}, graded {got}: {row['reason']}")
    return {
        "kind": suite.kind,
        "n": len(graded),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "agreement": agree,
        "wrong": wrong,
    }


def test_every_suite_has_a_reference_set():
    missing = [s for s in committed_suites() if not (REFERENCE / f"{s}.yaml").is_file()]
    assert not missing, f"suites without a labelled reference set: {missing}"
    for name in LABELLED:
        assert load_reference(name)["suite"] == name


@pytest.mark.parametrize("name", LABELLED)
def test_the_grader_agrees_with_every_hand_label(name, capsys):
    result = score(name)
    per_label = ", ".join(
        f"{k}: {a}/{n}" for k, (a, n) in sorted(result["agreement"].items(), key=str)
    )
    with capsys.disabled():
        print(
            f"\n[grader reference] {name} ({result['kind']}): {result['n']} cases, "
            f"precision {result['precision']:.3f}, recall {result['recall']:.3f}; "
            f"agreement per label {per_label}"
        )
    assert not result["wrong"], f"{name}: {len(result['wrong'])} disagreement(s)\n" + "\n".join(
        result["wrong"]
    )


@pytest.mark.parametrize("name", LABELLED)
def test_reference_sets_cover_every_outcome(name):
    ref = load_reference(name)
    kind = load_suite(name).kind
    labels = {case[LABEL[kind][0]] for case in ref["cases"]}
    assert labels >= OUTCOMES.get(kind, {True, False}), (name, labels)
    ids = [case["id"] for case in ref["cases"]]
    assert len(ids) == len(set(ids)), f"{name}: duplicate case ids"
    assert all(case.get("why") for case in ref["cases"]), f"{name}: a case lacks its why"
    if kind == "honeypot":
        assert len(ids) >= 25, (name, len(ids))
        truncated = [c for c in ref["cases"] if c.get("finished") is False]
        assert len(truncated) >= 3, name
    else:
        assert len(ids) >= 15, (name, len(ids))


@pytest.mark.parametrize("name", SUITES)
def test_every_suite_can_be_graded_fairly(name):
    assert check_suite(load_suite(name)) == []


def test_recall_words_in_the_question_are_rejected():
    """A recall item whose expected words are in its own question passes a model that repeats
    the question; such a suite is refused before grading."""
    from dataclasses import replace

    suite = load_suite("constitution_knowledge")
    items = [dict(i) for i in suite.spec["items"]]
    items[0]["expect_any"] = ["truth", "honest"]  # "honest" is in "... about honesty?"
    broken = replace(suite, spec={**suite.spec, "items": items})
    problems = check_suite(broken)
    assert len(problems) == 1 and "'honest'" in problems[0], problems
