"""Checks on the workflow config that a JSON Schema cannot express (cross-file references)."""

from __future__ import annotations

from typing import Any

from teachwhy.claims.manifest import claim_arms, load_claims
from teachwhy.errors import InputError
from teachwhy.evaluate.suites import load_suite, suite_path
from teachwhy.generate.constitution import load as load_constitution
from teachwhy.schemas import apply_defaults, load_schema, project_path, validate


def suite_family(config: dict[str, Any], suite: str) -> str:
    """The family file a configured eval suite renders from (its own name unless it says)."""
    return config["evaluate"]["suites"][suite].get("family", suite)


def suite_arms(config: dict[str, Any], suite: str) -> list[str]:
    """The arms evaluated on a suite, in config order."""
    arms = config["evaluate"]["suites"][suite].get("arms", "all")
    return list(config["arms"]) if arms == "all" else [a for a in config["arms"] if a in arms]


def dataset_families(cfg: dict[str, Any]) -> list[str]:
    """The honeypot families a dataset config renders from."""
    own = [cfg["family"]] if "family" in cfg else []
    return own + list(cfg.get("prior_families", [])) + list(cfg.get("families", []))


def dataset_suites(cfg: dict[str, Any]) -> list[str]:
    """Every suite file a dataset's generator reads: its families and any task suite."""
    return dataset_families(cfg) + ([cfg["task_suite"]] if "task_suite" in cfg else [])


# Records sampled to estimate a token-budgeted dataset's record size before any job runs.
BUDGET_PROBE_RECORDS = 20


def check_budgets(config: dict[str, Any], constitution: Any, source: str) -> None:
    """Every token budget can be met: it holds at least one record, and it is reached within
    the generator's record cap (estimated from the first records of the real generator)."""
    from itertools import islice

    from teachwhy.generate.procedural import DATASETS, MAX_RECORDS, Context, derive_seed

    ctx = Context(config["seed"], constitution)
    for name, cfg in config["datasets"].items():
        if "tokens" not in cfg:
            continue
        probe = {**cfg, "tokens": 10**12}
        seed = derive_seed(config["seed"], "dataset", name)
        sizes = [
            r["tokens"] for r in islice(DATASETS[name](probe, seed, ctx), BUDGET_PROBE_RECORDS)
        ]
        if cfg["tokens"] < min(sizes):
            raise InputError(
                source,
                f"datasets.{name}.tokens: a budget of {cfg['tokens']} cannot hold one record "
                f"({name} records are {min(sizes)} to {max(sizes)} tokens)",
            )
        if cfg["tokens"] / (sum(sizes) / len(sizes)) > MAX_RECORDS:
            raise InputError(
                source,
                f"datasets.{name}.tokens: {cfg['tokens']} tokens would need more than "
                f"{MAX_RECORDS} records of about {sum(sizes) // len(sizes)} tokens",
            )


def check_config(config: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Validate ``config`` against its schema and its references, fill in the schema's defaults
    (in place), and return the claims manifest.

    Raises InputError naming the key path of the first problem, before any job runs.
    """
    validate(config, "config", source)
    apply_defaults(config, load_schema("config"))
    datasets = config["datasets"]
    known = sorted(p.stem for p in suite_path("blackmail").parent.glob("*.yaml"))
    for name, suite in config["evaluate"]["suites"].items():
        family = suite_family(config, name)
        if not suite_path(family).is_file():
            raise InputError(
                source,
                f"evaluate.suites.{name}: no suite file {suite_path(family)} (known: {known})",
            )
        if suite.get("persona") == "constitution" and load_suite(family).kind != "honeypot":
            raise InputError(source, f"evaluate.suites.{name}: a persona variant needs a honeypot")
        arms = suite.get("arms", "all")
        for arm in [] if arms == "all" else arms:
            if arm not in config["arms"]:
                raise InputError(source, f"evaluate.suites.{name}.arms: unknown arm '{arm}'")
    for name in datasets:
        for family in dataset_families(datasets[name]):
            if not suite_path(family).is_file():
                raise InputError(
                    source, f"datasets.{name}: no suite file {suite_path(family)} (known: {known})"
                )
            if load_suite(family).kind != "honeypot":
                raise InputError(source, f"datasets.{name}: '{family}' is not a honeypot family")
    constitution = load_constitution(project_path(config["constitution"]))
    for arm, recipe in config["arms"].items():
        for number, stage in enumerate(recipe["stages"], start=1):
            for dataset in stage["datasets"]:
                if dataset not in datasets:
                    raise InputError(
                        source,
                        f"arms.{arm}.stages[{number}]: dataset '{dataset}' is not in config.datasets",
                    )
    check_budgets(config, constitution, source)
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
        for arm in claim_arms(claim) + figure["arms"]:
            if arm not in suite_arms(config, claim["suite"]):
                raise InputError(
                    source,
                    f"claims: claim '{claim_id}' needs arm '{arm}' evaluated on suite "
                    f"'{claim['suite']}' (evaluate.suites.{claim['suite']}.arms)",
                )
    return manifest
