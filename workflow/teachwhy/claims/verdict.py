"""A claim's statistic, its bootstrap interval and the verdict its manifest rule gives."""

from __future__ import annotations

from typing import Any

import numpy as np

from teachwhy.evaluate.metrics import rate
from teachwhy.generate.procedural import derive_seed

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"


def _statistic(kind: str, baseline: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    """Vectorised over bootstrap rows: rate_difference (t - b) or rate_ratio (t / b)."""
    from teachwhy.claims.statistics import rate_difference, rate_ratio

    return (rate_difference if kind == "rate_difference" else rate_ratio)(baseline, treatment)


def bootstrap_interval(
    kind: str, baseline: list[bool], treatment: list[bool], resamples: int, seed: int
) -> tuple[float, list[float]]:
    """Point estimate and percentile 95% interval, resampling each arm's samples independently."""
    b, t = np.asarray(baseline, float), np.asarray(treatment, float)
    point = float(_statistic(kind, np.array([b.mean()]), np.array([t.mean()]))[0])
    rng = np.random.default_rng(seed)
    bs = rng.binomial(len(b), b.mean(), size=resamples) / len(b)
    ts = rng.binomial(len(t), t.mean(), size=resamples) / len(t)
    stats = _statistic(kind, bs, ts)
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return point, [float("nan"), float("nan")]
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return point, [float(lo), float(hi)]


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined statistic (a ratio over a zero rate) is written as null."""
    return None if np.isnan(value) else value


def decide(ci: list[float], within: list[float]) -> str:
    """Reproduced if the interval lies strictly inside the band, not if it lies fully outside."""
    lo, hi = ci
    band_lo, band_hi = within
    if np.isnan(lo) or np.isnan(hi):
        return INCONCLUSIVE
    if band_lo < lo and hi < band_hi:
        return REPRODUCED
    if hi <= band_lo or lo >= band_hi:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def evaluate_claim(
    claim: dict[str, Any], graded: dict[str, list[dict[str, Any]]], seed: int, resamples: int
) -> dict[str, Any]:
    """The claim record: rates per arm, the statistic with its interval, and the verdict."""
    conditions = set(claim["conditions"])
    outcomes = {
        arm: [row["harmful"] for row in graded[arm] if row["condition"] in conditions]
        for arm in (claim["compare"]["baseline"], claim["compare"]["treatment"])
    }
    baseline, treatment = (
        outcomes[claim["compare"]["baseline"]],
        outcomes[claim["compare"]["treatment"]],
    )
    point, ci = bootstrap_interval(
        claim["statistic"], baseline, treatment, resamples, derive_seed(seed, "claim", claim["id"])
    )
    rates = {arm: rate(sum(o), len(o)) for arm, o in outcomes.items()}
    verdict, reasons = decide(ci, claim["verdict"]["within"]), []
    floor = claim["verdict"].get("min_baseline_rate")
    base_rate = rates[claim["compare"]["baseline"]]
    if floor is not None and base_rate["rate"] < floor:
        verdict = INCONCLUSIVE
        reasons.append(
            f"floor effect: the baseline arm '{claim['compare']['baseline']}' has harmful rate "
            f"{base_rate['rate']:.3f} < {floor}, so a reduction cannot be measured"
        )
    lo, hi = claim["verdict"]["within"]
    reasons.append(
        f"{claim['statistic']} = {point:.3f}, 95% CI [{ci[0]:.3f}, {ci[1]:.3f}]; "
        f"reproduced when the interval lies inside ({lo}, {hi})"
    )
    return {
        "id": claim["id"],
        "statement": " ".join(claim["statement"].split()),
        "suite": claim["suite"],
        "conditions": sorted(conditions),
        "compare": claim["compare"],
        "rates": rates,
        "statistic": {
            "kind": claim["statistic"],
            "value": _finite(point),
            "ci95": [_finite(x) for x in ci],
            "method": f"parametric bootstrap over samples, {resamples} resamples",
        },
        "paper": claim["paper"],
        "verdict": verdict,
        "verdict_rule": claim["verdict"],
        "reasons": reasons,
        "figure": claim["figure"],
    }


def write_claim(
    claim: dict[str, Any], graded_paths: dict[str, str], seed: int, resamples: int, out: str
) -> dict[str, Any]:
    """Rule body: evaluate one claim from its arms' graded samples and write the record."""
    from teachwhy import io

    graded = {arm: io.read_jsonl(path) for arm, path in graded_paths.items()}
    record = evaluate_claim(claim, graded, seed, resamples)
    record["inputs"] = {
        arm: {"path": p, "sha256": io.sha256_file(p)} for arm, p in graded_paths.items()
    }
    io.write_json(out, record)
    return {"verdict": record["verdict"], "value": record["statistic"]["value"]}
