"""The record every claim statistic registers (``Statistic``) and the helpers they share."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from teachwhy.claims.statistics import bootstrap

INF = math.inf
Rates = dict[str, np.ndarray]
# (statistic, claim, sides, resamples, seed, tokens) -> the claim record's ``statistic`` block
Estimator = Callable[..., dict[str, Any]]
# (statistic, claim, rate of one side key) -> the rates the statistic's function reads, by role
Gather = Callable[["Statistic", dict[str, Any], Callable[[str], np.ndarray]], Rates]
# (statistic, claim) -> (side key in the record, manifest role, arm or None for the role's own)
SideKeys = Callable[["Statistic", dict[str, Any]], list[tuple[str, str, str | None]]]


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den > 0; NaN (undefined, counted by undefined_share) elsewhere."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def one_side_per_role(statistic: Statistic, claim: dict[str, Any]) -> list[tuple[str, str, None]]:
    return [(role, role, None) for role in statistic.roles]


def by_role(
    statistic: Statistic, claim: dict[str, Any], rate_of: Callable[[str], np.ndarray]
) -> Rates:
    return {role: rate_of(role) for role in statistic.roles}


@dataclass(frozen=True)
class Statistic:
    """A claim statistic: the roles it compares (in order), its domain (the statistic's own
    limits; an edge of a verdict band that sits on one is closed, any other edge open), the
    function (vectorised over draws), the roles whose training tokens it reads, how it gets its
    point value and interval (``estimator``: the paired bootstrap unless it says otherwise), and
    which sides a claim of it reads (``side_keys``, ``gather``: one per role unless it says
    otherwise), and how the claims table writes its values (``shown``)."""

    name: str
    roles: tuple[str, ...]
    domain: tuple[float, float]
    function: Callable[..., np.ndarray]
    token_roles: tuple[str, ...] = ()
    estimator: Estimator = bootstrap.estimate
    gather: Gather = by_role
    side_keys: SideKeys = one_side_per_role
    # Whether a claim of it runs over a list of arms (``arms:``) rather than one arm per side.
    over_arms: bool = False
    # How the claims table writes a value of it (a ratio or correlation: two decimals).
    shown: Callable[[float], str] = "{:.2f}".format

    def __call__(self, rates: Rates, tokens: dict[str, float] | None = None) -> np.ndarray:
        args = [rates[r] for r in self.roles]
        args += [(tokens or {})[r] for r in self.token_roles]
        return self.function(*args)

    def estimate(
        self,
        claim: dict[str, Any],
        sides: dict[str, dict[str, Any]],
        resamples: int,
        seed: int,
        tokens: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        """Point value, 95% interval, share of undefined draws and method, for a claim record."""
        return self.estimator(self, claim, sides, resamples, seed, tokens)

    def rates(self, claim: dict[str, Any], rate_of: Callable[[str], np.ndarray]) -> Rates:
        """The function's arguments by role, from the rate (or draws) of each side key."""
        return self.gather(self, claim, rate_of)

    def sides(self, claim: dict[str, Any]) -> list[tuple[str, str, str | None]]:
        """Each side a claim of this statistic reads: its key in the claim record, the manifest
        role it resolves, and the arm it runs over (None: the role's own)."""
        return self.side_keys(self, claim)
