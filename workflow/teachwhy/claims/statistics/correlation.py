"""correlation: Pearson correlation of two measures across a claim's arms, in [-1, 1].

Its sides are one per measure and arm (``x:<arm>``, ``y:<arm>``), and its function reads each
measure as a row of rates over the arms (per draw)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from teachwhy.claims.statistics.base import Rates, Statistic, ratio


def correlation(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pearson correlation across arms, per draw: ``xs`` and ``ys`` are (draws, arms).
    Undefined where either measure is the same for every arm."""
    xc = xs - xs.mean(axis=1, keepdims=True)
    yc = ys - ys.mean(axis=1, keepdims=True)
    den = np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    return ratio((xc * yc).sum(axis=1), den)


def per_arm(statistic: Statistic, claim: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f"{role}:{arm}", role, arm) for role in statistic.roles for arm in claim["arms"]]


def over_arms(
    statistic: Statistic, claim: dict[str, Any], rate_of: Callable[[str], np.ndarray]
) -> Rates:
    """Each measure's rates stacked over the arms: (draws, arms)."""
    return {
        role: np.stack([rate_of(f"{role}:{arm}") for arm in claim["arms"]], axis=1)
        for role in statistic.roles
    }


CORRELATION = Statistic(
    "correlation",
    ("x", "y"),
    (-1.0, 1.0),
    correlation,
    gather=over_arms,
    side_keys=per_arm,
    over_arms=True,
)
