"""results/paper/numbers.json: every number the report quotes, keyed by claim."""

from __future__ import annotations

from typing import Any

from teachwhy import io


def write_numbers(claim_paths: list[str], out: str) -> dict[str, Any]:
    numbers = {}
    for path in claim_paths:
        claim = io.read_json(path)
        numbers[claim["id"]] = {
            "verdict": claim["verdict"],
            "statistic": claim["statistic"],
            "paper": claim["paper"],
            "rates": {
                arm: {k: r[k] for k in ("rate", "ci95", "k", "n")}
                for arm, r in claim["rates"].items()
            },
            "source": path,
        }
    io.write_json(out, {"claims": numbers})
    return {"claims": len(numbers)}
