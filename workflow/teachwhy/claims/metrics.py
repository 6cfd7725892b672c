"""The DVC metrics: one small file per claim with its statistic, 95% interval and verdict.

Written by the ``claim_metrics`` rule from each claim's record. ``dvc metrics show`` prints
one row per metrics file and one column per (flattened) key, in alphabetical order, so each
claim gets a file of four flat keys whose sorted order reads as the table should:
``estimate``, ``lower95``, ``upper95``, ``verdict``. Numbers are what ``dvc metrics diff``
subtracts across commits; the verdict is a string, which both commands print as it is
(``diff`` shows old and new). An undefined statistic or edge is ``null``, which DVC prints as
``-``. The rich claim records and numbers.json stay ordinary outputs.
"""

from __future__ import annotations

from typing import Any

from teachwhy import io
from teachwhy.errors import InputError

KEYS = ("estimate", "lower95", "upper95", "verdict")


def claim_metrics(claim: dict[str, Any]) -> dict[str, Any]:
    """One claim's metrics row, from its claim record."""
    statistic = claim["statistic"]
    low, high = statistic["ci95"]
    return {
        "estimate": statistic["value"],
        "lower95": low,
        "upper95": high,
        "verdict": claim["verdict"],
    }


def write_claim_metrics(claim_path: str, out: str) -> dict[str, Any]:
    """Rule body: write one claim's metrics file from its claim record."""
    claim = io.read_json(claim_path)
    for key in ("statistic", "verdict"):
        if key not in claim:
            raise InputError(claim_path, f"is not a claim record: it has no '{key}'")
    row = claim_metrics(claim)
    io.write_json(out, row)
    return {"verdict": row["verdict"]}
