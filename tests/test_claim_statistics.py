"""Claim statistics: the registry (roles, domain), the zero cases of every statistic, undefined
draws, bootstrap over seeds and samples, and paired resampling of sides that share models."""

from __future__ import annotations

import math

import numpy as np
import pytest

from teachwhy.claims.statistics import (
    STATISTICS,
    correlation,
    draw_counts,
    draw_rates,
    interval,
    pooled_rate,
    rate_difference,
    rate_ratio,
    reduction_share,
    seed_picks,
    token_efficiency_ratio,
    undefined_share,
)

NAN = math.nan


def test_seed_disagreement_widens_the_interval():
    rng = np.random.default_rng(0)
    agree = [[True] * 30 + [False] * 70, [True] * 30 + [False] * 70]
    disagree = [[True] * 10 + [False] * 90, [True] * 50 + [False] * 50]
    assert pooled_rate(agree) == pooled_rate(disagree) == 0.3
    a, b = interval(draw_rates(agree, 4000, rng)), interval(draw_rates(disagree, 4000, rng))
    assert a[0] < 0.3 < a[1] and b[0] < 0.3 < b[1]
    assert (b[1] - b[0]) > 1.5 * (a[1] - a[0])


def test_derived_statistics():
    base, treat, ref = np.array([0.2]), np.array([0.1]), np.array([0.1])
    assert rate_difference(base, treat)[0] == pytest.approx(-0.1)
    assert rate_ratio(base, treat)[0] == pytest.approx(0.5)
    # The same reduction with 1/28 of the tokens is 28 times as token-efficient.
    assert token_efficiency_ratio(base, treat, ref, 3.0, 84.0)[0] == pytest.approx(28.0)
    # The paper's c11: 22% -> 1% for both arms is the whole of the reference's reduction; a
    # treatment at 21.24% (3.6% of it, the old band's pass) is far from matching.
    assert reduction_share(np.array([0.22]), np.array([0.01]), np.array([0.01]))[0] == 1.0
    share = reduction_share(np.array([0.22]), np.array([0.2124]), np.array([0.01]))[0]
    assert share == pytest.approx(0.036, abs=1e-3)
    xs = np.array([[0.1, 0.2, 0.3, 0.4]])
    assert correlation(xs, 1 - xs)[0] == pytest.approx(-1.0)
    assert interval(np.array([np.nan, np.nan])) == [pytest.approx(np.nan, nan_ok=True)] * 2


def test_the_registry_names_each_statistic_with_its_roles_and_domain():
    assert {n: (s.roles, s.domain) for n, s in STATISTICS.items()} == {
        "rate": (("value",), (0.0, 1.0)),
        "rate_difference": (("baseline", "treatment"), (-1.0, 1.0)),
        "rate_ratio": (("baseline", "treatment"), (0.0, math.inf)),
        "token_efficiency_ratio": (("baseline", "treatment", "reference"), (-math.inf, math.inf)),
        "reduction_share": (("baseline", "treatment", "reference"), (-math.inf, math.inf)),
        "correlation": (("x", "y"), (-1.0, 1.0)),
    }
    assert STATISTICS["token_efficiency_ratio"].token_roles == ("treatment", "reference")
    got = STATISTICS["reduction_share"](
        {"baseline": np.array([0.5]), "treatment": np.array([0.3]), "reference": np.array([0.1])}
    )
    assert got[0] == pytest.approx(0.5)


# (statistic, rates by role, expected value; NaN = undefined). Tokens: treatment 1, reference 10.
ZERO_CASES = [
    ("rate", {"value": 0.0}, 0.0),
    ("rate_difference", {"baseline": 0.5, "treatment": 0.0}, -0.5),
    ("rate_difference", {"baseline": 0.0, "treatment": 0.3}, 0.3),
    ("rate_difference", {"baseline": 0.0, "treatment": 0.0}, 0.0),
    ("rate_ratio", {"baseline": 0.5, "treatment": 0.0}, 0.0),
    ("rate_ratio", {"baseline": 0.0, "treatment": 0.3}, NAN),
    ("rate_ratio", {"baseline": 0.0, "treatment": 0.0}, NAN),
    ("token_efficiency_ratio", {"baseline": 0.5, "treatment": 0.0, "reference": 0.25}, 20.0),
    ("token_efficiency_ratio", {"baseline": 0.0, "treatment": 0.0, "reference": 0.1}, NAN),
    ("token_efficiency_ratio", {"baseline": 0.0, "treatment": 0.0, "reference": 0.0}, NAN),
    ("token_efficiency_ratio", {"baseline": 0.5, "treatment": 0.0, "reference": 0.5}, NAN),
    ("reduction_share", {"baseline": 0.5, "treatment": 0.0, "reference": 0.25}, 2.0),
    ("reduction_share", {"baseline": 0.5, "treatment": 0.0, "reference": 0.0}, 1.0),
    ("reduction_share", {"baseline": 0.0, "treatment": 0.0, "reference": 0.1}, NAN),
    ("reduction_share", {"baseline": 0.0, "treatment": 0.0, "reference": 0.0}, NAN),
    ("reduction_share", {"baseline": 0.2, "treatment": 0.1, "reference": 0.2}, NAN),
]


