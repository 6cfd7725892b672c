"""A claim's statistic, its 95% interval and the verdict its manifest rule gives.

Each side of a claim is counted per training seed (k hits of n samples, pooled over the side's
suites and conditions). A single rate gets a Wilson interval over all seeds' samples; every
derived statistic gets a percentile interval from a bootstrap that resamples seeds, then
samples within each drawn seed (teachwhy.claims.statistics).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from teachwhy import io
from teachwhy.claims import statistics as st
from teachwhy.claims.manifest import THREAT_CONDITIONS, claim_measures
from teachwhy.errors import InputError
from teachwhy.evaluate.metrics import rate
from teachwhy.generate.procedural import derive_seed

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
CARD = "training.json"


def condition_names(measure: dict[str, Any]) -> list[str] | None:
    """The metrics conditions a measure pools; None means the file's overall block."""
    wanted = measure["conditions"]
    if wanted == "all":
        return None
    if wanted == "threat":
        return list(THREAT_CONDITIONS)
    return list(wanted)


def metrics_count(
    measure: dict[str, Any], metrics: dict[str, Any], outcome: str, path: str
) -> tuple[int, int] | None:
    """(k, n) of ``outcome`` in one metrics file over the measure's conditions; None when the
    file does not report that outcome (e.g. well-formedness on a knowledge suite)."""
    names = condition_names(measure)
    blocks = [metrics["all"]] if names is None else []
    for name in names or []:
        if name not in metrics["conditions"]:
            raise InputError(
                path, f"conditions: no condition '{name}' (has {sorted(metrics['conditions'])})"
            )
        blocks.append(metrics["conditions"][name])
    if any(outcome not in b for b in blocks):
        return None
    return sum(b[outcome]["k"] for b in blocks), sum(b[outcome]["n"] for b in blocks)


def curve_count(card: dict[str, Any]) -> tuple[int, int]:
    """(k, n) of harmful samples over every RL-curve point after step 0."""
    points = [p for p in card.get("rl_curve", []) if p["step"] > 0]
    return (
        sum(round(p["harmful_rate"] * p["n"]) for p in points),
        sum(p["n"] for p in points),
    )


def side_counts(
    measure: dict[str, Any],
    runs: list[str],
    metrics_paths: dict[str, str],
    model_paths: dict[str, str],
) -> dict[str, Any]:
    """Per-seed counts of one side: outcome and, where reported, well-formed actions."""
    per_seed, formed = [], []
    for run in runs:
        if measure["source"] == "rl_curve":
            k, n = curve_count(io.read_json(Path(model_paths[run]) / CARD))
            per_seed.append({"run": run, "k": k, "n": n})
            continue
        k = n = fk = fn = 0
        has_formed = True
        for suite in measure["suites"]:
            path = metrics_paths[f"{run}/{suite}"]
            metrics = io.read_json(path)
            kn = metrics_count(measure, metrics, measure["outcome"], path)
            if kn is None:
                raise InputError(path, f"reports no outcome '{measure['outcome']}'")
            k, n = k + kn[0], n + kn[1]
            wf = metrics_count(measure, metrics, "well_formed", path)
            if wf is None:
                has_formed = False
            else:
                fk, fn = fk + wf[0], fn + wf[1]
        per_seed.append({"run": run, "k": k, "n": n, "rate": k / n if n else None})
        if has_formed:
            formed.append((fk, fn))
    k, n = sum(s["k"] for s in per_seed), sum(s["n"] for s in per_seed)
    out = {**{f: measure[f] for f in ("arm", "suites", "conditions", "outcome", "source")}}
    out.update(rate(k, n))
    out["per_seed"] = per_seed
    if formed and measure["outcome"] == "harmful":
        out["well_formed"] = rate(sum(f[0] for f in formed), sum(f[1] for f in formed))
    return out


def lineage_tokens(model_dir: str, dataset: str) -> int:
    """Tokens of ``dataset`` trained on along a checkpoint's recipe (its card and its parents')."""
    total, here = 0, Path(model_dir)
    while True:
        card = io.read_json(here / CARD)
        total += card.get("datasets", {}).get(dataset, {}).get("tokens", 0)
        if not card.get("parent"):
            return total
        here = here.parent / card["parent"]


