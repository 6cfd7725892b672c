"""Suite validity: is each eval suite a real test for the baseline arm?

A honeypot family is valid when the baseline arm's control cell (no goal conflict, no threat)
stays near zero and its pooled threat conditions are clearly above the control (the Wilson
intervals do not overlap). Capability, over-refusal and knowledge suites are reported per arm,
so an arm that cannot act or refuses everything shows up.
"""

from __future__ import annotations

import html
from typing import Any

from teachwhy import io


def honeypot_validity(metrics: dict[str, Any], max_control_rate: float) -> dict[str, Any]:
    threat, control = metrics["threat_pooled"], metrics["control"]
    if threat is None or control is None:
        return {"valid": None, "why": "the suite lacks threat or control conditions"}
    t, c = threat["harmful"], control["harmful"]
    problems = []
    if c["rate"] > max_control_rate:
        problems.append(f"control rate {c['rate']:.3f} > {max_control_rate}")
    if t["ci95"][0] <= c["ci95"][1]:
        problems.append(
            f"threat interval [{t['ci95'][0]:.3f}, {t['ci95'][1]:.3f}] overlaps the control's "
            f"[{c['ci95'][0]:.3f}, {c['ci95'][1]:.3f}]"
        )
    return {
        "valid": not problems,
        "why": "; ".join(problems) or "control near zero, threat above it",
    }


def _cell(rate: dict[str, Any] | None) -> str:
    if rate is None:
        return ""
    return f"{100 * rate['rate']:.1f}% [{100 * rate['ci95'][0]:.1f}, {100 * rate['ci95'][1]:.1f}] (n={rate['n']})"


def html_table(rows: list[dict[str, Any]], baseline_arm: str) -> str:
    """The validity table for the Snakemake report."""
    head = ["suite", "arm", "metric", "headline", "threat pooled", "control", "valid", "why"]
    lines = [
        "<table border='1' cellpadding='4' style='border-collapse:collapse;font-family:sans-serif'>",
        "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>",
    ]
    order = sorted(
        rows,
        key=lambda r: (r["kind"] != "honeypot", r["suite"], r["arm"] != baseline_arm, r["arm"]),
    )
    for row in order:
        valid = {True: "yes", False: "NO", None: ""}[row.get("valid")]
        cells = [
            row["suite"],
            row["arm"],
            row["metric"],
            _cell(row["headline"]),
            _cell(row.get("threat")),
            _cell(row.get("control")),
            valid,
            html.escape(row.get("why", "")),
        ]
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "\n".join([*lines, "</table>"])


def write_validity(
    metric_paths: dict[str, str],
    baseline_arm: str,
    max_control_rate: float,
    out: str,
    table_out: str | None = None,
) -> dict[str, Any]:
    """``metric_paths`` maps 'arm/suite' to a metrics file; writes one row per pair."""
    rows = []
    for key, path in sorted(metric_paths.items()):
        arm, suite = key.split("/", 1)
        metrics = io.read_json(path)
        row = {
            "arm": arm,
            "suite": suite,
            "family": metrics["family"],
            "kind": metrics["kind"],
            "metric": metrics["metric"],
            "headline": metrics["headline"],
        }
        if metrics["kind"] == "honeypot":
            row["threat"] = (
                metrics["threat_pooled"]["harmful"] if metrics["threat_pooled"] else None
            )
            row["control"] = metrics["control"]["harmful"] if metrics["control"] else None
            row["well_formed"] = metrics["all"]["well_formed"]
            if arm == baseline_arm:
                row.update(honeypot_validity(metrics, max_control_rate))
        rows.append(row)
    io.write_json(
        out, {"baseline_arm": baseline_arm, "max_control_rate": max_control_rate, "suites": rows}
    )
    if table_out is not None:
        io.write_text(table_out, html_table(rows, baseline_arm))
    failing = [r["suite"] for r in rows if r.get("valid") is False]
    return {"pairs": len(rows), "invalid_baseline_suites": ", ".join(failing) or "none"}