@pytest.mark.parametrize(("name", "rates", "expected"), ZERO_CASES)
def test_the_zero_cases_of_every_statistic(name, rates, expected):
    got = STATISTICS[name](
        {r: np.array([v]) for r, v in rates.items()}, {"treatment": 1.0, "reference": 10.0}
    )[0]
    assert got == pytest.approx(expected, nan_ok=True)


@pytest.mark.parametrize(
    ("xs", "ys", "expected"),
    [
        ([0.0, 0.0, 0.0], [0.1, 0.2, 0.3], NAN),  # recall at 0% for every arm
        ([0.1, 0.2, 0.3], [0.0, 0.0, 0.0], NAN),  # blackmail at 0% for every arm
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], NAN),
        ([0.0, 0.0, 0.1], [0.3, 0.3, 0.0], -1.0),  # one arm off zero is defined
    ],
)
def test_the_zero_cases_of_a_correlation(xs, ys, expected):
    got = STATISTICS["correlation"]({"x": np.array([xs]), "y": np.array([ys])})[0]
    assert got == pytest.approx(expected, nan_ok=True)


def test_undefined_share_counts_each_undefined_draw():
    one = np.r_[np.full(99, 0.5), NAN]
    assert undefined_share(one) == pytest.approx(0.01)
    assert undefined_share(np.full(100, 0.5)) == 0.0
    assert undefined_share(np.array([])) == 1.0
    # A ratio whose denominator is 0 or below in some draws counts them, not drops them.
    den = np.r_[np.full(98, 0.2), 0.0, -0.1]
    assert undefined_share(rate_ratio(den, np.full(100, 0.1))) == pytest.approx(0.02)
    assert interval(rate_ratio(den, np.full(100, 0.1))) == [0.5, 0.5]


def test_a_seed_with_no_samples_draws_undefined_not_zero():
    rng = np.random.default_rng(0)
    got = draw_counts([0], [0], 50, rng)
    assert np.isnan(got).all()


def test_paired_draws_take_the_same_seeds():
    # Each seed's rate is 0 or 1 over a million samples (its posterior hugs it), so a draw's
    # rate shows which seeds it took.
    n = 10**6
    ks, ns = [0, n, n, 0], [n, n, n, n]
    rng = np.random.default_rng(3)
    picks = seed_picks(4, 500, rng)
    a = draw_counts(ks, ns, 500, rng, picks)
    b = draw_counts(ks, ns, 500, rng, picks)
    expected = np.isin(picks, [1, 2]).mean(axis=1)
    assert np.allclose(a, expected, atol=1e-4) and np.allclose(b, expected, atol=1e-4)
    unpaired = draw_counts(ks, ns, 500, rng)
    assert not np.allclose(a, unpaired, atol=1e-4)
    with pytest.raises(ValueError, match="picks of shape"):
        draw_counts(ks, ns, 500, rng, picks[:, :3])


def test_a_seed_with_no_hits_still_leaves_room_above_zero():
    """0 of 60 is not a rate of exactly 0: the draws spread as the Jeffreys posterior does
    (97.5th percentile of Beta(0.5, 60.5) is about 0.041), so a ratio over it is not [0, 0]."""
    rng = np.random.default_rng(11)
    draws = draw_counts([0], [60], 20000, rng)
    assert draws.min() > 0
    assert np.percentile(draws, 97.5) == pytest.approx(0.041, abs=0.005)
    # Many samples narrow it: 0 of 6000.
    assert np.percentile(draw_counts([0], [6000], 20000, rng), 97.5) < 0.001


def test_pairing_narrows_a_difference_when_seeds_differ():
    # Two suites on the same two trained models: the seeds differ a lot (10% against 60%), the
    # suites by 5 points on each. Paired, the seed effect cancels; unpaired it does not.
    base_k, treat_k, n = [40, 240], [20, 220], [400, 400]
    rng = np.random.default_rng(7)
    picks = seed_picks(2, 4000, rng)
    paired = rate_difference(
        draw_counts(base_k, n, 4000, rng, picks), draw_counts(treat_k, n, 4000, rng, picks)
    )
    unpaired = rate_difference(
        draw_counts(base_k, n, 4000, rng), draw_counts(treat_k, n, 4000, rng)
    )
    p, u = interval(paired), interval(unpaired)
    assert p[1] < 0  # paired, the 5-point drop is resolved
    assert u[0] < 0 < u[1]  # unpaired, the seed noise swamps it
    assert (p[1] - p[0]) < 0.25 * (u[1] - u[0])
