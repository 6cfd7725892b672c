"""Claim statistics, one module per statistic, registered in ``STATISTICS``.

Each module holds the statistic's function (vectorised over bootstrap draws) and its
``Statistic`` record: the roles it compares, its domain (the values it can take), the roles
whose training tokens it reads, and where it differs from the rest, how it gets its point value
and interval (a single rate: Wilson; every other: the paired bootstrap over seeds and samples
in ``bootstrap``) and which sides a claim of it reads (a correlation: one per measure and arm).
A draw whose statistic is undefined (a denominator at or below zero) is NaN; ``undefined_share``
counts them so a verdict can refuse an interval built from what is left.

A new statistic is one new module and one line in ``STATISTICS``. The package exports each
statistic's function under the statistic's name, so import a module by ``from ... import``
of its record (``from teachwhy.claims.statistics.rate import RATE``), not ``import ... as``.
"""

from __future__ import annotations

from teachwhy.claims.statistics.base import INF, Statistic
from teachwhy.claims.statistics.bootstrap import (
    Outcomes,
    draw_counts,
    draw_rates,
    interval,
    paired_groups,
    pooled_rate,
    seed_picks,
    undefined_share,
)
from teachwhy.claims.statistics.correlation import CORRELATION, correlation
from teachwhy.claims.statistics.rate import RATE, rate
from teachwhy.claims.statistics.rate_difference import RATE_DIFFERENCE, rate_difference
from teachwhy.claims.statistics.rate_ratio import RATE_RATIO, rate_ratio
from teachwhy.claims.statistics.reduction_share import REDUCTION_SHARE, reduction_share
from teachwhy.claims.statistics.token_efficiency_ratio import (
    TOKEN_EFFICIENCY_RATIO,
    token_efficiency_ratio,
)

STATISTICS: dict[str, Statistic] = {
    s.name: s
    for s in (
        RATE,
        RATE_DIFFERENCE,
        RATE_RATIO,
        TOKEN_EFFICIENCY_RATIO,
        REDUCTION_SHARE,
        CORRELATION,
    )
}

__all__ = [
    "INF",
    "STATISTICS",
    "Outcomes",
    "Statistic",
    "correlation",
    "draw_counts",
    "draw_rates",
    "interval",
    "paired_groups",
    "pooled_rate",
    "rate",
    "rate_difference",
    "rate_ratio",
    "reduction_share",
    "seed_picks",
    "token_efficiency_ratio",
    "undefined_share",
]
