"""Wilson intervals against known values, the verdict rule, and per-condition rates."""

from __future__ import annotations

import math

import pytest

from teachwhy.claims.verdict import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, decide
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


@pytest.mark.parametrize(
    ("ci", "band", "verdict"),
    [
        ([0.6, 0.9], [0.5, 1.0], REPRODUCED),
        ([0.0, 0.2], [0.5, 1.0], NOT_REPRODUCED),
        ([0.4, 0.8], [0.5, 1.0], INCONCLUSIVE),
        ([-0.3, -0.1], [-1.0, 0.0], REPRODUCED),
        ([0.0, 0.0], [-1.0, 0.0], NOT_REPRODUCED),
        ([math.nan, math.nan], [0.5, 1.0], INCONCLUSIVE),
    ],
)
def test_decide(ci, band, verdict):
    assert decide(ci, band) == verdict


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
