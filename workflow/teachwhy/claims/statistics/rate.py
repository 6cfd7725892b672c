"""rate: one side's rate, in [0, 1], with the Wilson interval over every seed's samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from teachwhy.claims.statistics.base import Statistic
from teachwhy.claims.statistics.bootstrap import finite


def rate(value: np.ndarray) -> np.ndarray:
    return np.asarray(value, float)


def wilson(
    statistic: Statistic,
    claim: dict[str, Any],
    sides: dict[str, dict[str, Any]],
    resamples: int,
    seed: int,
    tokens: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A single rate needs no bootstrap: its side's Wilson interval, pooled over every seed."""
    value = sides["value"]
    return {
        "kind": statistic.name,
        "domain": [finite(x) for x in statistic.domain],
        "value": finite(value["rate"]),
        "ci95": [finite(x) for x in value["ci95"]],
        "undefined_share": 0.0 if value["n"] else 1.0,
        "method": "Wilson score interval over every seed's samples",
    }


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


RATE = Statistic("rate", ("value",), (0.0, 1.0), rate, estimator=wilson, shown=percent)
