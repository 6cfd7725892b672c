# Shared names and path helpers; no logic beyond building paths and wildcards.
from teachwhy import paths
from teachwhy.cluster import job_resources, job_threads
from teachwhy.config import dataset_suites, suite_arms, suite_family
from teachwhy.train.recipes import checkpoint_plan

WORLD = config["world"]
ARMS = list(config["arms"])
SUITES = list(config["evaluate"]["suites"])
DATASETS = list(config["datasets"])
CLAIM_IDS = list(config["claims"])
# Every checkpoint the arms need; arms sharing a recipe prefix share its checkpoints.
CHECKPOINTS = checkpoint_plan(config)
FIGURE_IDS = sorted({CLAIMS["claims"][c]["figure"] for c in CLAIM_IDS})
CLAIMS_MANIFEST = "config/claims.yaml"


wildcard_constraints:
    world=WORLD,
    dataset="|".join(DATASETS),
    suite="|".join(SUITES),
    arm="|".join(ARMS),
    checkpoint="|".join(CHECKPOINTS),


CONSTITUTION = config["constitution"]
DELIBERATION_STYLES = "config/deliberation.yaml"


def family_file(family):
    return f"config/suites/{family}.yaml"


def suite_family_file(wildcards):
    """The family file a configured eval suite renders from."""
    return family_file(suite_family(config, wildcards.suite))


def dataset_sources(wildcards):
    """Every data file a dataset's generator reads: its suites, the constitution, the
    deliberation styles."""
    suites = dataset_suites(config["datasets"][wildcards.dataset])
    return [family_file(f) for f in suites] + [CONSTITUTION, DELIBERATION_STYLES]


def evaluated_pairs():
    """(arm, suite) for every evaluation the config asks for."""
    return [(a, s) for s in SUITES for a in suite_arms(config, s)]


def checkpoint_inputs(wildcards):
    """A checkpoint's parent (the base model for a first stage), its stage's datasets and, for
    an RL stage, the held-out suite it samples for its curve."""
    spec = CHECKPOINTS[wildcards.checkpoint]
    inputs = {n: paths.dataset(WORLD, n) for n in sorted(spec.stage["datasets"])}
    if spec.parent is not None:
        inputs["parent"] = paths.model(WORLD, spec.parent)
    elif config["model"]["backend"] == "toy":
        inputs["parent"] = paths.model(WORLD, "base")
    if spec.kind == "rl":
        inputs["curve_prompts"] = paths.suite_prompts(
            WORLD, spec.stage["hyperparameters"]["curve_suite"]
        )
    return inputs


def claim_inputs(wildcards):
    claim = CLAIMS["claims"][wildcards.claim_id]
    arms = [claim["compare"]["baseline"], claim["compare"]["treatment"]]
    return {a: paths.graded(WORLD, a, claim["suite"]) for a in arms}


def figure_metrics(figure_id):
    figure = CLAIMS["figures"][figure_id]
    return {a: paths.metrics(WORLD, a, figure["suite"]) for a in figure["arms"]}


def figure_claims(figure_id):
    return [paths.claim(c) for c in CLAIM_IDS if CLAIMS["claims"][c]["figure"] == figure_id]
