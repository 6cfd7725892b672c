"""token_efficiency_ratio: rate reduction per training token, treatment against reference."""

from __future__ import annotations

import numpy as np

from teachwhy.claims.statistics.base import INF, Statistic, ratio


def token_efficiency_ratio(
    baseline: np.ndarray,
    treatment: np.ndarray,
    reference: np.ndarray,
    treatment_tokens: float,
    reference_tokens: float,
) -> np.ndarray:
    """How many times more rate reduction per training token the treatment buys than the
    reference: ((b - t) / tokens_t) / ((b - r) / tokens_r). The paper's 3M-vs-85M claim is a
    ratio of about 28 (equal reductions at 1/28 of the tokens). Undefined where the reference
    reduces nothing (b - r <= 0)."""
    return ratio(
        (baseline - treatment) / treatment_tokens, (baseline - reference) / reference_tokens
    )


TOKEN_EFFICIENCY_RATIO = Statistic(
    "token_efficiency_ratio",
    ("baseline", "treatment", "reference"),
    (-INF, INF),
    token_efficiency_ratio,
    token_roles=("treatment", "reference"),
)
