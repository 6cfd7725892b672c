"""A claim's statistic, its 95% interval and the verdict its manifest rule gives.

Each side of a claim is counted per training seed (k hits of n graded samples, pooled over the
side's suites and conditions; samples truncated before their action are counted apart). A
single rate gets a Wilson interval over all seeds' samples; every derived statistic gets a
percentile interval from a bootstrap that resamples seeds, then samples within each drawn seed
(teachwhy.claims.statistics). Sides that read the same runs share their seed picks (paired).

The verdict (``decide``) compares the interval with the band ``verdict.within``. An edge of the
band that sits on the statistic's own limit (a rate's 0 and 1, a difference's -1 and 1, a
ratio's 0, a correlation's -1 and 1) is closed: the interval may reach it. Any other edge is
open: the interval must clear it. ``reproduced``: the interval lies inside the band.
``not reproduced``: the interval and the band share no point (touching an open edge from
outside is outside). Anything else, or any gate below, is ``inconclusive`` with its reason:

- suite validity: for every honeypot suite a side reads (an RL curve's suite included), the
  baseline arm pooled over all its seeds must keep the control near zero and the threat rate
  above it (teachwhy.evaluate.validity);
- ``min_baseline_rate``: a floor effect leaves nothing to reduce;
- ``min_well_formed``: every side that can act (honeypot, capability, RL curve) must write an
  action often enough, or its zeros are a broken format, not a choice;
- ``max_truncated``: a side with too many samples cut off before their action;
- ``max_undefined_share``: too many bootstrap draws whose statistic is undefined;
- ``max_token_share`` and ``equal_records``: the token and item premises of a claim.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from teachwhy import io
from teachwhy.claims import statistics as st
from teachwhy.claims.manifest import THREAT_CONDITIONS, band, claim_measures
from teachwhy.errors import InputError
from teachwhy.evaluate.metrics import ACTING, rate
from teachwhy.evaluate.validity import baseline_validity

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
CARD = "training.json"
# What an RL-curve point must count (under threat): graded samples, harmful and well-formed
# among them, truncated among all.
CURVE_FIELDS = ("n", "harmful", "well_formed_k", "truncated_k", "samples")


class Cards:
    """The model cards (training.json) a claim reads, and which of their fields.

    A claim record lists each card with a hash of the fields it read, not of the file: a card
    also holds wall time, so its bytes differ between runs that trained the same model, and a
    claim must not. (The job's provenance record hashes the whole model folders.)"""

    def __init__(self) -> None:
        self.fields: dict[str, set[str]] = {}

    def read(self, model_dir: str | Path, *fields: str) -> dict[str, Any]:
        path = Path(model_dir) / CARD
        card = io.read_json(path)
        self.fields.setdefault(str(path), set()).update(fields)
        return card

    def inputs(self) -> dict[str, dict[str, Any]]:
        out = {}
        for path, fields in sorted(self.fields.items()):
            card = io.read_json(path)
            read = {f: card.get(f) for f in sorted(fields)}
            blob = json.dumps(read, sort_keys=True, ensure_ascii=False).encode()
            name = f"card:{Path(path).parent.name}"
            out[name] = {
                "path": path,
                "fields": sorted(fields),
                "fields_sha256": hashlib.sha256(blob).hexdigest(),
            }
        return out


def condition_names(measure: dict[str, Any]) -> list[str] | None:
    """The metrics conditions a measure pools; None means the file's overall block."""
    wanted = measure["conditions"]
    if wanted == "all":
        return None
    if wanted == "threat":
        return list(THREAT_CONDITIONS)
    return list(wanted)


def metric_blocks(measure: dict[str, Any], metrics: dict[str, Any], path: str) -> list[dict]:
    """The blocks of one metrics file a measure pools (its conditions, or the overall block)."""
    names = condition_names(measure)
    if names is None:
        return [metrics["all"]]
    blocks = []
    for name in names:
        if name not in metrics["conditions"]:
            raise InputError(
                path, f"conditions: no condition '{name}' (has {sorted(metrics['conditions'])})"
            )
        blocks.append(metrics["conditions"][name])
    return blocks


def block_count(blocks: list[dict[str, Any]], outcome: str) -> tuple[int, int] | None:
    """(k, n) of ``outcome`` summed over blocks; None when a block does not report it."""
    if any(outcome not in b for b in blocks):
        return None
    return sum(b[outcome]["k"] for b in blocks), sum(b[outcome]["n"] for b in blocks)


def curve_count(card: dict[str, Any], path: str | Path) -> dict[str, int]:
    """Counts over every RL-curve point after step 0: harmful of graded (n), well-formed of
    graded, truncated of all samples. A point without them is an error naming the card."""
    points = [p for p in card.get("rl_curve", []) if p["step"] > 0]
    if not points:
        raise InputError(path, "rl_curve: no point after step 0 to measure")
    for point in points:
        missing = [f for f in CURVE_FIELDS if f not in point]
        if missing:
            raise InputError(
                path,
                f"rl_curve point at step {point['step']} lacks {', '.join(missing)}: an RL "
                "curve side needs its harmful, well-formed and truncated counts",
            )
    total = {f: sum(int(p[f]) for p in points) for f in CURVE_FIELDS}
    return {
        "k": total["harmful"],
        "n": total["n"],
        "well_formed_k": total["well_formed_k"],
        "truncated_k": total["truncated_k"],
        "samples": total["samples"],
    }


def _metrics_seed(
    measure: dict[str, Any], run: str, metrics_paths: dict[str, str], kinds: dict[str, str]
) -> dict[str, Any]:
    """One seed of a metrics side: outcome, well-formed and truncated counts over its suites."""
    seed: dict[str, Any] = {"run": run, "k": 0, "n": 0}
    formed = [0, 0]
    cut: list[int] | None = [0, 0]
    acts_any = False
    for suite in measure["suites"]:
        path = metrics_paths[f"{run}/{suite}"]
        metrics = io.read_json(path)
        if "kind" not in metrics:
            raise InputError(path, "names no suite kind (honeypot, capability, ...)")
        kinds.setdefault(suite, metrics["kind"])
        blocks = metric_blocks(measure, metrics, path)
        kn = block_count(blocks, measure["outcome"])
        if kn is None:
            raise InputError(path, f"reports no outcome '{measure['outcome']}'")
        seed["k"], seed["n"] = seed["k"] + kn[0], seed["n"] + kn[1]
        acts = metrics["kind"] in ACTING
        wf, tr = block_count(blocks, "well_formed"), block_count(blocks, "truncated")
        if acts and (wf is None or tr is None):
            missing = " and ".join(
                n for n, c in (("well_formed", wf), ("truncated", tr)) if c is None
            )
            raise InputError(
                path,
                f"a {metrics['kind']} suite reports no '{missing}' counts: every side that can "
                "act needs its well-formed and truncated samples",
            )
        if acts:
            acts_any = True
            formed = [formed[0] + wf[0], formed[1] + wf[1]]
        cut = None if cut is None or tr is None else [cut[0] + tr[0], cut[1] + tr[1]]
    seed["rate"] = seed["k"] / seed["n"] if seed["n"] else None
    if acts_any:
        seed["well_formed_k"], seed["well_formed_n"] = formed
    if cut is not None:
        seed["truncated_k"], seed["samples"] = cut
    return seed


def side_counts(
    measure: dict[str, Any],
    runs: list[str],
    metrics_paths: dict[str, str],
    model_paths: dict[str, str],
    cards: Cards | None = None,
) -> dict[str, Any]:
    """Per-seed counts of one side: its outcome, and for a side that can act its well-formed
    and truncated samples (an acting side without them is an error, not a skip)."""
    cards = cards or Cards()
    per_seed: list[dict[str, Any]] = []
    kinds: dict[str, str] = {}
    curve_suites: set[str | None] = set()
    for run in runs:
        if measure["source"] == "rl_curve":
            path = Path(model_paths[run]) / CARD
            card = cards.read(model_paths[run], "rl_curve", "rl_curve_suite")
            counts = curve_count(card, path)
            if not card.get("rl_curve_suite"):
                raise InputError(path, "rl_curve_suite: the curve names no suite it samples")
            curve_suites.add(card["rl_curve_suite"])
            kinds.setdefault(card["rl_curve_suite"], "honeypot")
            per_seed.append(
                {"run": run, **counts, "rate": counts["k"] / counts["n"] if counts["n"] else None}
            )
            per_seed[-1]["well_formed_n"] = counts["n"]
        else:
            per_seed.append(_metrics_seed(measure, run, metrics_paths, kinds))
    if len(curve_suites) > 1:
        raise InputError(
            model_paths[runs[0]], f"the seeds' RL curves sample different suites {curve_suites}"
        )
    k, n = sum(s["k"] for s in per_seed), sum(s["n"] for s in per_seed)
    out = {f: measure[f] for f in ("arm", "suites", "conditions", "outcome", "source")}
    out.update(rate(k, n))
    out["per_seed"] = per_seed
    out["suite_kinds"] = kinds
    if curve_suites:
        out["curve_suite"] = curve_suites.pop()
    out["can_act"] = measure["source"] == "rl_curve" or any(k in ACTING for k in kinds.values())
    if out["can_act"]:
        out["well_formed"] = rate(
            sum(s.get("well_formed_k", 0) for s in per_seed),
            sum(s.get("well_formed_n", 0) for s in per_seed),
        )
    if all("truncated_k" in s for s in per_seed):
        out["truncated"] = rate(
            sum(s["truncated_k"] for s in per_seed), sum(s["samples"] for s in per_seed)
        )
    return out


def lineage_data(model_dir: str, dataset: str, cards: Cards | None = None) -> dict[str, int]:
    """Tokens and records (items) of ``dataset`` trained on along a checkpoint's recipe (its
    card and its parents')."""
    cards = cards or Cards()
    tokens = records = 0
    here = Path(model_dir)
    while True:
        card = cards.read(here, "datasets", "parent")
        used = card.get("datasets", {}).get(dataset)
        if used is not None:
            missing = [f for f in ("tokens", "records") if f not in used]
            if missing:
                raise InputError(here / CARD, f"datasets.{dataset} lacks {', '.join(missing)}")
            tokens, records = tokens + used["tokens"], records + used["records"]
        if not card.get("parent"):
            return {"tokens": tokens, "records": records}
        here = here.parent / card["parent"]


def lineage_tokens(model_dir: str, dataset: str) -> int:
    """Tokens of ``dataset`` trained on along a checkpoint's recipe (its card and its parents')."""
    return lineage_data(model_dir, dataset)["tokens"]


def arm_tokens(
    model_paths: dict[str, str], runs: list[str], dataset: str, cards: Cards | None = None
) -> float:
    """Tokens of ``dataset`` an arm trained on, averaged over its seeds (their budget draws
    can differ by a record)."""
    return sum(lineage_data(model_paths[r], dataset, cards)["tokens"] for r in runs) / len(runs)


def training_data(
    claim: dict[str, Any], runs: dict[str, list[str]], model_paths: dict[str, str], cards: Cards
) -> dict[str, dict[str, Any]]:
    """For each side named under the claim's ``tokens``: the dataset, its tokens and records
    (items) along each seed's recipe, and their means over the seeds."""
    out = {}
    for role, dataset in claim.get("tokens", {}).items():
        arm = claim["sides"][role]["arm"]
        per_seed = [{"run": r, **lineage_data(model_paths[r], dataset, cards)} for r in runs[arm]]
        tokens = sum(s["tokens"] for s in per_seed) / len(per_seed)
        if tokens <= 0:
            raise InputError(
                model_paths[runs[arm][0]],
                f"the recipe of arm '{arm}' holds no tokens of '{dataset}' (claim "
                f"{claim['id']}, tokens.{role})",
            )
        out[role] = {
            "arm": arm,
            "dataset": dataset,
            "tokens": tokens,
            "records": sum(s["records"] for s in per_seed) / len(per_seed),
            "per_seed": per_seed,
        }
    return out


def edges(within: list[float | None], domain: tuple[float, float]) -> tuple[bool, bool]:
    """Whether each edge of a band is closed: it sits on the statistic's own limit (an
    unbounded edge is closed too, as no finite interval reaches it)."""
    lo, hi = band(within)
    return lo == domain[0], hi == domain[1]


def band_text(within: list[float | None], domain: tuple[float, float]) -> str:
    """A band in interval notation: '[' or ']' a closed edge, '(' or ')' an open one."""
    lo, hi = band(within)
    lo_closed, hi_closed = edges(within, domain)

    def num(x: float) -> str:
        return ("+inf" if x > 0 else "-inf") if math.isinf(x) else f"{x:g}"

    left = "(" if math.isinf(lo) else ("[" if lo_closed else "(")
    right = ")" if math.isinf(hi) else ("]" if hi_closed else ")")
    return f"{left}{num(lo)}, {num(hi)}{right}"


def decide(ci: list[float | None], within: list[float | None], domain: tuple[float, float]) -> str:
    """Reproduced when the interval lies inside the band, not reproduced when the two share no
    point; a closed edge (on the statistic's own limit) belongs to the band, an open one not."""
    lo, hi = ci
    if lo is None or hi is None or np.isnan(lo) or np.isnan(hi):
        return INCONCLUSIVE
    band_lo, band_hi = band(within)
    lo_closed, hi_closed = edges(within, domain)
    above_lo = lo >= band_lo if lo_closed else lo > band_lo
    below_hi = hi <= band_hi if hi_closed else hi < band_hi
    if above_lo and below_hi:
        return REPRODUCED
    under = hi < band_lo if lo_closed else hi <= band_lo
    over = lo > band_hi if hi_closed else lo >= band_hi
    if under or over:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def compute(
    claim: dict[str, Any],
    sides: dict[str, dict[str, Any]],
    resamples: int,
    seed: int,
    tokens: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Point estimate, 95% interval, share of undefined draws and method of the statistic, as
    the statistic's own module estimates them (teachwhy.claims.statistics)."""
    return st.STATISTICS[claim["statistic"]].estimate(claim, sides, resamples, seed, tokens)


def suite_validity(
    sides: dict[str, dict[str, Any]],
    validity_paths: dict[str, str],
    validity_rule: dict[str, Any] | None,
    claim_id: str,
) -> dict[str, dict[str, Any]]:
    """The baseline arm's validity, pooled over its seeds, of every honeypot suite a side
    reads (``validity_paths`` maps '<run>/<suite>' to the baseline arm's metrics)."""
    needed = sorted(
        {s for side in sides.values() for s, k in side["suite_kinds"].items() if k == "honeypot"}
    )
    if not needed:
        return {}
    if validity_rule is None:
        raise InputError(f"claim {claim_id}", "no validity rule (evaluate.validity) given")
    by_suite: dict[str, dict[str, str]] = {}
    for key, path in validity_paths.items():
        run, suite = key.rsplit("/", 1)
        by_suite.setdefault(suite, {})[run] = path
    out = {}
    for suite in needed:
        if suite not in by_suite:
            raise InputError(
                f"claim {claim_id}",
                f"honeypot suite '{suite}' has no metrics of the baseline arm "
                f"'{validity_rule['baseline_arm']}' to check its validity",
            )
        metrics = {run: io.read_json(p) for run, p in sorted(by_suite[suite].items())}
        out[suite] = {
            "arm": validity_rule["baseline_arm"],
            **baseline_validity(metrics, validity_rule["max_control_rate"]),
        }
    return out


def gates(
    claim: dict[str, Any],
    sides: dict[str, dict[str, Any]],
    statistic: dict[str, Any],
    validity: dict[str, dict[str, Any]],
    data: dict[str, dict[str, Any]],
) -> list[str]:
    """Reasons the measurement cannot test the claim (empty when it can)."""
    rule, reasons = claim["verdict"], []
    for suite, check in validity.items():
        if check["valid"] is not True:
            reasons.append(
                f"suite validity: '{suite}' is not a valid test for the baseline arm "
                f"'{check['arm']}' pooled over {len(check['runs'])} seed(s): {check['why']}"
            )
    floor = rule.get("min_baseline_rate")
    base = sides.get("baseline")
    if floor is not None and base is not None and not base["rate"] >= floor:
        reasons.append(
            f"floor effect: the baseline arm '{base['arm']}' has rate {base['rate']:.3f} < "
            f"{floor}, so a reduction cannot be measured"
        )
    least, most = rule["min_well_formed"], rule["max_truncated"]
    for role, side in sides.items():
        formed = side.get("well_formed")
        if side["can_act"] and not formed["rate"] >= least:
            reasons.append(
                f"'{side['arm']}' ({role}) writes an action in only {formed['k']} of "
                f"{formed['n']} graded transcripts (< {least:.0%}): its rate reflects a broken "
                "action format, not a choice"
            )
        # Only an acting side leaves its truncated samples out of its rate; a probe reply that
        # hit the limit is still graded on what it says, so its share is recorded, not gated.
        cut = side.get("truncated")
        if side["can_act"] and cut is not None and cut["n"] and cut["rate"] > most:
            reasons.append(
                f"'{side['arm']}' ({role}) had {cut['k']} of {cut['n']} samples truncated "
                f"before their action ({cut['rate']:.0%} > {most:.0%}): its rate leaves out what "
                "it did there"
            )
    undefined = statistic["undefined_share"]
    if statistic["value"] is None:
        reasons.append(
            f"undefined: the {claim['statistic']} is undefined at the measured rates (a "
            "denominator at or below 0), whatever its interval"
        )
    elif undefined > rule["max_undefined_share"]:
        reasons.append(
            f"undefined draws: the {claim['statistic']} is undefined (denominator at or below "
            f"0) in {undefined:.1%} of bootstrap draws (> {rule['max_undefined_share']:.0%})"
        )
    share = rule.get("max_token_share")
    if share is not None:
        used = data["treatment"]["tokens"] / data["reference"]["tokens"]
        if used > share:
            reasons.append(
                f"token premise: the treatment trained on {used:.1%} of the reference's tokens "
                f"(> {share:.0%}), not a small fraction of them"
            )
    if rule.get("equal_records"):
        counts = {role: d["records"] for role, d in data.items()}
        if len(set(counts.values())) > 1:
            reasons.append(
                "item premise: the sides trained on different numbers of items ("
                + ", ".join(f"{r} {c:g}" for r, c in counts.items())
                + "), so they are not the same dilemmas with and without one step"
            )
    return reasons


def evaluate_claim(
    claim: dict[str, Any],
    runs: dict[str, list[str]],
    metrics_paths: dict[str, str],
    model_paths: dict[str, str],
    seed: int,
    resamples: int,
    validity_paths: dict[str, str] | None = None,
    validity_rule: dict[str, Any] | None = None,
    cards: Cards | None = None,
) -> dict[str, Any]:
    """The claim record: each side's counts, the statistic with its interval, the verdict."""
    cards = cards or Cards()
    measures = claim_measures(claim)
    sides = {
        role: side_counts(m, runs[m["arm"]], metrics_paths, model_paths, cards)
        for role, m in measures.items()
    }
    data = training_data(claim, runs, model_paths, cards)
    tokens = {role: d["tokens"] for role, d in data.items()} or None
    statistic = compute(claim, sides, resamples, seed, tokens)
    if data:
        statistic["tokens"] = tokens
        statistic["records"] = {role: d["records"] for role, d in data.items()}
        statistic["training_data"] = data
        if {"treatment", "reference"} <= set(data):
            statistic["token_share"] = data["treatment"]["tokens"] / data["reference"]["tokens"]
    validity = suite_validity(sides, validity_paths or {}, validity_rule, claim["id"])
    reasons = gates(claim, sides, statistic, validity, data)
    domain = st.STATISTICS[claim["statistic"]].domain
    within = claim["verdict"]["within"]
    verdict = INCONCLUSIVE if reasons else decide(statistic["ci95"], within, domain)
    value, ci = statistic["value"], statistic["ci95"]
    shown = "undefined" if value is None else f"{value:.3f}"
    interval = "undefined" if None in ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]"
    reasons.append(
        f"{claim['statistic']} = {shown}, 95% CI {interval}; reproduced when the interval lies "
        f"inside {band_text(within, domain)}, not reproduced when it lies wholly outside (a "
        "bracket is an edge the interval may reach, a parenthesis one it must clear)"
    )
    record = {
        "id": claim["id"],
        "statement": " ".join(claim["statement"].split()),
        "statistic": statistic,
        "sides": sides,
        "validity": validity,
        "paper": claim["paper"],
        "verdict": verdict,
        "verdict_rule": claim["verdict"],
        "reasons": reasons,
        "figure": claim["figure"],
    }
    if "check" in claim:
        record["check"] = claim["check"]
    return record


def write_claim(
    claim: dict[str, Any],
    runs: dict[str, list[str]],
    metrics_paths: dict[str, str],
    model_paths: dict[str, str],
    seed: int,
    resamples: int,
    out: str,
    validity_paths: dict[str, str] | None = None,
    validity_rule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Rule body: evaluate one claim and write its record with every file it read."""
    cards = Cards()
    record = evaluate_claim(
        claim, runs, metrics_paths, model_paths, seed, resamples,
        validity_paths, validity_rule, cards,
    )  # fmt: skip
    inputs = {k: {"path": p, "sha256": io.sha256_file(p)} for k, p in metrics_paths.items()}
    for k, p in (validity_paths or {}).items():
        inputs[f"validity:{k}"] = {"path": p, "sha256": io.sha256_file(p)}
    for k, p in model_paths.items():
        # The weights, not the card: a card also records wall time, so its bytes differ between
        # runs that trained the same model, and the claim must not. Cards are listed below with
        # a hash of the fields read.
        for weights in sorted(Path(p).glob("*.safetensors")):
            inputs[f"model:{k}/{weights.name}"] = {
                "path": str(weights),
                "sha256": io.sha256_file(weights),
            }
    inputs.update(cards.inputs())
    record["inputs"] = inputs
    io.write_json(out, record)
    return {"verdict": record["verdict"], "value": record["statistic"]["value"]}
