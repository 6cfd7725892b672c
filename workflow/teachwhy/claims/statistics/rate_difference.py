"""rate_difference: treatment minus baseline rate, in [-1, 1]."""

from __future__ import annotations

import numpy as np

from teachwhy.claims.statistics.base import Statistic


def rate_difference(baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    return treatment - baseline


def percentage_points(value: float) -> str:
    return f"{100 * value:+.1f} pp"


RATE_DIFFERENCE = Statistic(
    "rate_difference",
    ("baseline", "treatment"),
    (-1.0, 1.0),
    rate_difference,
    shown=percentage_points,
)
