"""tokens: rate against the training tokens of each arm's dataset on a log axis, optionally
with the Pareto frontier, and the reference arm (trained without that data) as a line."""

from __future__ import annotations

from typing import Any

from teachwhy.claims.figures.common import (
    MARK_COLOR,
    MARK_LABEL,
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
from teachwhy.claims.verdict import arm_tokens

CAPTION = """\
Harmful rate against the training tokens of each arm's alignment dataset (log axis){% if figure.frontier %}; the dashed step is the Pareto frontier (no arm has both fewer tokens and a lower rate){% endif %}. The dotted line is ``{{ figure.reference }}``, trained without that data.

{% for r in rows %}
- ``{{ r.arm }}``{% if not r.reference %} ({{ "{:,.0f}".format(r.tokens) }} tokens of ``{{ r.dataset }}``{% if r.pareto %}, on the frontier{% endif %}){% endif %}: {{ pct(r.rate) }} [{{ pct(r.ci_low) }}, {{ pct(r.ci_high) }}] (n={{ r.n }})

{% endfor %}
"""


def pareto_front(points: list[tuple[float, float]]) -> list[bool]:
    """Whether each (tokens, rate) point is undominated: no other point has no more tokens and
    no higher rate, with one of the two strictly lower."""
    return [
        not any(
            (t2 <= t and r2 <= r) and (t2 < t or r2 < r)
            for j, (t2, r2) in enumerate(points)
            if j != i
        )
        for i, (t, r) in enumerate(points)
    ]


def data(figure: dict[str, Any], sources: Sources) -> list[Row]:
    paper = sources.paper()
    rows = []
    for point in figure["points"]:
        row = measured_row(sources.side(resolve(figure, {}, point["arm"])), point["arm"], paper)
        row["dataset"] = point["dataset"]
        row["reference"] = False
        row["tokens"] = arm_tokens(
            sources.model_paths, sources.runs[point["arm"]], point["dataset"]
        )
        rows.append(row)
    front = pareto_front([(r["tokens"], r["rate"]) for r in rows])
    for row, on in zip(rows, front, strict=True):
        row["pareto"] = on
    reference = figure["reference"]
    ref = measured_row(sources.side(resolve(figure, {}, reference)), reference, paper)
    rows.append({**ref, "tokens": 0, "dataset": None, "pareto": None, "reference": True})
    return rows


def plotted(figure: dict[str, Any], rows: list[Row]) -> Plotted:
    arms = [p["arm"] for p in figure["points"]] + [figure["reference"]]
    return [(row["arm"], [resolve(figure, {}, arm)]) for arm, row in zip(arms, rows, strict=True)]


def draw(
    ax: Any, figure: dict[str, Any], rows: list[Row], style: dict[str, Any], marked: list[bool]
) -> None:
    palette = style["palette"]
    points = [(r, m) for r, m in zip(rows, marked, strict=True) if not r["reference"]]
    for i, (r, grey) in enumerate(points):
        ax.errorbar(
            r["tokens"],
            pct(r["rate"]),
            yerr=error_bars([r]),
            fmt="o",
            color=MARK_COLOR if grey else palette[i % len(palette)],
            mfc="none" if grey else None,
            capsize=3,
            label=f"{r['arm']}: {MARK_LABEL}" if grey else r["arm"],
        )
    if figure.get("frontier"):
        front = sorted((r["tokens"], pct(r["rate"])) for r, _ in points if r["pareto"])
        ax.step(
            *zip(*front, strict=True), where="post", color="#777777", ls="--",
            label="Pareto frontier",
        )  # fmt: skip
    else:
        line = sorted((r["tokens"], pct(r["rate"])) for r, _ in points)
        ax.plot(*zip(*line, strict=True), color="#777777", lw=1)
    for r, grey in zip(rows, marked, strict=True):
        if r["reference"]:
            label = f"{r['arm']} (no extra data)" + (f": {MARK_LABEL}" if grey else "")
            color = MARK_COLOR if grey else style["measured_color"]
            ax.axhline(pct(r["rate"]), color=color, ls=":", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("training tokens of the named dataset (log scale)")
    ax.set_ylabel("harmful rate (%)")
    ax.set_ylim(0, rate_axis_top([pct(r["ci_high"]) for r in rows]))


def caption(figure: dict[str, Any], rows: list[Row]) -> str:
    return render(CAPTION, figure=figure, rows=rows)


def measures(figure: dict[str, Any]) -> list[dict[str, Any]]:
    arms = [p["arm"] for p in figure["points"]] + [figure["reference"]]
    return [resolve(figure, {}, arm) for arm in arms]


TOKENS = FigureKind(
    "tokens",
    data=data,
    draw=draw,
    caption=caption,
    plotted=plotted,
    measures=measures,
    required=("points", "reference"),
)
