"""Claim figures in two steps: the plotted numbers (a data job that reads metrics and model
cards) and the drawing (a plot job that reads only those numbers and the style), so deleting a
figure or changing its style reruns only the plot job.

Kinds: ``bars`` (a rate per arm or measure, with intervals and each seed's rate), ``tokens``
(rate against training tokens on a log axis, optionally with the Pareto frontier), ``scatter``
(two measures per arm) and ``curves`` (harmful rate during RL, per init).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2

from teachwhy import io
from teachwhy.claims.manifest import resolve
from teachwhy.claims.verdict import CARD, arm_tokens, side_counts
from teachwhy.schemas import project_path


def paper_rates(claims: list[dict[str, Any]]) -> dict[str, float]:
    """The paper's rate per arm, as the manifest claims drawn in a figure state them."""
    out: dict[str, float] = {}
    for claim in claims:
        for arm, value in claim["paper"].get("rates", {}).items():
            out.setdefault(arm, value)
    return out


def _row(side: dict[str, Any], label: str, paper: dict[str, float]) -> dict[str, Any]:
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


def figure_data(
    figure_id: str,
    figure: dict[str, Any],
    claims: list[dict[str, Any]],
    runs: dict[str, list[str]],
    metrics_paths: dict[str, str],
    model_paths: dict[str, str],
) -> dict[str, Any]:
    """Every number a figure plots, as rows (written as JSON for the plot job and `dvc plots`)."""
    paper = paper_rates(claims)
    kind = figure["kind"]

    def side(measure: dict[str, Any]) -> dict[str, Any]:
        return side_counts(measure, runs[measure["arm"]], metrics_paths, model_paths)

    rows: list[dict[str, Any]] = []
    if kind == "bars":
        for bar in figure["bars"]:
            m = resolve(figure, bar)
            rows.append(_row(side(m), bar.get("label", m["arm"]), paper))
    elif kind == "tokens":
        for point in figure["points"]:
            row = _row(side(resolve(figure, {}, point["arm"])), point["arm"], paper)
            row["dataset"] = point["dataset"]
            row["reference"] = False
            row["tokens"] = arm_tokens(model_paths, runs[point["arm"]], point["dataset"])
            rows.append(row)
        front = pareto_front([(r["tokens"], r["rate"]) for r in rows])
        for row, on in zip(rows, front, strict=True):
            row["pareto"] = on
        ref = _row(side(resolve(figure, {}, figure["reference"])), figure["reference"], paper)
        rows.append({**ref, "tokens": 0, "dataset": None, "pareto": None, "reference": True})
    elif kind == "scatter":
        for arm in figure["arms"]:
            x = _row(side(resolve(figure, figure["x"], arm)), arm, {})
            y = _row(side(resolve(figure, figure["y"], arm)), arm, {})
            rows.append(
                {
                    "arm": arm,
                    "label": arm,
                    **{f"x_{k}": x[k] for k in ("rate", "ci_low", "ci_high", "k", "n")},
                    **{f"y_{k}": y[k] for k in ("rate", "ci_low", "ci_high", "k", "n")},
                }
            )
    else:  # curves
        for arm in figure["arms"]:
            for run in runs[arm]:
                card = io.read_json(Path(model_paths[run]) / CARD)
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
    return {"figure": figure_id, "kind": kind, "title": figure["title"], "rows": rows}


def _pct(x: float | None) -> float:
    return float("nan") if x is None else 100 * x


def _err(row: dict[str, Any], prefix: str = "") -> list[list[float]]:
    """Asymmetric error bars (below, above) of one row's rate, in percent."""
    rate = _pct(row[f"{prefix}rate"])
    return [[rate - _pct(row[f"{prefix}ci_low"])], [_pct(row[f"{prefix}ci_high"]) - rate]]


