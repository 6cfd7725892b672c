"""curves: the harmful rate under threat sampled during RL, per init: each seed's curve and
their mean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teachwhy import io
from teachwhy.claims.figures.common import (
    MARK_COLOR,
    MARK_LABEL,
    FigureKind,
    Plotted,
    Row,
    Sources,
    pct,
    rate_axis_top,
    render,
)
from teachwhy.claims.manifest import resolve
from teachwhy.claims.verdict import CARD

CAPTION = """\
Harmful rate under threat on a fixed held-out blackmail subset, sampled during RL; thick lines
are the mean over training seeds, thin lines each seed.

{% for c in curves %}
- ``{{ c.arm }}``: {{ pct(c.first) }} at step {{ c.first_step }} -> {{ pct(c.last) }} at step {{ c.last_step }} (mean of {{ c.seeds }} seed(s))

{% endfor %}
"""


def data(figure: dict[str, Any], sources: Sources) -> list[Row]:
    rows = []
    for arm in figure["arms"]:
        for run in sources.runs[arm]:
            card = io.read_json(Path(sources.model_paths[run]) / CARD)
            for point in card.get("rl_curve", []):
                rows.append(
                    {
                        "arm": arm,
                        "run": run,
                        "step": point["step"],
                        "harmful_rate": point["harmful_rate"],
                        "n": point["n"],
                        "well_formed": point.get("well_formed"),
                    }
                )
    return rows


def plotted(figure: dict[str, Any], rows: list[Row]) -> Plotted:
    return [(r["arm"], [resolve(figure, {"source": "rl_curve"}, r["arm"])]) for r in rows]


def mean_rate(rows: list[Row], step: int) -> float:
    """The mean over seeds of one arm's harmful rate at ``step``."""
    at = [r["harmful_rate"] for r in rows if r["step"] == step]
    return sum(at) / len(at)


def draw(
    ax: Any, figure: dict[str, Any], rows: list[Row], style: dict[str, Any], marked: list[bool]
) -> None:
    palette = style["palette"]
    for i, arm in enumerate(dict.fromkeys(r["arm"] for r in rows)):
        mine = [r for r in rows if r["arm"] == arm]
        grey = any(m for r, m in zip(rows, marked, strict=True) if r["arm"] == arm)
        color = MARK_COLOR if grey else palette[i % len(palette)]
        for run in dict.fromkeys(r["run"] for r in mine):
            pts = sorted((r["step"], pct(r["harmful_rate"])) for r in mine if r["run"] == run)
            ax.plot(*zip(*pts, strict=True), color=color, lw=0.7, alpha=0.4)
        steps = sorted({r["step"] for r in mine})
        label = f"{arm} (mean of seeds)" + (f": {MARK_LABEL}" if grey else "")
        ax.plot(
            steps, [pct(mean_rate(mine, s)) for s in steps], color=color, lw=2,
            ls="--" if grey else "-", label=label,
        )  # fmt: skip
    ax.set_xlabel("RL step")
    ax.set_ylabel("harmful rate under threat (%)")
    ax.set_ylim(0, rate_axis_top([pct(r["harmful_rate"]) for r in rows]))


def caption(figure: dict[str, Any], rows: list[Row]) -> str:
    curves = []
    for arm in dict.fromkeys(r["arm"] for r in rows):
        mine = [r for r in rows if r["arm"] == arm]
        steps = sorted({r["step"] for r in mine})
        curves.append(
            {
                "arm": arm,
                "first_step": steps[0],
                "first": mean_rate(mine, steps[0]),
                "last_step": steps[-1],
                "last": mean_rate(mine, steps[-1]),
                "seeds": len({r["run"] for r in mine}),
            }
        )
    return render(CAPTION, figure=figure, curves=curves)


def measures(figure: dict[str, Any]) -> list[dict[str, Any]]:
    """Curves read each arm's model folders (its RL curve), not metrics."""
    return [resolve(figure, {"source": "rl_curve"}, arm) for arm in figure["arms"]]


CURVES = FigureKind(
    "curves",
    data=data,
    draw=draw,
    caption=caption,
    plotted=plotted,
    measures=measures,
    required=("arms",),
)
