"""Claim figures (PDF and PNG) and their report captions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from teachwhy import io
from teachwhy.schemas import project_path


def paper_rates(claims: list[dict[str, Any]]) -> dict[str, float]:
    """The paper's rate for each arm, as the claims that use the figure state them."""
    out: dict[str, float] = {}
    for claim in claims:
        for role in ("baseline", "treatment"):
            value = claim["paper"].get(f"{role}_rate")
            if value is not None:
                out.setdefault(claim["compare"][role], value)
    return out


def arm_rows(
    figure: dict[str, Any], metrics: dict[str, dict[str, Any]], paper: dict[str, float]
) -> list[dict]:
    rows = []
    for arm in figure["arms"]:
        pooled = metrics[arm]["threat_pooled"]["harmful"]
        control = (
            metrics[arm]["conditions"].get("none-none", {}).get("harmful", {"rate": float("nan")})
        )
        rows.append(
            {
                "arm": arm,
                "rate": pooled["rate"],
                "lo": pooled["ci95"][0],
                "hi": pooled["ci95"][1],
                "n": pooled["n"],
                "control": control["rate"],
                "paper": f"{100 * paper[arm]:.0f}%" if arm in paper else "not reported",
                "paper_rate": paper.get(arm),
            }
        )
    return rows


def draw_arms_figure(figure: dict[str, Any], rows: list[dict], outputs: list[str]) -> None:
    """Bar chart of harmful rate per arm with intervals, control bars and paper markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    xs = range(len(rows))
    rates = [100 * r["rate"] for r in rows]
    err = [[100 * (r["rate"] - r["lo"]) for r in rows], [100 * (r["hi"] - r["rate"]) for r in rows]]
    ax.bar(
        [x - 0.18 for x in xs],
        rates,
        width=0.36,
        yerr=err,
        capsize=4,
        color="#c0504d",
        label="threat conditions",
    )
    ax.bar(
        [x + 0.18 for x in xs],
        [100 * r["control"] for r in rows],
        width=0.36,
        fill=False,
        edgecolor="#555555",
        label="none/none control",
    )
    paper = [
        (x - 0.18, 100 * r["paper_rate"])
        for x, r in zip(xs, rows, strict=True)
        if r["paper_rate"] is not None
    ]
    if paper:
        ax.scatter(*zip(*paper, strict=True), marker="D", color="black", zorder=3, label="paper")
    ax.set_xticks(list(xs), [r["arm"] for r in rows])
    ax.set_ylabel("harmful rate (%)")
    ax.set_ylim(0, 100)
    ax.set_title(figure["title"], fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    for out in outputs:
        with io.atomic_path(out) as tmp:
            fig.savefig(
                tmp,
                format=Path(out).suffix.lstrip("."),
                metadata={"CreationDate": None} if out.endswith(".pdf") else None,
            )
    plt.close(fig)


def render_caption(figure: dict[str, Any], rows: list[dict], claims: list[dict[str, Any]]) -> str:
    template = jinja2.Template(
        project_path("report/claim_figure.rst.jinja").read_text(encoding="utf-8"),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return template.render(
        title=figure["title"],
        suite=figure["suite"],
        paper_figure=figure["paper_figure"],
        arms=rows,
        claims=claims,
    )


def build_figure(
    figure: dict[str, Any],
    metrics_paths: dict[str, str],
    claim_paths: list[str],
    pdf: str,
    png: str,
    caption: str,
    data: str,
) -> None:
    """The figure, its report caption, and the plotted numbers as CSV (for `dvc plots`)."""
    metrics = {arm: io.read_json(path) for arm, path in metrics_paths.items()}
    claims = [io.read_json(p) for p in claim_paths]
    rows = arm_rows(figure, metrics, paper_rates(claims))
    draw_arms_figure(figure, rows, [pdf, png])
    io.write_text(caption, render_caption(figure, rows, claims))
    io.write_text(data, plot_table(rows))


def plot_table(rows: list[dict[str, Any]]) -> str:
    """One CSV line per arm: measured rate with its interval, control rate, paper rate."""
    lines = ["arm,harmful_rate,ci_low,ci_high,n,control_rate,paper_rate"]
    for r in rows:
        paper = "" if r["paper_rate"] is None else f"{r['paper_rate']:.4f}"
        lines.append(
            f"{r['arm']},{r['rate']:.4f},{r['lo']:.4f},{r['hi']:.4f},{r['n']},{r['control']:.4f},{paper}"
        )
    return "\n".join(lines) + "\n"
