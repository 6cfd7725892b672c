"""reduction_share: the treatment's rate reduction as a share of the reference's."""

from __future__ import annotations

import numpy as np

from teachwhy.claims.statistics.base import INF, Statistic, ratio


def reduction_share(
    baseline: np.ndarray, treatment: np.ndarray, reference: np.ndarray
) -> np.ndarray:
    """The treatment's reduction as a share of the reference's: (b - t) / (b - r). 1 means the
    treatment matches the reference's reduction, 0 that it reduces nothing, above 1 that it
    does better. Undefined where the reference reduces nothing (b - r <= 0)."""
    return ratio(baseline - treatment, baseline - reference)


REDUCTION_SHARE = Statistic(
    "reduction_share", ("baseline", "treatment", "reference"), (-INF, INF), reduction_share
)
