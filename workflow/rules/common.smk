# Shared names and path helpers; no logic beyond building paths and wildcards.
from teachwhy import paths
from teachwhy.cluster import job_resources, job_threads

WORLD = config["world"]
ARMS = list(config["arms"])
SUITES = list(config["evaluate"]["suites"])
DATASETS = list(config["datasets"])
CLAIM_IDS = list(config["claims"])
FIGURE_IDS = sorted({CLAIMS["claims"][c]["figure"] for c in CLAIM_IDS})
CLAIMS_MANIFEST = "config/claims.yaml"


wildcard_constraints:
    world=WORLD,
    dataset="|".join(DATASETS),
    suite="|".join(SUITES),
    arm="|".join(ARMS),


def suite_file(family):
    return f"config/suites/{family}.yaml"


def dataset_family_files(wildcards):
    """The suite file whose templates a dataset renders, if any."""
    cfg = config["datasets"][wildcards.dataset]
    family = cfg.get("family") or cfg.get("prior_family")
    return [suite_file(family)] if family else []


def arm_datasets(wildcards):
    """Every dataset any stage of the arm trains on, by name."""
    names = {n for s in config["arms"][wildcards.arm]["stages"] for n in s["datasets"]}
    return {n: paths.dataset(WORLD, n) for n in sorted(names)}


def claim_inputs(wildcards):
    claim = CLAIMS["claims"][wildcards.claim_id]
    arms = [claim["compare"]["baseline"], claim["compare"]["treatment"]]
    return {a: paths.graded(WORLD, a, claim["suite"]) for a in arms}


def figure_metrics(figure_id):
    figure = CLAIMS["figures"][figure_id]
    return {a: paths.metrics(WORLD, a, figure["suite"]) for a in figure["arms"]}


def figure_claims(figure_id):
    return [paths.claim(c) for c in CLAIM_IDS if CLAIMS["claims"][c]["figure"] == figure_id]
