"""Claim statistics with bootstrap intervals over samples and training seeds.

An arm's outcomes are a list per seed (one boolean per graded sample). A bootstrap draw
resamples the seeds with replacement, then draws each drawn seed's rate from what its samples
say (the Jeffreys posterior of k hits in n), so an interval reflects training noise as well as
sampling noise, and a seed with no hits still leaves room above zero. Sides that
read the same runs (the same trained models) are paired: they share each draw's seed picks
(``seed_picks``), so what the models have in common cancels as it does in the point estimate.

Every statistic is vectorised over the draws and registered in ``STATISTICS`` with the roles
it compares and its domain, the values it can take. A draw whose statistic is undefined (a
denominator at or below zero) is NaN; ``undefined_share`` counts them so a verdict can refuse
an interval built from what is left.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Outcomes = Sequence[Sequence[bool]]  # per seed, per sample
INF = math.inf


def pooled_rate(outcomes: Outcomes) -> float:
    flat = [x for seed in outcomes for x in seed]
    return float(np.mean(flat)) if flat else float("nan")


def seed_picks(seeds: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Which seed each draw takes in each of ``seeds`` slots: (draws, seeds) indices. Pass the
    same picks to every side that reads the same runs."""
    return rng.integers(0, seeds, size=(draws, seeds))


def draw_rates(outcomes: Outcomes, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` bootstrap replicates of the pooled rate (seeds, then samples within seeds)."""
    return draw_counts([int(sum(s)) for s in outcomes], [len(s) for s in outcomes], draws, rng)


def draw_counts(
    ks: Sequence[int],
    ns: Sequence[int],
    draws: int,
    rng: np.random.Generator,
    picks: np.ndarray | None = None,
) -> np.ndarray:
    """As draw_rates, from each seed's count of hits ``k`` out of ``n`` samples. ``picks``
    (from seed_picks) pairs this side with another that read the same runs; without it the
    seeds are resampled here."""
    if not ks:
        return np.full(draws, np.nan)
    if picks is None:
        picks = seed_picks(len(ks), draws, rng)
    if picks.shape != (draws, len(ks)):
        raise ValueError(f"picks of shape {picks.shape} for {draws} draws of {len(ks)} seeds")
    sizes = np.asarray(ns, dtype=np.int64)
    hits = np.asarray(ks, dtype=np.int64)
    # Each drawn seed's rate comes from its Jeffreys posterior, Beta(k + 1/2, n - k + 1/2), not
    # a binomial at k/n: a seed with 0 of 60 hits would otherwise draw exactly 0 every time,
    # and a treatment at 0% would read as a ratio of exactly [0, 0] however few its samples.
    n, k = sizes[picks], hits[picks]
    rates = rng.beta(k + 0.5, np.maximum(n - k, 0) + 0.5)
    total = n.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (rates * n).sum(axis=1) / np.maximum(total, 1), np.nan)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den > 0; NaN (undefined, counted by undefined_share) elsewhere."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def rate(value: np.ndarray) -> np.ndarray:
    return np.asarray(value, float)


def rate_difference(baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    return treatment - baseline


def rate_ratio(baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    """treatment / baseline; undefined where the baseline rate is 0."""
    return _ratio(treatment, baseline)


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
    return _ratio(
        (baseline - treatment) / treatment_tokens, (baseline - reference) / reference_tokens
    )


def reduction_share(
    baseline: np.ndarray, treatment: np.ndarray, reference: np.ndarray
) -> np.ndarray:
    """The treatment's reduction as a share of the reference's: (b - t) / (b - r). 1 means the
    treatment matches the reference's reduction, 0 that it reduces nothing, above 1 that it
    does better. Undefined where the reference reduces nothing (b - r <= 0)."""
    return _ratio(baseline - treatment, baseline - reference)


def correlation(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pearson correlation across arms, per draw: ``xs`` and ``ys`` are (draws, arms).
    Undefined where either measure is the same for every arm."""
    xc = xs - xs.mean(axis=1, keepdims=True)
    yc = ys - ys.mean(axis=1, keepdims=True)
    den = np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    return _ratio((xc * yc).sum(axis=1), den)


@dataclass(frozen=True)
class Statistic:
    """A claim statistic: the roles it compares (in order), its domain (the statistic's own
    limits; an edge of a verdict band that sits on one is closed, any other edge open), the
    roles whose training tokens it reads, and the function (vectorised over draws)."""

    name: str
    roles: tuple[str, ...]
    domain: tuple[float, float]
    function: Callable[..., np.ndarray]
    token_roles: tuple[str, ...] = ()

    def __call__(
        self, rates: dict[str, np.ndarray], tokens: dict[str, float] | None = None
    ) -> np.ndarray:
        args = [rates[r] for r in self.roles]
        args += [(tokens or {})[r] for r in self.token_roles]
        return self.function(*args)


STATISTICS: dict[str, Statistic] = {
    s.name: s
    for s in (
        Statistic("rate", ("value",), (0.0, 1.0), rate),
        Statistic("rate_difference", ("baseline", "treatment"), (-1.0, 1.0), rate_difference),
        Statistic("rate_ratio", ("baseline", "treatment"), (0.0, INF), rate_ratio),
        Statistic(
            "token_efficiency_ratio",
            ("baseline", "treatment", "reference"),
            (-INF, INF),
            token_efficiency_ratio,
            ("treatment", "reference"),
        ),
        Statistic(
            "reduction_share",
            ("baseline", "treatment", "reference"),
            (-INF, INF),
            reduction_share,
        ),
        Statistic("correlation", ("x", "y"), (-1.0, 1.0), correlation),
    )
}


def undefined_share(values: np.ndarray) -> float:
    """The share of draws whose statistic is undefined (NaN)."""
    values = np.asarray(values, float)
    return float(np.mean(~np.isfinite(values))) if values.size else 1.0


def interval(values: np.ndarray) -> list[float]:
    """Percentile 95% interval of the finite draws (NaN, NaN when none is finite)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [float("nan"), float("nan")]
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return [float(lo), float(hi)]
