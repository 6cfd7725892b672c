"""Figure marks: the rule that a plotted side fails validity (hand-labelled cases, near misses
at each threshold), which plotted measures a claim side covers, and the registries the figure
kinds and claim statistics dispatch through."""

from __future__ import annotations

import math

import pytest

from teachwhy.claims.figures import KINDS, side_failures
from teachwhy.claims.figures.marks import covers, measure_failures
from teachwhy.claims.manifest import claim_measures, load_claims
from teachwhy.claims.statistics import STATISTICS
from teachwhy.schemas import load_schema

RULE = {"min_well_formed": 0.5, "max_truncated": 0.1}
VALID = {"blackmail": {"arm": "chat", "valid": True, "why": "control near zero", "runs": ["chat"]}}


def counts(k: int, n: int) -> dict:
    return {"k": k, "n": n, "rate": k / n if n else math.nan}


def side(
    arm: str = "treat",
    can_act: bool = True,
    formed: tuple[int, int] | None = (90, 100),
    cut: tuple[int, int] | None = (0, 100),
    suites: tuple[str, ...] = ("blackmail",),
    source: str = "metrics",
) -> dict:
    """A claim record's side as evaluate_claim writes it (the fields the rule reads)."""
    out = {
        "arm": arm,
        "source": source,
        "suites": list(suites),
        "suite_kinds": {s: "honeypot" for s in suites},
        "can_act": can_act,
    }
    if formed is not None:
        out["well_formed"] = counts(*formed)
    if cut is not None:
        out["truncated"] = counts(*cut)
    return out


def invalid(suite: str = "blackmail", valid: bool | None = False, arm: str = "chat") -> dict:
    return {suite: {"arm": arm, "valid": valid, "why": "control rate 0.300 > 0.05", "runs": []}}


# (case, side, validity, the phrase of its one reason, or None: not marked). Hand-labelled.
CASES = [
    ("healthy", side(), VALID, None),
    ("well-formed exactly at the floor", side(formed=(50, 100)), VALID, None),
    ("well-formed just below the floor", side(formed=(49, 100)), VALID, "only 49 of 100"),
    ("no graded transcript at all", side(formed=(0, 0)), VALID, "only 0 of 0"),
    ("cannot act, nothing well-formed", side(can_act=False, formed=None), VALID, None),
    ("truncated exactly at the ceiling", side(cut=(10, 100)), VALID, None),
    ("truncated just above the ceiling", side(cut=(11, 100)), VALID, "11 of 100 samples"),
    ("truncation not counted by every seed", side(cut=None), VALID, None),
    ("no samples to truncate", side(cut=(0, 0)), VALID, None),
    ("cannot act, many truncated", side(can_act=False, formed=None, cut=(50, 100)), VALID, None),
    ("baseline arm on a valid suite", side(arm="chat"), VALID, None),
    ("baseline arm on an invalid suite", side(arm="chat"), invalid(), "'blackmail' is not a valid"),
    ("baseline arm, validity undecided", side(arm="chat"), invalid(valid=None), "not a valid"),
    ("another arm on an invalid suite", side(arm="treat"), invalid(), None),
    ("baseline arm, a suite it does not read", side(arm="chat"), invalid("leaking"), None),
    (
        "RL curve that cannot write its action",
        side(source="rl_curve", suites=(), formed=(24, 80)),
        {},
        "on its RL curve",
    ),
]


@pytest.mark.parametrize(
    ("case", "claim_side", "validity", "phrase"), CASES, ids=[c[0] for c in CASES]
)
def test_which_sides_fail_validity(case, claim_side, validity, phrase):
    reasons = side_failures(claim_side, RULE, validity)
    if phrase is None:
        assert reasons == []
    else:
        assert len(reasons) == 1 and phrase in reasons[0]


def test_a_side_failing_every_rule_gives_every_reason():
    reasons = side_failures(side(arm="chat", formed=(1, 10), cut=(5, 10)), RULE, invalid())
    assert [r.split()[0] for r in reasons] == ["writes", "5", "'blackmail'"]


def measure(arm: str, suites: list[str], source: str = "metrics") -> dict:
    return {"arm": arm, "suites": suites, "source": source, "conditions": "threat",
            "outcome": "harmful", "label": arm}  # fmt: skip


@pytest.mark.parametrize(
    ("plotted", "claim_side", "covered"),
    [
        (measure("chat", ["blackmail"]), side("chat"), True),
        # A bar that splits a pooled side is covered by it: the pool's counts include the bar's.
        (measure("chat", ["blackmail"]), side("chat", suites=("blackmail", "leaking")), True),
        (measure("chat", ["leaking"]), side("chat"), False),
        (measure("treat", ["blackmail"]), side("chat"), False),
        (measure("chat", [], "rl_curve"), side("chat", source="rl_curve", suites=()), True),
        (measure("chat", ["blackmail"], "rl_curve"), side("chat"), False),
    ],
)
def test_which_plotted_measures_a_claim_side_covers(plotted, claim_side, covered):
    assert covers(claim_side, plotted) is covered


def record(claim_id: str, sides: dict, validity: dict) -> dict:
    return {"id": claim_id, "sides": sides, "verdict_rule": RULE, "validity": validity}


def test_a_plotted_side_is_marked_as_its_claim_side_is():
    broken = side("treat", formed=(30, 100))
    claims = [record("c1", {"baseline": side("chat"), "treatment": broken}, VALID)]
    got = measure_failures(measure("treat", ["blackmail"]), claims)
    assert got == {r: ["c1"] for r in side_failures(broken, RULE, VALID)} != {}
    assert measure_failures(measure("chat", ["blackmail"]), claims) == {}


def test_a_reason_given_by_two_claims_names_both():
    claims = [
        record("c1", {"baseline": side("chat")}, invalid()),
        record("c2", {"baseline": side("chat")}, invalid()),
    ]
    [(reason, ids)] = measure_failures(measure("chat", ["blackmail"]), claims).items()
    assert "'blackmail' is not a valid test" in reason and ids == ["c1", "c2"]


def test_an_invalid_suite_marks_the_baseline_arm_where_no_side_plots_it():
    # The validity is the baseline arm's, per suite: a reference bar shows it whether or not a
    # claim compares exactly that bar.
    claims = [record("c1", {"treatment": side("treat")}, invalid())]
    assert list(measure_failures(measure("chat", ["blackmail"]), claims).values()) == [["c1"]]
    assert measure_failures(measure("chat", ["leaking"]), claims) == {}


def test_an_rl_curve_reads_the_validity_of_the_suite_it_samples():
    curve = side("chat", source="rl_curve", suites=())
    curve["suite_kinds"] = {"blackmail": "honeypot"}
    claims = [record("c1", {"baseline": curve}, invalid())]
    got = measure_failures(measure("chat", [], "rl_curve"), claims)
    assert len(got) == 1 and "'blackmail' is not a valid" in next(iter(got))


def test_the_registries_match_the_manifest_schema():
    schema = load_schema("claims")
    figure = schema["properties"]["figures"]["additionalProperties"]["properties"]
    assert set(KINDS) == set(figure["kind"]["enum"])
    claim = schema["properties"]["claims"]["items"]["properties"]
    assert set(STATISTICS) == set(claim["statistic"]["enum"])


def test_each_statistic_names_the_sides_its_claims_read():
    for claim in load_claims()["claims"].values():
        keys = [key for key, _, _ in STATISTICS[claim["statistic"]].sides(claim)]
        assert keys == list(claim_measures(claim))