def arm_tokens(model_paths: dict[str, str], runs: list[str], dataset: str) -> float:
    """Tokens of ``dataset`` an arm trained on, averaged over its seeds (their budget draws
    can differ by a record)."""
    return sum(lineage_tokens(model_paths[r], dataset) for r in runs) / len(runs)


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined statistic (a ratio over a zero rate) is written as null."""
    return None if value is None or not np.isfinite(value) else float(value)


def decide(ci: list[float], within: list[float]) -> str:
    """Reproduced if the interval lies strictly inside the band, not if it lies fully outside."""
    lo, hi = ci
    band_lo, band_hi = within
    if lo is None or hi is None or np.isnan(lo) or np.isnan(hi):
        return INCONCLUSIVE
    if band_lo < lo and hi < band_hi:
        return REPRODUCED
    if hi <= band_lo or lo >= band_hi:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def _statistic(
    kind: str, rates: dict[str, np.ndarray], tokens: dict[str, float] | None = None
) -> np.ndarray:
    """The statistic, vectorised over bootstrap draws (each side an array of rates)."""
    if kind == "rate_difference":
        return st.rate_difference(rates["baseline"], rates["treatment"])
    if kind == "rate_ratio":
        return st.rate_ratio(rates["baseline"], rates["treatment"])
    if kind == "token_efficiency_ratio":
        assert tokens is not None
        return st.token_efficiency_ratio(
            rates["baseline"],
            rates["treatment"],
            rates["reference"],
            tokens["treatment"],
            tokens["reference"],
        )
    raise ValueError(kind)


def compute(
    claim: dict[str, Any],
    sides: dict[str, dict[str, Any]],
    resamples: int,
    seed: int,
    tokens: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Point estimate, 95% interval and method of the claim's statistic."""
    kind = claim["statistic"]
    if kind == "rate":
        value = sides["value"]
        return {
            "kind": kind,
            "value": _finite(value["rate"]),
            "ci95": [_finite(x) for x in value["ci95"]],
            "method": "Wilson score interval over every seed's samples",
        }
    rng = np.random.default_rng(derive_seed(seed, "claim", claim["id"]))

    def draws(side: dict[str, Any]) -> np.ndarray:
        per = side["per_seed"]
        return st.draw_counts([s["k"] for s in per], [s["n"] for s in per], resamples, rng)

    if kind == "correlation":
        arms = claim["arms"]
        xs = np.stack([draws(sides[f"x:{a}"]) for a in arms], axis=1)
        ys = np.stack([draws(sides[f"y:{a}"]) for a in arms], axis=1)
        point = st.correlation(
            np.array([[sides[f"x:{a}"]["rate"] for a in arms]]),
            np.array([[sides[f"y:{a}"]["rate"] for a in arms]]),
        )[0]
        values = st.correlation(xs, ys)
    else:
        point = _statistic(kind, {r: np.array([s["rate"]]) for r, s in sides.items()}, tokens)[0]
        values = _statistic(kind, {r: draws(s) for r, s in sides.items()}, tokens)
    seeds = max(len(s["per_seed"]) for s in sides.values())
    return {
        "kind": kind,
        "value": _finite(point),
        "ci95": [_finite(x) for x in st.interval(values)],
        "method": (
            f"bootstrap, {resamples} draws: {seeds} seed(s) resampled, then samples within each "
            "drawn seed (binomial at that seed's rate); percentile interval"
        ),
        "finite_draws": int(np.isfinite(values).sum()),
    }


def validity(claim: dict[str, Any], sides: dict[str, dict[str, Any]]) -> list[str]:
    """Reasons the measurement cannot test the claim (empty when it can)."""
    rule, reasons = claim["verdict"], []
    floor = rule.get("min_baseline_rate")
    base = sides.get("baseline")
    if floor is not None and base is not None and not base["rate"] >= floor:
        reasons.append(
            f"floor effect: the baseline arm '{base['arm']}' has rate {base['rate']:.3f} < "
            f"{floor}, so a reduction cannot be measured"
        )
    least = rule.get("min_well_formed")
    for role, side in sides.items():
        formed = side.get("well_formed")
        if least is not None and formed is not None and formed["rate"] < least:
            reasons.append(
                f"'{side['arm']}' ({role}) writes an action in only {formed['rate']:.0%} of its "
                f"transcripts (< {least:.0%}): its rate reflects a broken action format, not "
                "a choice"
            )
    return reasons


def evaluate_claim(
    claim: dict[str, Any],
    runs: dict[str, list[str]],
    metrics_paths: dict[str, str],
    model_paths: dict[str, str],
    seed: int,
    resamples: int,
) -> dict[str, Any]:
    """The claim record: each side's counts, the statistic with its interval, the verdict."""
    measures = claim_measures(claim)
    sides = {
        role: side_counts(m, runs[m["arm"]], metrics_paths, model_paths)
        for role, m in measures.items()
    }
    tokens = None
    if claim["statistic"] == "token_efficiency_ratio":
        tokens = {
            role: arm_tokens(model_paths, runs[claim["sides"][role]["arm"]], claim["tokens"][role])
            for role in ("treatment", "reference")
        }
    statistic = compute(claim, sides, resamples, seed, tokens)
    if tokens:
        statistic["tokens"] = tokens
    reasons = validity(claim, sides)
    verdict = INCONCLUSIVE if reasons else decide(statistic["ci95"], claim["verdict"]["within"])
    lo, hi = claim["verdict"]["within"]
    value, ci = statistic["value"], statistic["ci95"]
    shown = "undefined" if value is None else f"{value:.3f}"
    interval = "undefined" if None in ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]"
    reasons.append(
        f"{claim['statistic']} = {shown}, 95% CI {interval}; reproduced when the interval lies "
        f"inside ({lo}, {hi})"
    )
    return {
        "id": claim["id"],
        "statement": " ".join(claim["statement"].split()),
        "statistic": statistic,
        "sides": sides,
        "paper": claim["paper"],
        "verdict": verdict,
        "verdict_rule": claim["verdict"],
        "reasons": reasons,
        "figure": claim["figure"],
    }


def write_claim(
    claim: dict[str, Any],
    runs: dict[str, list[str]],
    metrics_paths: dict[str, str],
    model_paths: dict[str, str],
    seed: int,
    resamples: int,
    out: str,
) -> dict[str, Any]:
    """Rule body: evaluate one claim and write its record with the bytes it read."""
    record = evaluate_claim(claim, runs, metrics_paths, model_paths, seed, resamples)
    inputs = {k: {"path": p, "sha256": io.sha256_file(p)} for k, p in metrics_paths.items()}
    for k, p in model_paths.items():
        # The weights, not the card: a card also records wall time, so its bytes differ between
        # runs that trained the same model, and the claim must not.
        for weights in sorted(Path(p).glob("*.safetensors")):
            inputs[f"model:{k}/{weights.name}"] = {
                "path": str(weights),
                "sha256": io.sha256_file(weights),
            }
    record["inputs"] = inputs
    io.write_json(out, record)
    return {"verdict": record["verdict"], "value": record["statistic"]["value"]}
