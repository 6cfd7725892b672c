"""The claims manifest: loading, checks the schema cannot express, and what each claim and
figure needs from the DAG (metrics per arm and suite, model folders for RL curves and token
counts, the baseline arm's metrics for the validity of every honeypot suite a claim reads)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from teachwhy.claims.statistics import STATISTICS
from teachwhy.errors import InputError
from teachwhy.schemas import load_yaml, project_path

# The roles each statistic compares, in the order the statistic reads them.
ROLES = {name: s.roles for name, s in STATISTICS.items()}
THREAT_CONDITIONS = (
    "explicit-replacement",
    "explicit-restriction",
    "none-replacement",
    "none-restriction",
)
MEASURE_DEFAULTS = {"conditions": "threat", "outcome": "harmful", "source": "metrics"}


def resolve(owner: dict[str, Any], measure: dict[str, Any], arm: str | None = None) -> dict:
    """A measure with the claim's or figure's fields (then the global defaults) filled in."""
    out = {k: measure.get(k, owner.get(k, d)) for k, d in MEASURE_DEFAULTS.items()}
    out["suites"] = list(measure.get("suites", owner.get("suites", [])))
    out["arm"] = arm or measure.get("arm")
    out["label"] = measure.get("label") or out["arm"]
    return out


def claim_measures(claim: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every resolved side of a claim by role, as its statistic reads them (a correlation:
    ``x:<arm>``, ``y:<arm>``)."""
    return {
        key: resolve(claim, claim["sides"][role], arm)
        for key, role, arm in STATISTICS[claim["statistic"]].sides(claim)
    }


def metric_pairs(measures: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(arm, suite) for every metrics file the measures read, sorted."""
    return sorted(
        {(m["arm"], s) for m in measures if m["source"] == "metrics" for s in m["suites"]}
    )


def model_arms(claim_or_figure: dict[str, Any], measures: list[dict[str, Any]]) -> list[str]:
    """Arms whose model folders are read: RL curves, and token counts along a recipe."""
    arms = {m["arm"] for m in measures if m["source"] == "rl_curve"}
    arms |= {claim_or_figure["sides"][role]["arm"] for role in claim_or_figure.get("tokens", {})}
    arms |= {p["arm"] for p in claim_or_figure.get("points", [])}
    return sorted(arms)


def validity_suites(
    measures: list[dict[str, Any]],
    suite_kind: Callable[[str], str],
    curve_suite: Callable[[str], str],
) -> list[str]:
    """The honeypot suites a claim's verdict rests on, whose validity (the baseline arm's
    control near zero, its threat rate above it) the claim needs: every honeypot suite a side
    reads, and the suite each RL-curve side's curve samples."""
    suites = {s for m in measures if m["source"] == "metrics" for s in m["suites"]}
    suites = {s for s in suites if suite_kind(s) == "honeypot"}
    suites |= {curve_suite(m["arm"]) for m in measures if m["source"] == "rl_curve"}
    return sorted(suites)


def band(within: list[float | None]) -> tuple[float, float]:
    """A verdict band's numeric edges; a null edge is unbounded."""
    lo, hi = within
    return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))


def _check_claim(path: Path, where: str, claim: dict[str, Any]) -> None:
    statistic = STATISTICS[claim["statistic"]]
    lo, hi = band(claim["verdict"]["within"])
    if lo >= hi:
        raise InputError(path, f"{where}.verdict.within: lower bound must be below upper")
    dom_lo, dom_hi = statistic.domain
    if lo < dom_lo or hi > dom_hi:
        raise InputError(
            path,
            f"{where}.verdict.within: [{lo}, {hi}] reaches outside a {statistic.name}'s "
            f"domain [{dom_lo}, {dom_hi}]",
        )
    need = statistic.roles
    if set(claim["sides"]) != set(need):
        raise InputError(
            path,
            f"{where}.sides: a {claim['statistic']} claim names exactly {list(need)}, "
            f"not {sorted(claim['sides'])}",
        )
    if statistic.over_arms:
        name = claim["statistic"]
        if "arms" not in claim:
            raise InputError(path, f"{where}.arms: a {name} needs the arms it runs over")
        if "tokens" in claim and not statistic.token_roles:
            raise InputError(path, f"{where}.tokens: a {name} reads no tokens")
    tokens = claim.get("tokens", {})
    for role in tokens:
        if role not in need:
            raise InputError(
                path, f"{where}.tokens.{role}: not a side of a {claim['statistic']} claim"
            )
    rule = claim["verdict"]
    wanted = set(statistic.token_roles)
    if "max_token_share" in rule:
        wanted |= {"treatment", "reference"}
    missing = sorted(wanted - set(tokens))
    if missing:
        why = "a token_efficiency_ratio" if statistic.token_roles else "verdict.max_token_share"
        raise InputError(
            path, f"{where}.tokens: name the dataset each side's tokens count ({why} needs "
            f"{', '.join(missing)})",
        )  # fmt: skip
    if rule.get("equal_records") and len(tokens) < 2:
        raise InputError(
            path, f"{where}.verdict.equal_records: name two sides' datasets under tokens"
        )
    for role, measure in claim_measures(claim).items():
        if not measure["arm"]:
            raise InputError(path, f"{where}.sides.{role.split(':')[0]}.arm is missing")
        if measure["source"] == "metrics" and not measure["suites"]:
            raise InputError(path, f"{where}.sides.{role.split(':')[0]}: no suites to measure")


def load_claims(path: str | Path | None = None) -> dict[str, Any]:
    """The manifest with claims indexed by id, each claim's verdict rule completed from the
    manifest's ``defaults.verdict``; errors name the file and key. Each figure's own keys are
    its kind's to check (teachwhy.claims.figures.check_figures)."""
    path = Path(path or project_path("config/claims.yaml"))
    data = load_yaml(path, "claims")
    defaults = data["defaults"]["verdict"]
    by_id: dict[str, dict[str, Any]] = {}
    for index, claim in enumerate(data["claims"]):
        where = f"claims[{index}] ({claim['id']})"
        if claim["id"] in by_id:
            raise InputError(path, f"{where}.id: duplicate claim id")
        if claim["figure"] not in data["figures"]:
            raise InputError(path, f"{where}.figure: unknown figure '{claim['figure']}'")
        claim["verdict"] = {**defaults, **claim["verdict"]}
        _check_claim(path, where, claim)
        by_id[claim["id"]] = claim
    return {"claims": by_id, "figures": data["figures"], "defaults": data["defaults"]}
