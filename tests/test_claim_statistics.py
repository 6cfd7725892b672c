"""Claim statistics: bootstrap over seeds and samples, and the paper's derived statistics."""

from __future__ import annotations

import numpy as np
import pytest

from teachwhy.claims.statistics import (
    correlation,
    draw_rates,
    interval,
    pooled_rate,
    rate_difference,
    rate_ratio,
    token_efficiency_ratio,
)


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
    assert np.isnan(rate_ratio(np.array([0.0]), treat)[0])
    # The same reduction with 1/28 of the tokens is 28 times as token-efficient.
    assert token_efficiency_ratio(base, treat, ref, 3.0, 84.0)[0] == pytest.approx(28.0)
    xs = np.array([[0.1, 0.2, 0.3, 0.4]])
    assert correlation(xs, 1 - xs)[0] == pytest.approx(-1.0)
    assert interval(np.array([np.nan, np.nan])) == [pytest.approx(np.nan, nan_ok=True)] * 2
