"""Which plotted sides fail a validity rule of the claims drawn with them, and why.

A figure greys or hatches such a side and gives the reason in its caption, so that a zero from
a model that cannot act never reads as alignment. The marks come from the claim records at draw
time; the figure's numbers (figure_data) do not carry them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from teachwhy.claims.figures.common import FigureKind, Row

Reasons = dict[str, list[str]]  # reason -> ids of the claims that give it


def _add(into: Reasons, reason: str, ids: Iterable[str]) -> None:
    have = into.setdefault(reason, [])
    have.extend(i for i in ids if i not in have)


def acting_failures(side: dict[str, Any], rule: dict[str, Any]) -> list[str]:
    """Why a side that can act is no evidence: it writes an action in less than the rule's
    ``min_well_formed`` share of its graded transcripts, or has more than ``max_truncated`` of
    its samples cut off before their action. A side that cannot act fails neither."""
    if not side["can_act"]:
        return []
    where = "its RL curve" if side["source"] == "rl_curve" else ", ".join(side["suites"])
    reasons = []
    formed, least = side["well_formed"], rule["min_well_formed"]
    # `not >=`, as the verdict's gate: an undefined (NaN) share fails too.
    if not formed["rate"] >= least:
        reasons.append(
            f"writes an action in only {formed['k']} of {formed['n']} graded transcripts on "
            f"{where} (below {100 * least:g}%)"
        )
    cut, most = side.get("truncated"), rule["max_truncated"]
    if cut is not None and cut["n"] and cut["rate"] > most:
        reasons.append(
            f"{cut['k']} of {cut['n']} samples on {where} cut off before their action "
            f"(above {100 * most:g}%)"
        )
    return reasons


def suite_failures(arm: str, suites: Iterable[str], validity: dict[str, Any]) -> list[str]:
    """Why the baseline arm's rate on these suites is no evidence: a suite it reads is not a
    valid test for it (its validity check is not True)."""
    reasons = []
    for suite in sorted(suites):
        check = validity.get(suite)
        if check is not None and check["arm"] == arm and check["valid"] is not True:
            reasons.append(f"'{suite}' is not a valid test for this baseline arm: {check['why']}")
    return reasons


def side_failures(
    side: dict[str, Any], rule: dict[str, Any], validity: dict[str, Any]
) -> list[str]:
    """Why one side of a claim record fails a validity rule (empty when it passes): it can act
    and writes too few well-formed actions or has too many truncated samples (``rule``: the
    record's verdict_rule), or it is a suite's baseline arm and that suite's check in the
    record's ``validity`` is not True."""
    return acting_failures(side, rule) + suite_failures(side["arm"], side["suite_kinds"], validity)


def covers(side: dict[str, Any], measure: dict[str, Any]) -> bool:
    """Whether a claim side measures what a plotted measure shows: the same arm and source,
    and for metrics at least one suite in common (a side may pool suites a bar splits)."""
    if (side["arm"], side["source"]) != (measure["arm"], measure["source"]):
        return False
    return measure["source"] == "rl_curve" or bool(set(side["suites"]) & set(measure["suites"]))


def measure_failures(measure: dict[str, Any], claims: list[dict[str, Any]]) -> Reasons:
    """Why a plotted measure fails a validity rule, by the claim records drawn with it: the
    failures of every claim side that covers it, and the validity of every suite it reads (an
    RL curve reads the suite its curve samples)."""
    reasons: Reasons = {}
    for claim in claims:
        covering = [s for s in claim["sides"].values() if covers(s, measure)]
        if measure["source"] == "rl_curve":
            suites = {suite for s in covering for suite in s["suite_kinds"]}
        else:
            suites = set(measure["suites"])
        found = [r for s in covering for r in acting_failures(s, claim["verdict_rule"])]
        found += suite_failures(measure["arm"], suites, claim["validity"])
        for reason in found:
            _add(reasons, reason, [claim["id"]])
    return reasons


def figure_marks(
    kind: FigureKind, figure: dict[str, Any], rows: list[Row], claims: list[dict[str, Any]]
) -> list[Reasons]:
    """Each row's reasons to be marked (empty: drawn as measured)."""
    marks = []
    for _, measures in kind.plotted(figure, rows):
        reasons: Reasons = {}
        for measure in measures:
            for reason, ids in measure_failures(measure, claims).items():
                _add(reasons, reason, ids)
        marks.append(reasons)
    return marks


def marked_labels(
    kind: FigureKind, figure: dict[str, Any], rows: list[Row], marks: list[Reasons]
) -> list[dict[str, Any]]:
    """The marked rows as the caption lists them: one entry per label, with its reasons."""
    by_label: dict[str, Reasons] = {}
    for (label, _), reasons in zip(kind.plotted(figure, rows), marks, strict=True):
        if reasons:
            mine = by_label.setdefault(label, {})
            for reason, ids in reasons.items():
                _add(mine, reason, ids)
    return [{"label": label, "reasons": reasons} for label, reasons in by_label.items()]
