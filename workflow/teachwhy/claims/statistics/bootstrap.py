"""Bootstrap draws over training seeds and samples, and the estimate every derived statistic
gets from them.

An arm's outcomes are a list per seed (one boolean per graded sample). A bootstrap draw
resamples the seeds with replacement, then draws each drawn seed's rate from what its samples
say (the Jeffreys posterior of k hits in n), so an interval reflects training noise as well as
sampling noise, and a seed with no hits still leaves room above zero. Sides that read the same
runs (the same trained models) are paired: they share each draw's seed picks (``seed_picks``),
so what the models have in common cancels as it does in the point estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from teachwhy.seeds import derive_seed

Outcomes = Sequence[Sequence[bool]]  # per seed, per sample


class Drawn(Protocol):
    """What the bootstrap needs of a statistic (base.Statistic is one; a Protocol keeps this
    module below base, which takes ``estimate`` as its default)."""

    name: str
    domain: tuple[float, float]

    def __call__(
        self, rates: dict[str, np.ndarray], tokens: dict[str, float] | None = None
    ) -> np.ndarray: ...

    def rates(
        self, claim: dict[str, Any], rate_of: Callable[[str], np.ndarray]
    ) -> dict[str, np.ndarray]: ...


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


def finite(value: float | None) -> float | None:
    """JSON has no NaN: an undefined statistic (a ratio over a zero rate) is written as null."""
    return None if value is None or not np.isfinite(value) else float(value)


def undefined_share(values: np.ndarray) -> float:
    """The share of draws whose statistic is undefined (NaN)."""
    values = np.asarray(values, float)
    return float(np.mean(~np.isfinite(values))) if values.size else 1.0


def interval(values: np.ndarray) -> list[float]:
    """Percentile 95% interval of the finite draws (NaN, NaN when none is finite)."""
    defined = values[np.isfinite(values)]
    if defined.size == 0:
        return [float("nan"), float("nan")]
    lo, hi = np.percentile(defined, [2.5, 97.5])
    return [float(lo), float(hi)]


def paired_groups(sides: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Roles that read the same runs (the same trained models), in role order: they share
    their seed picks in every bootstrap draw."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for role, side in sides.items():
        groups.setdefault(tuple(s["run"] for s in side["per_seed"]), []).append(role)
    return list(groups.values())


def estimate(
    statistic: Drawn,
    claim: dict[str, Any],
    sides: dict[str, dict[str, Any]],
    resamples: int,
    seed: int,
    tokens: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The statistic at the measured rates and its percentile interval over ``resamples``
    paired draws, from a stream derived from the config seed and the claim id."""
    rng = np.random.default_rng(derive_seed(seed, "claim", claim["id"]))
    groups = paired_groups(sides)
    picks = {
        tuple(group): seed_picks(len(sides[group[0]]["per_seed"]), resamples, rng)
        for group in groups
    }

    def draws(role: str) -> np.ndarray:
        group = next(g for g in picks if role in g)
        per = sides[role]["per_seed"]
        return draw_counts(
            [s["k"] for s in per], [s["n"] for s in per], resamples, rng, picks[group]
        )

    # Draws first: the stream is shared, so their order fixes every claim's interval.
    rates = statistic.rates(claim, draws)
    point_rates = statistic.rates(claim, lambda role: np.array([sides[role]["rate"]]))
    point = statistic(point_rates, tokens)[0]
    values = statistic(rates, tokens)
    seeds = max(len(s["per_seed"]) for s in sides.values())
    paired = [g for g in groups if len(g) > 1]
    pairing = (
        "; paired (shared seed picks): " + ", ".join("+".join(g) for g in paired) if paired else ""
    )
    return {
        "kind": statistic.name,
        "domain": [finite(x) for x in statistic.domain],
        "value": finite(point),
        "ci95": [finite(x) for x in interval(values)],
        "method": (
            f"bootstrap, {resamples} draws: {seeds} seed(s) resampled, then each drawn seed's "
            f"rate from its samples (Jeffreys posterior, Beta(k + 1/2, n - k + 1/2)); percentile "
            f"interval of the defined draws{pairing}"
        ),
        "draws": resamples,
        "finite_draws": int(np.isfinite(values).sum()),
        "undefined_share": undefined_share(values),
        "paired": paired,
    }
