"""results/paper/numbers.json (every number the report quotes) and the report's landing page
with the claims table, rendered from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from teachwhy import io
from teachwhy.claims.statistics import STATISTICS

SIDE_FIELDS = (
    "arm", "rate", "ci95", "k", "n", "per_seed", "can_act", "well_formed", "truncated",
)  # fmt: skip


def write_numbers(
    claim_paths: list[str], plot_paths: list[str], validity_path: str, out: str
) -> dict[str, Any]:
    """Gather each claim's statistic, sides and verdict, each figure's plotted rows and the
    suite validity table into one file, each entry naming the file it came from."""
    claims = {}
    for path in claim_paths:
        claim = io.read_json(path)
        claims[claim["id"]] = {
            "statement": claim["statement"],
            "verdict": claim["verdict"],
            "reasons": claim["reasons"],
            "statistic": claim["statistic"],
            "paper": claim["paper"],
            "sides": {
                role: {k: side[k] for k in SIDE_FIELDS if k in side}
                for role, side in claim["sides"].items()
            },
            "validity": claim.get("validity", {}),
            "check": claim.get("check"),
            "figure": claim["figure"],
            "source": path,
        }
    figures = {}
    for path in plot_paths:
        data = io.read_json(path)
        figures[data["figure"]] = {"kind": data["kind"], "rows": data["rows"], "source": path}
    validity = io.read_json(validity_path)
    io.write_json(
        out,
        {
            "claims": claims,
            "figures": figures,
            "validity": {"source": validity_path, **validity},
        },
    )
    return {"claims": len(claims), "figures": len(figures)}


def _fmt(value: float | None, kind: str) -> str:
    return "undefined" if value is None else STATISTICS[kind].shown(value)


def claims_table(numbers: dict[str, Any]) -> list[dict[str, str]]:
    """One row per claim, as the landing page shows it."""
    rows = []
    for claim_id, c in numbers["claims"].items():
        kind = c["statistic"]["kind"]
        lo, hi = c["statistic"]["ci95"]
        paper_value = c["paper"].get("value")
        rows.append(
            {
                "id": claim_id,
                "statement": c["statement"],
                "paper": c["paper"]["text"]
                + ("" if paper_value is None else f" ({kind} {_fmt(paper_value, kind)})"),
                "statistic": kind.replace("_", " "),
                "measured": _fmt(c["statistic"]["value"], kind),
                "interval": "undefined"
                if lo is None or hi is None
                else f"[{_fmt(lo, kind)}, {_fmt(hi, kind)}]",
                "verdict": c["verdict"],
                # A manipulation check tests the setup, not the paper: the report shows it apart.
                "check": c.get("check") or "",
                "why": c["reasons"][0] if c["verdict"] == "inconclusive" else "",
                "figure": c["figure"],
            }
        )
    return rows


def write_landing(
    numbers_path: str,
    template_path: str,
    out: str,
    world: str,
    seed: int,
    seeds: int,
    arms: list[str],
) -> dict[str, Any]:
    """Render the landing page (reStructuredText) from numbers.json."""
    numbers = io.read_json(numbers_path)
    rows = claims_table(numbers)
    template = jinja2.Template(
        Path(template_path).read_text(encoding="utf-8"), trim_blocks=True, lstrip_blocks=True
    )
    # The counts are of the paper's claims; a manipulation check is a row, not a reproduction.
    counts = {
        v: sum(r["verdict"] == v and not r["check"] for r in rows)
        for v in ("reproduced", "not reproduced", "inconclusive")
    }
    checks = [r for r in rows if r["check"]]
    text = template.render(
        rows=rows, checks=checks, world=world, seed=seed, seeds=seeds, arms=arms, counts=counts
    )
    # Snakemake renders the page through Jinja again; nothing here may read as a tag or comment.
    text = text.replace("{{", "{ {").replace("{%", "{ %").replace("{#", "{ #")
    io.write_text(out, text)
    return counts
