"""What every figure kind shares: the record a kind registers (``FigureKind``), where a
figure's numbers come from (``Sources``), the row of one measured side, error bars, the rate
axis, the look of a marked side, and caption rendering."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2

from teachwhy.claims.verdict import side_counts

Row = dict[str, Any]
# Per row: the label the caption names it by, and the measures it plots.
Plotted = list[tuple[str, list[dict[str, Any]]]]

# A side that fails a validity rule is drawn grey (bars also hatched), never in a measured
# colour, so a zero from a model that cannot act does not read as alignment.
MARK_COLOR = "#b3b3b3"
MARK_HATCH = "//"
MARK_LABEL = "fails a validity rule (see caption)"
MEASURED_LABEL = "measured (Wilson 95%)"


@dataclass(frozen=True)
class Sources:
    """What a figure's numbers are read from: the manifest claims drawn in it (for the paper's
    rates), each arm's runs, and the metrics files and model folders of those runs."""

    claims: list[dict[str, Any]]
    runs: dict[str, list[str]]
    metrics_paths: dict[str, str]
    model_paths: dict[str, str]

    def side(self, measure: dict[str, Any]) -> dict[str, Any]:
        """One measure's counts over every seed of its arm (as a claim side counts them)."""
        runs = self.runs[measure["arm"]]
        return side_counts(measure, runs, self.metrics_paths, self.model_paths)

    def paper(self) -> dict[str, float]:
        return paper_rates(self.claims)


@dataclass(frozen=True)
class FigureKind:
    """A figure kind: ``data`` (figure, sources) -> the rows it plots; ``draw`` (axes, figure,
    rows, style, marked: one flag per row) draws them; ``caption`` (figure, rows) -> the
    caption's text between its title and its claims; ``plotted`` (figure, rows) -> each row's
    label and measures, which the validity marks match against the claims' sides;
    ``measures`` (figure) -> every resolved measure it reads (its rule's inputs); ``required``:
    the manifest keys a figure of the kind must set."""

    name: str
    data: Callable[[dict[str, Any], Sources], list[Row]]
    draw: Callable[[Any, dict[str, Any], list[Row], dict[str, Any], list[bool]], None]
    caption: Callable[[dict[str, Any], list[Row]], str]
    plotted: Callable[[dict[str, Any], list[Row]], Plotted]
    measures: Callable[[dict[str, Any]], list[dict[str, Any]]]
    required: tuple[str, ...]


def paper_rates(claims: list[dict[str, Any]]) -> dict[str, float]:
    """The paper's rate per arm, as the manifest claims drawn in a figure state them."""
    out: dict[str, float] = {}
    for claim in claims:
        for arm, value in claim["paper"].get("rates", {}).items():
            out.setdefault(arm, value)
    return out


def measured_row(side: dict[str, Any], label: str, paper: dict[str, float]) -> Row:
    """One plotted side: its pooled rate with interval, counts, each seed's rate, its
    well-formed share and the paper's rate for its arm (only where the label is the arm)."""
    formed = side.get("well_formed")
    return {
        "label": label,
        "arm": side["arm"],
        "rate": side["rate"],
        "ci_low": side["ci95"][0],
        "ci_high": side["ci95"][1],
        "k": side["k"],
        "n": side["n"],
        "seed_rates": [s["k"] / s["n"] if s["n"] else None for s in side["per_seed"]],
        "well_formed": None if formed is None else formed["rate"],
        "paper_rate": paper.get(side["arm"]) if label == side["arm"] else None,
    }


def pct(x: float | None) -> float:
    return float("nan") if x is None else 100 * x


def error_bars(rows: list[Row], prefix: str = "") -> list[list[float]]:
    """Asymmetric error bars (below, above) of each row's rate, in percent."""
    rates = [pct(r[f"{prefix}rate"]) for r in rows]
    return [
        [rate - pct(r[f"{prefix}ci_low"]) for rate, r in zip(rates, rows, strict=True)],
        [pct(r[f"{prefix}ci_high"]) - rate for rate, r in zip(rates, rows, strict=True)],
    ]


def rate_axis_top(values: list[float]) -> float:
    """A rate axis that shows small rates legibly: 20-100%, with room above the highest bar."""
    finite = [v for v in values if v == v]
    return min(100.0, max(20.0, 1.15 * max(finite, default=0.0)))


def caption_pct(x: float | None) -> str:
    """A rate as the caption writes it: one decimal in percent, 'n/a' when undefined."""
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def render(text: str, **context: Any) -> str:
    """A caption template (blocks trimmed as in report/claim_figure.rst.jinja), with pct."""
    template = jinja2.Template(text, trim_blocks=True, lstrip_blocks=True)
    return template.render(pct=caption_pct, **context)
