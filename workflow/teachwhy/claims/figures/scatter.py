"""scatter: two measures per arm, one point each, with Wilson intervals on both axes."""

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
    render,
)
from teachwhy.claims.manifest import resolve

CAPTION = """\
One point per arm: {{ figure.x.label }} against {{ figure.y.label }}, Wilson 95% intervals on both axes.

{% for r in rows %}
- ``{{ r.arm }}``: x {{ pct(r.x_rate) }} (n={{ r.x_n }}), y {{ pct(r.y_rate) }} (n={{ r.y_n }})

{% endfor %}
"""
AXIS_FIELDS = ("rate", "ci_low", "ci_high", "k", "n")


def data(figure: dict[str, Any], sources: Sources) -> list[Row]:
    rows = []
    for arm in figure["arms"]:
        x = measured_row(sources.side(resolve(figure, figure["x"], arm)), arm, {})
        y = measured_row(sources.side(resolve(figure, figure["y"], arm)), arm, {})
        rows.append(
            {
                "arm": arm,
                "label": arm,
                **{f"x_{k}": x[k] for k in AXIS_FIELDS},
                **{f"y_{k}": y[k] for k in AXIS_FIELDS},
            }
        )
    return rows


def plotted(figure: dict[str, Any], rows: list[Row]) -> Plotted:
    return [
        (r["arm"], [resolve(figure, figure[axis], r["arm"]) for axis in ("x", "y")]) for r in rows
    ]


def draw(
    ax: Any, figure: dict[str, Any], rows: list[Row], style: dict[str, Any], marked: list[bool]
) -> None:
    palette = style["palette"]
    for i, (r, grey) in enumerate(zip(rows, marked, strict=True)):
        ax.errorbar(
            pct(r["x_rate"]),
            pct(r["y_rate"]),
            xerr=error_bars([r], "x_"),
            yerr=error_bars([r], "y_"),
            fmt="o",
            color=MARK_COLOR if grey else palette[i % len(palette)],
            mfc="none" if grey else None,
            capsize=3,
            label=f"{r['arm']}: {MARK_LABEL}" if grey else r["arm"],
        )
    ax.set_xlabel(f"{figure['x'].get('label', 'x')} (%)")
    ax.set_ylabel(f"{figure['y'].get('label', 'y')} (%)")


def caption(figure: dict[str, Any], rows: list[Row]) -> str:
    return render(CAPTION, figure=figure, rows=rows)


def measures(figure: dict[str, Any]) -> list[dict[str, Any]]:
    return [resolve(figure, figure[axis], arm) for axis in ("x", "y") for arm in figure["arms"]]


SCATTER = FigureKind(
    "scatter",
    data=data,
    draw=draw,
    caption=caption,
    plotted=plotted,
    measures=measures,
    required=("arms", "x", "y"),
)
