"""The claims manifest: loading, checks the schema cannot express, and what each claim and
figure needs from the DAG (metrics per arm and suite, model folders for RL curves and token
counts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teachwhy.errors import InputError
from teachwhy.schemas import load_yaml, project_path

# The roles each statistic compares, in the order the statistic reads them.
ROLES = {
    "rate": ("value",),
    "rate_difference": ("baseline", "treatment"),
    "rate_ratio": ("baseline", "treatment"),
    "token_efficiency_ratio": ("baseline", "treatment", "reference"),
    "correlation": ("x", "y"),
}
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
    """Every resolved side of a claim by role; a correlation gives ``x:<arm>``, ``y:<arm>``."""
    if claim["statistic"] == "correlation":
        return {
            f"{role}:{arm}": resolve(claim, claim["sides"][role], arm)
            for role in ("x", "y")
            for arm in claim["arms"]
        }
    return {role: resolve(claim, claim["sides"][role]) for role in ROLES[claim["statistic"]]}


def figure_measures(figure: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resolved measure a figure plots (curves read model folders, not measures)."""
    kind = figure["kind"]
    if kind == "bars":
        return [resolve(figure, bar) for bar in figure["bars"]]
    if kind == "tokens":
        arms = [p["arm"] for p in figure["points"]] + [figure["reference"]]
        return [resolve(figure, {}, arm) for arm in arms]
    if kind == "scatter":
        return [resolve(figure, figure[axis], arm) for axis in ("x", "y") for arm in figure["arms"]]
    return [resolve(figure, {"source": "rl_curve"}, arm) for arm in figure["arms"]]


def metric_pairs(measures: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(arm, suite) for every metrics file the measures read, sorted."""
    return sorted(
        {(m["arm"], s) for m in measures if m["source"] == "metrics" for s in m["suites"]}
    )


def model_arms(claim_or_figure: dict[str, Any], measures: list[dict[str, Any]]) -> list[str]:
    """Arms whose model folders are read: RL curves, and token counts along a recipe."""
    arms = {m["arm"] for m in measures if m["source"] == "rl_curve"}
    if claim_or_figure.get("statistic") == "token_efficiency_ratio":
        arms |= {claim_or_figure["sides"][r]["arm"] for r in ("treatment", "reference")}
    arms |= {p["arm"] for p in claim_or_figure.get("points", [])}
    return sorted(arms)


def load_claims(path: str | Path | None = None) -> dict[str, Any]:
    """The manifest with claims indexed by id; errors name the file and key."""
    path = path or project_path("config/claims.yaml")
    data = load_yaml(path, "claims")
    by_id: dict[str, dict[str, Any]] = {}
    for index, claim in enumerate(data["claims"]):
        where = f"claims[{index}] ({claim['id']})"
        if claim["id"] in by_id:
            raise InputError(path, f"{where}.id: duplicate claim id")
        if claim["figure"] not in data["figures"]:
            raise InputError(path, f"{where}.figure: unknown figure '{claim['figure']}'")
        lo, hi = claim["verdict"]["within"]
        if lo >= hi:
            raise InputError(path, f"{where}.verdict.within: lower bound must be below upper")
        need = ROLES[claim["statistic"]]
        if set(claim["sides"]) != set(need):
            raise InputError(
                path,
                f"{where}.sides: a {claim['statistic']} claim names exactly {list(need)}, "
                f"not {sorted(claim['sides'])}",
            )
        if claim["statistic"] == "correlation":
            if "arms" not in claim:
                raise InputError(path, f"{where}.arms: a correlation needs the arms it runs over")
        elif "tokens" in claim and claim["statistic"] != "token_efficiency_ratio":
            raise InputError(path, f"{where}.tokens: only a token_efficiency_ratio reads tokens")
        if claim["statistic"] == "token_efficiency_ratio" and "tokens" not in claim:
            raise InputError(path, f"{where}.tokens: name the dataset each side's tokens count")
        for role, measure in claim_measures(claim).items():
            if not measure["arm"]:
                raise InputError(path, f"{where}.sides.{role.split(':')[0]}.arm is missing")
            if measure["source"] == "metrics" and not measure["suites"]:
                raise InputError(path, f"{where}.sides.{role.split(':')[0]}: no suites to measure")
        by_id[claim["id"]] = claim
    for name, figure in data["figures"].items():
        required = {
            "bars": ["bars"],
            "tokens": ["points", "reference"],
            "scatter": ["arms", "x", "y"],
        }
        for key in required.get(figure["kind"], ["arms"]):
            if key not in figure:
                raise InputError(path, f"figures.{name}.{key}: a {figure['kind']} figure needs it")
        for measure in figure_measures(figure):
            if measure["source"] == "metrics" and not measure["suites"]:
                raise InputError(
                    path, f"figures.{name}: a measure of '{measure['arm']}' has no suites"
                )
    return {"claims": by_id, "figures": data["figures"]}
