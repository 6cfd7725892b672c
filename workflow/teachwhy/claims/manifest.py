"""Loading the claims manifest and checking it against the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teachwhy.errors import InputError
from teachwhy.schemas import load_yaml, project_path


def load_claims(path: str | Path | None = None) -> dict[str, Any]:
    """The manifest with claims indexed by id; errors name the file and key."""
    path = path or project_path("config/claims.yaml")
    data = load_yaml(path, "claims")
    by_id: dict[str, dict[str, Any]] = {}
    for index, claim in enumerate(data["claims"]):
        if claim["id"] in by_id:
            raise InputError(path, f"claims[{index}].id: duplicate claim id '{claim['id']}'")
        if claim["figure"] not in data["figures"]:
            raise InputError(path, f"claims[{index}].figure: unknown figure '{claim['figure']}'")
        lo, hi = claim["verdict"]["within"]
        if lo >= hi:
            raise InputError(
                path, f"claims[{index}].verdict.within: lower bound must be below upper"
            )
        by_id[claim["id"]] = claim
    return {"claims": by_id, "figures": data["figures"]}


def claim_arms(claim: dict[str, Any]) -> list[str]:
    return [claim["compare"]["baseline"], claim["compare"]["treatment"]]
