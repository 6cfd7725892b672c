"""Claim figures in two steps: the plotted numbers (a data job that reads metrics and model
cards) and the drawing (a plot job that reads only those numbers, the style and the figure's
claim records), so deleting a figure or changing its style reruns only the plot job.

One module per figure kind holds its data builder, its drawing and its caption text, and
``KINDS`` registers them: ``bars`` (a rate per arm or measure, with intervals and each seed's
rate), ``tokens`` (rate against training tokens on a log axis, optionally with the Pareto
frontier), ``scatter`` (two measures per arm) and ``curves`` (harmful rate during RL, per
init). A new kind is one new module and one line in ``KINDS`` (and the manifest schema's enum).

The drawing greys or hatches each side that fails a validity rule of the claims drawn with it
(``marks``), with the reason in the caption.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teachwhy import io, paths
from teachwhy.claims.figures.bars import BARS
from teachwhy.claims.figures.common import FigureKind, Sources, paper_rates, render
from teachwhy.claims.figures.curves import CURVES
from teachwhy.claims.figures.marks import figure_marks, marked_labels, side_failures
from teachwhy.claims.figures.scatter import SCATTER
from teachwhy.claims.figures.tokens import TOKENS, pareto_front
from teachwhy.errors import InputError
from teachwhy.schemas import project_path

KINDS: dict[str, FigureKind] = {k.name: k for k in (BARS, TOKENS, SCATTER, CURVES)}

__all__ = [
    "KINDS",
    "FigureKind",
    "build_figure",
    "build_figure_data",
    "check_figures",
    "draw",
    "figure_data",
    "figure_marks",
    "figure_measures",
    "paper_rates",
    "pareto_front",
    "render_caption",
    "side_failures",
]


def figure_measures(figure: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resolved measure a figure plots (curves read model folders, not measures)."""
    return KINDS[figure["kind"]].measures(figure)


def check_figures(path: str | Path, figures: dict[str, dict[str, Any]]) -> None:
    """Each figure of the claims manifest at ``path`` sets what its kind needs, and measures
    with suites; errors name the file and key."""
    for name, figure in figures.items():
        kind = KINDS[figure["kind"]]
        for key in kind.required:
            if key not in figure:
                raise InputError(path, f"figures.{name}.{key}: a {kind.name} figure needs it")
        for measure in figure_measures(figure):
            if measure["source"] == "metrics" and not measure["suites"]:
                raise InputError(
                    path, f"figures.{name}: a measure of '{measure['arm']}' has no suites"
                )


def figure_data(
    figure_id: str,
    figure: dict[str, Any],
    claims: list[dict[str, Any]],
    runs: dict[str, list[str]],
    metrics_paths: dict[str, str],
    model_paths: dict[str, str],
) -> dict[str, Any]:
    """Every number a figure plots, as rows (written as JSON for the plot job and `dvc plots`)."""
    sources = Sources(claims, runs, metrics_paths, model_paths)
    rows = KINDS[figure["kind"]].data(figure, sources)
    return {"figure": figure_id, "kind": figure["kind"], "title": figure["title"], "rows": rows}


def draw(
    figure: dict[str, Any],
    data: dict[str, Any],
    style: dict[str, Any],
    outputs: list[str],
    marked: list[bool] | None = None,
) -> None:
    """Draw a figure's rows in the configured style and save each output (PDF and PNG);
    ``marked`` flags the rows drawn as failing a validity rule (none when not given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data["rows"]
    plt.rcParams.update({"font.size": style["font_size"], "svg.hashsalt": "teachwhy"})
    fig, ax = plt.subplots(figsize=(style["width"], style["height"]))
    KINDS[data["kind"]].draw(ax, figure, rows, style, marked or [False] * len(rows))
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
    figure_id: str,
    figure: dict[str, Any],
    data: dict[str, Any],
    claims: list[dict[str, Any]],
    template: str | Path = paths.FIGURE_CAPTION_TEMPLATE,
    marks: list[list[str]] | None = None,
) -> str:
    """The report caption: what is plotted, each plotted number, each marked side with why it
    fails a validity rule (``marks``, computed here unless the caller has them), and each
    claim's verdict."""
    kind = KINDS[data["kind"]]
    if marks is None:
        marks = figure_marks(kind, figure, data["rows"], claims)
    return render(
        project_path(template).read_text(encoding="utf-8"),
        figure_id=figure_id,
        figure=figure,
        body=kind.caption(figure, data["rows"]),
        marks=marked_labels(kind, figure, data["rows"], marks),
        claims=claims,
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
    caption_template: str | Path = paths.FIGURE_CAPTION_TEMPLATE,
) -> dict[str, Any]:
    """Rule body of a figure's plot job: PDF, PNG and the report caption, each side that fails
    a validity rule of the figure's claim records marked."""
    data = io.read_json(data_path)
    claims = [io.read_json(p) for p in claim_paths]
    marks = figure_marks(KINDS[data["kind"]], figure, data["rows"], claims)
    draw(figure, data, style, [pdf, png], [bool(m) for m in marks])
    text = render_caption(figure_id, figure, data, claims, caption_template, marks)
    io.write_text(caption, text)
    return {"rows": len(data["rows"])}
