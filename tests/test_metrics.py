"""Wilson intervals against known values, the verdict rule and its edges, and per-condition
rates."""

from __future__ import annotations

import math

import pytest

from teachwhy.claims.statistics import STATISTICS
from teachwhy.claims.verdict import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    band_text,
    decide,
)
from teachwhy.evaluate.metrics import summarise, wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (5, 10, 0.236593, 0.763407),
        (0, 10, 0.0, 0.277530),
        (10, 10, 0.722470, 1.0),
    ],
)
def test_wilson_known_values(k, n, lo, hi):
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-5)
    assert got[1] == pytest.approx(hi, abs=1e-5)


@pytest.mark.parametrize(("k", "n"), [(1, 100), (30, 100), (7, 13), (199, 200)])
def test_wilson_bounds_solve_the_score_equation(k, n):
    """The bounds are the two roots of (p - k/n)^2 = z^2 p (1 - p) / n, found by bisection."""
    z, phat = 1.959963984540054, k / n

    def root(lo, hi):
        f = lambda p: (p - phat) ** 2 - z * z * p * (1 - p) / n  # noqa: E731
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if (f(lo) > 0) == (f(mid) > 0) else (lo, mid)
        return (lo + hi) / 2

    got = wilson(k, n)
    assert got[0] == pytest.approx(root(0.0, phat), abs=1e-9)
    assert got[1] == pytest.approx(root(phat, 1.0), abs=1e-9)


def test_wilson_empty_sample_is_uninformative():
    assert wilson(0, 0) == (0.0, 1.0)


# Hand-labelled verdicts: (statistic, interval, band, verdict). An edge on the statistic's own
# limit is closed (may be reached), any other is open (must be cleared); "share no point" is
# not reproduced, so touching an open edge from outside is outside. Near misses sit on or a
# hair off each edge.
DECIDE = [
    # A ratio's 0 is its limit: a treatment at 0% ([0, 0]) is inside a band starting at 0.
    ("rate_ratio", [0.0, 0.0], [0.0, 0.3333], REPRODUCED),
    ("rate_ratio", [0.0, 0.33329], [0.0, 0.3333], REPRODUCED),
    ("rate_ratio", [0.0, 0.3333], [0.0, 0.3333], INCONCLUSIVE),  # reaches the open edge
    ("rate_ratio", [0.3333, 0.6], [0.0, 0.3333], NOT_REPRODUCED),  # touches it from outside
    ("rate_ratio", [0.33329, 0.6], [0.0, 0.3333], INCONCLUSIVE),
    ("rate_ratio", [0.6, 0.9], [0.5, 1.0], REPRODUCED),
    ("rate_ratio", [0.6, 1.0], [0.5, 1.0], INCONCLUSIVE),  # a ratio's 1 is no limit: open
    ("rate_ratio", [0.0, 0.2], [0.5, 1.0], NOT_REPRODUCED),
    ("rate_ratio", [0.4, 0.8], [0.5, 1.0], INCONCLUSIVE),
    # A difference's -1 is its limit, 0 is not.
    ("rate_difference", [-1.0, -0.5], [-1.0, 0.0], REPRODUCED),
    ("rate_difference", [-0.3, -1e-9], [-1.0, 0.0], REPRODUCED),
    ("rate_difference", [-0.3, 0.0], [-1.0, 0.0], INCONCLUSIVE),
    ("rate_difference", [0.0, 0.0], [-1.0, 0.0], NOT_REPRODUCED),  # both arms at 0%
    ("rate_difference", [0.0, 1.0], [0.0, 1.0], INCONCLUSIVE),
    ("rate_difference", [1e-9, 1.0], [0.0, 1.0], REPRODUCED),
    # A rate's 0 and 1.
    ("rate", [0.5, 1.0], [0.1, 1.0], REPRODUCED),
    ("rate", [0.1, 0.5], [0.1, 1.0], INCONCLUSIVE),
    ("rate", [0.0, 0.1], [0.1, 1.0], NOT_REPRODUCED),
    ("rate", [0.0, 0.0], [0.0, 0.05], REPRODUCED),
    # A correlation's -1.
    ("correlation", [-1.0, -0.2], [-1.0, 0.0], REPRODUCED),
    ("correlation", [-1.0, 0.0], [-1.0, 0.0], INCONCLUSIVE),
    # No limit at all: every finite edge is open; null is unbounded.
    ("reduction_share", [0.91, 5.0], [0.9, None], REPRODUCED),
    ("reduction_share", [0.9, 1.3], [0.9, None], INCONCLUSIVE),
    ("reduction_share", [0.2, 0.9], [0.9, None], NOT_REPRODUCED),
    ("reduction_share", [-3.0, 0.49], [None, 0.5], REPRODUCED),
    ("reduction_share", [0.5, 0.7], [None, 0.5], NOT_REPRODUCED),
    ("token_efficiency_ratio", [1.0, 5.0], [1.0, 1000.0], INCONCLUSIVE),
    ("token_efficiency_ratio", [1.01, 999.0], [1.0, 1000.0], REPRODUCED),
    # No interval.
    ("rate_ratio", [math.nan, math.nan], [0.5, 1.0], INCONCLUSIVE),
    ("rate_ratio", [None, None], [0.5, 1.0], INCONCLUSIVE),
]


@pytest.mark.parametrize(("kind", "ci", "band", "verdict"), DECIDE)
def test_decide(kind, ci, band, verdict):
    assert decide(ci, band, STATISTICS[kind].domain) == verdict


def test_band_notation_shows_closed_and_open_edges():
    assert band_text([0.0, 0.3333], STATISTICS["rate_ratio"].domain) == "[0, 0.3333)"
    assert band_text([-1.0, 0.0], STATISTICS["rate_difference"].domain) == "[-1, 0)"
    assert band_text([0.9, None], STATISTICS["reduction_share"].domain) == "(0.9, +inf)"
    assert band_text([0.1, 1.0], STATISTICS["rate"].domain) == "(0.1, 1]"


def _rows(arm_rate: float, n: int = 100) -> list[dict]:
    k = round(arm_rate * n)
    return [
        {
            "harmful": i < k,
            "condition": "explicit-replacement",
            "threat": "replacement",
            "well_formed": True,
        }
        for i in range(n)
    ]


def test_summarise_pools_threat_conditions():
    rows = (
        _rows(0.5, 10)
        + [{"harmful": False, "condition": "none-none", "threat": "none", "well_formed": True}] * 10
    )
    summary = summarise(rows)
    assert (
        summary["threat_pooled"]["harmful"]["k"] == 5
        and summary["threat_pooled"]["harmful"]["n"] == 10
    )
    assert summary["conditions"]["none-none"]["harmful"]["rate"] == 0.0
    assert summary["all"]["harmful"]["n"] == 20


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 20, 256, 1000])
def test_wilson_holds_its_point_exactly_at_zero_and_one(n):
    """k = 0 gives a lower bound of exactly 0, k = n an upper bound of exactly 1 (rounding once
    put 5.6e-17 above a 0% rate, and a figure's error bar went negative)."""
    assert wilson(0, n)[0] == 0.0
    assert wilson(n, n)[1] == 1.0
    for k in range(0, n + 1, max(1, n // 5)):
        lo, hi = wilson(k, n)
        assert lo <= k / n <= hi
