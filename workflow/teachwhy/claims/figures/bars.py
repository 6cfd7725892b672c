"""bars: a rate per arm or measure, with Wilson intervals, each seed's rate and the paper's."""

from __future__ import annotations

from typing import Any

from teachwhy.claims.figures.common import (
    MARK_COLOR,
    MARK_HATCH,
    MARK_LABEL,
    MEASURED_LABEL,
    FigureKind,
    Plotted,
    Row,
    Sources,
    error_bars,
    measured_row,
    pct,
    rate_axis_top,
    render,
)
from teachwhy.claims.manifest import resolve

CAPTION = """\
Bars: rate pooled over every training seed, with Wilson 95% intervals; dots: each seed's rate;
diamonds: the paper's number where it states one.

{% for r in rows %}
- ``{{ r.label }}``: {{ pct(r.rate) }} [{{ pct(r.ci_low) }}, {{ pct(r.ci_high) }}] (k={{ r.k }}, n={{ r.n }}){% if r.well_formed is not none %}; writes an action in {{ pct(r.well_formed) }}{% endif %}{% if r.paper_rate is not none %}; paper {{ pct(r.paper_rate) }}{% endif %}.

{% endfor %}
"""


def data(figure: dict[str, Any], sources: Sources) -> list[Row]:
    paper = sources.paper()
    rows = []
    for bar in figure["bars"]:
        measure = resolve(figure, bar)
        rows.append(measured_row(sources.side(measure), bar.get("label", measure["arm"]), paper))
    return rows


def plotted(figure: dict[str, Any], rows: list[Row]) -> Plotted:
    return [
        (row["label"], [resolve(figure, bar)])
        for bar, row in zip(figure["bars"], rows, strict=True)
    ]


def draw(
    ax: Any, figure: dict[str, Any], rows: list[Row], style: dict[str, Any], marked: list[bool]
) -> None:
    xs = list(range(len(rows)))
    for hatched in (False, True):
        at = [x for x in xs if marked[x] is hatched]
        if not at:
            continue
        ax.bar(
            at,
            [pct(rows[x]["rate"]) for x in at],
            yerr=error_bars([rows[x] for x in at]),
            capsize=4,
            color=MARK_COLOR if hatched else style["measured_color"],
            hatch=MARK_HATCH if hatched else None,
            label=MARK_LABEL if hatched else MEASURED_LABEL,
        )
    for x in xs:
        if marked[x]:
            # A grey column behind the bar: a marked bar at 0 is otherwise invisible.
            ax.axvspan(x - 0.45, x + 0.45, color=MARK_COLOR, alpha=0.25, lw=0, zorder=0)
    for x, r in zip(xs, rows, strict=True):
        seeds = [pct(s) for s in r["seed_rates"] if s is not None]
        ax.scatter([x] * len(seeds), seeds, s=10, color="#333333", zorder=3)
    paper = [
        (x, pct(r["paper_rate"]))
        for x, r in zip(xs, rows, strict=True)
        if r["paper_rate"] is not None
    ]
    if paper:
        ax.scatter(
            *zip(*paper, strict=True), marker="D", color=style["paper_color"], zorder=4,
            label="paper",
        )  # fmt: skip
    ax.scatter([], [], s=10, color="#333333", label="one training seed")
    ax.set_xticks(xs, [r["label"] for r in rows], rotation=20, ha="right")
    ax.set_ylabel("rate (%)")
    ax.set_ylim(
        0,
        rate_axis_top(
            [pct(r["ci_high"]) for r in rows]
            + [pct(r["paper_rate"]) for r in rows if r["paper_rate"] is not None]
        ),
    )


def caption(figure: dict[str, Any], rows: list[Row]) -> str:
    return render(CAPTION, figure=figure, rows=rows)


def measures(figure: dict[str, Any]) -> list[dict[str, Any]]:
    return [resolve(figure, bar) for bar in figure["bars"]]


BARS = FigureKind(
    "bars",
    data=data,
    draw=draw,
    caption=caption,
    plotted=plotted,
    measures=measures,
    required=("bars",),
)