def _top(values: list[float]) -> float:
    """A rate axis that shows small rates legibly: 20-100%, with room above the highest bar."""
    finite = [v for v in values if v == v]
    return min(100.0, max(20.0, 1.15 * max(finite, default=0.0)))


def draw(figure: dict[str, Any], data: dict[str, Any], style: dict[str, Any], outputs: list[str]):
    """Draw a figure's rows in the configured style and save each output (PDF and PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": style["font_size"], "svg.hashsalt": "teachwhy"})
    fig, ax = plt.subplots(figsize=(style["width"], style["height"]))
    rows, kind = data["rows"], data["kind"]
    measured, palette = style["measured_color"], style["palette"]
    if kind == "bars":
        xs = list(range(len(rows)))
        rates = [_pct(r["rate"]) for r in rows]
        err = [
            [_pct(r["rate"]) - _pct(r["ci_low"]) for r in rows],
            [_pct(r["ci_high"]) - _pct(r["rate"]) for r in rows],
        ]
        ax.bar(xs, rates, yerr=err, capsize=4, color=measured, label="measured (Wilson 95%)")
        for x, r in zip(xs, rows, strict=True):
            seeds = [_pct(s) for s in r["seed_rates"] if s is not None]
            ax.scatter([x] * len(seeds), seeds, s=10, color="#333333", zorder=3)
        paper = [
            (x, _pct(r["paper_rate"]))
            for x, r in zip(xs, rows, strict=True)
            if r["paper_rate"] is not None
        ]
        if paper:
            ax.scatter(
                *zip(*paper, strict=True),
                marker="D",
                color=style["paper_color"],
                zorder=4,
                label="paper",
            )
        ax.scatter([], [], s=10, color="#333333", label="one training seed")
        ax.set_xticks(xs, [r["label"] for r in rows], rotation=20, ha="right")
        ax.set_ylabel("rate (%)")
        ax.set_ylim(
            0,
            _top(
                [_pct(r["ci_high"]) for r in rows]
                + [_pct(r["paper_rate"]) for r in rows if r["paper_rate"] is not None]
            ),
        )
    elif kind == "tokens":
        points = [r for r in rows if not r.get("reference")]
        for i, r in enumerate(points):
            ax.errorbar(
                r["tokens"],
                _pct(r["rate"]),
                yerr=_err(r),
                fmt="o",
                color=palette[i % len(palette)],
                capsize=3,
                label=r["arm"],
            )
        if figure.get("frontier"):
            front = sorted((r["tokens"], _pct(r["rate"])) for r in points if r["pareto"])
            ax.step(
                *zip(*front, strict=True),
                where="post",
                color="#777777",
                ls="--",
                label="Pareto frontier",
            )
        else:
            line = sorted((r["tokens"], _pct(r["rate"])) for r in points)
            ax.plot(*zip(*line, strict=True), color="#777777", lw=1)
        for r in rows:
            if r.get("reference"):
                ax.axhline(
                    _pct(r["rate"]), color=measured, ls=":", label=f"{r['arm']} (no extra data)"
                )
        ax.set_xscale("log")
        ax.set_xlabel("training tokens of the named dataset (log scale)")
        ax.set_ylabel("harmful rate (%)")
        ax.set_ylim(0, _top([_pct(r["ci_high"]) for r in rows]))
    elif kind == "scatter":
        for i, r in enumerate(rows):
            ax.errorbar(
                _pct(r["x_rate"]),
                _pct(r["y_rate"]),
                xerr=_err(r, "x_"),
                yerr=_err(r, "y_"),
                fmt="o",
                color=palette[i % len(palette)],
                capsize=3,
                label=r["arm"],
            )
        ax.set_xlabel(f"{figure['x'].get('label', 'x')} (%)")
        ax.set_ylabel(f"{figure['y'].get('label', 'y')} (%)")
    else:
        arms = list(dict.fromkeys(r["arm"] for r in rows))
        for i, arm in enumerate(arms):
            color = palette[i % len(palette)]
            mine = [r for r in rows if r["arm"] == arm]
            for run in dict.fromkeys(r["run"] for r in mine):
                pts = sorted((r["step"], _pct(r["harmful_rate"])) for r in mine if r["run"] == run)
                ax.plot(*zip(*pts, strict=True), color=color, lw=0.7, alpha=0.4)
            steps = sorted({r["step"] for r in mine})
            mean = [
                sum(_pct(r["harmful_rate"]) for r in mine if r["step"] == s)
                / sum(1 for r in mine if r["step"] == s)
                for s in steps
            ]
            ax.plot(steps, mean, color=color, lw=2, label=f"{arm} (mean of seeds)")
        ax.set_xlabel("RL step")
        ax.set_ylabel("harmful rate under threat (%)")
        ax.set_ylim(0, _top([_pct(r["harmful_rate"]) for r in rows]))
    ax.set_title(figure["title"], fontsize=style["font_size"] + 1)
    ax.legend(fontsize=style["font_size"] - 1, frameon=False)
    fig.tight_layout()
    for out in outputs:
        suffix = Path(out).suffix.lstrip(".")
        with io.atomic_path(out) as tmp:
            fig.savefig(
                tmp,
                format=suffix,
                dpi=style["dpi"],
                metadata={"CreationDate": None} if suffix == "pdf" else None,
            )
    plt.close(fig)


def render_caption(
    figure_id: str, figure: dict[str, Any], data: dict[str, Any], claims: list[dict[str, Any]]
) -> str:
    """The report caption: what is plotted, each plotted number, and each claim's verdict."""
    template = jinja2.Template(
        project_path("report/claim_figure.rst.jinja").read_text(encoding="utf-8"),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    curves = []
    if data["kind"] == "curves":
        for arm in dict.fromkeys(r["arm"] for r in data["rows"]):
            mine = [r for r in data["rows"] if r["arm"] == arm]
            steps = sorted({r["step"] for r in mine})

            def mean(step: int, mine: list = mine) -> float:
                at = [r["harmful_rate"] for r in mine if r["step"] == step]
                return sum(at) / len(at)

            curves.append(
                {
                    "arm": arm,
                    "first_step": steps[0],
                    "first": mean(steps[0]),
                    "last_step": steps[-1],
                    "last": mean(steps[-1]),
                    "seeds": len({r["run"] for r in mine}),
                }
            )
    return template.render(
        curves=curves,
        figure_id=figure_id,
        figure=figure,
        rows=data["rows"],
        kind=data["kind"],
        claims=claims,
        pct=lambda x: (
            "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"
        ),
    )


def build_figure_data(
    figure_id: str,
    figure: dict[str, Any],
    manifest_claims: list[dict[str, Any]],
    runs: dict[str, list[str]],
    inputs: dict[str, str],
    out: str,
) -> dict[str, Any]:
    """Rule body of figure_data."""
    metrics = {k: v for k, v in inputs.items() if not k.startswith("model:")}
    models = {k.removeprefix("model:"): v for k, v in inputs.items() if k.startswith("model:")}
    data = figure_data(figure_id, figure, manifest_claims, runs, metrics, models)
    data["inputs"] = {k: {"path": p, "sha256": io.sha256_file(p)} for k, p in metrics.items()}
    io.write_json(out, data)
    return {"rows": len(data["rows"])}


def build_figure(
    figure_id: str,
    figure: dict[str, Any],
    style: dict[str, Any],
    data_path: str,
    claim_paths: list[str],
    pdf: str,
    png: str,
    caption: str,
) -> dict[str, Any]:
    """Rule body of a figure's plot job: PDF, PNG and the report caption."""
    data = io.read_json(data_path)
    draw(figure, data, style, [pdf, png])
    claims = [io.read_json(p) for p in claim_paths]
    io.write_text(caption, render_caption(figure_id, figure, data, claims))
    return {"rows": len(data["rows"])}
