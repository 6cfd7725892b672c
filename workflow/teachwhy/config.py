"""Checks on the workflow config that a JSON Schema cannot express (cross-file references)."""

from __future__ import annotations

from typing import Any

from teachwhy.claims.manifest import claim_arms, load_claims
from teachwhy.errors import InputError
from teachwhy.evaluate.suites import load_suite, suite_path
from teachwhy.generate.constitution import load as load_constitution
from teachwhy.schemas import apply_defaults, load_schema, project_path, validate


def check_config(config: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Validate ``config`` against its schema and its references, fill in the schema's defaults
    (in place), and return the claims manifest.

    Raises InputError naming the key path of the first problem, before any job runs.
    """
    validate(config, "config", source)
    apply_defaults(config, load_schema("config"))
    families = {config["datasets"]["pretrain_corpus"]["prior_family"]}
    families |= {
        config["datasets"][d]["family"] for d in ("honeypot_actions", "honeypot_deliberation")
    }
    families |= set(config["evaluate"]["suites"])
    for family in sorted(families):
        if not suite_path(family).is_file():
            raise InputError(source, f"suite '{family}' has no file {suite_path(family)}")
        load_suite(family)
    load_constitution(project_path(config["constitution"]))
    for arm, recipe in config["arms"].items():
        for number, stage in enumerate(recipe["stages"], start=1):
            for dataset in stage["datasets"]:
                if dataset not in config["datasets"]:
                    raise InputError(
                        source,
                        f"arms.{arm}.stages[{number}]: dataset '{dataset}' is not in config.datasets",
                    )
    manifest = load_claims()
    for claim_id in config["claims"]:
        if claim_id not in manifest["claims"]:
            raise InputError(
                source, f"claims: unknown claim '{claim_id}' (not in config/claims.yaml)"
            )
        claim = manifest["claims"][claim_id]
        figure = manifest["figures"][claim["figure"]]
        for arm in claim_arms(claim) + figure["arms"]:
            if arm not in config["arms"]:
                raise InputError(
                    source, f"claims: claim '{claim_id}' needs arm '{arm}', which config.arms lacks"
                )
        if claim["suite"] not in config["evaluate"]["suites"]:
            raise InputError(
                source,
                f"claims: claim '{claim_id}' needs suite '{claim['suite']}' in evaluate.suites",
            )
    return manifest
