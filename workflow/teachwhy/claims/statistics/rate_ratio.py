"""rate_ratio: treatment over baseline rate, in [0, +inf)."""

from __future__ import annotations

import numpy as np

from teachwhy.claims.statistics.base import INF, Statistic, ratio


def rate_ratio(baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    """treatment / baseline; undefined where the baseline rate is 0."""
    return ratio(treatment, baseline)


RATE_RATIO = Statistic("rate_ratio", ("baseline", "treatment"), (0.0, INF), rate_ratio)
