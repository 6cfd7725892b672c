# Shared names and path helpers; no logic beyond building paths and wildcards.
import re

from teachwhy import paths
from teachwhy.claims.figures import figure_measures
from teachwhy.cluster import job_resources, job_threads
from teachwhy.config import suite_arms, suite_family
from teachwhy.evaluate.limits import SAMPLING_KEYS, SUITE_SAMPLING_KEYS
from teachwhy.generate.claude import run as claude_run
from teachwhy.generate.claude.pipelines import STEPS, DATASET_PLANS, dataset_steps, step_owner
from teachwhy.generate.claude.prompts import template_path
from teachwhy.generate.families import dataset_suites
from teachwhy.scenarios.suites import load_suite
from teachwhy.claims.manifest import (
    claim_measures,
    metric_pairs,
    model_arms,
    validity_suites,
)
from teachwhy.train.recipes import arm_runs, stage_datasets, training_plan

WORLD = config["world"]
ARMS = list(config["arms"])
SUITES = list(config["evaluate"]["suites"])
DATASETS = list(config["datasets"])
CLAIM_IDS = list(config["claims"])
# Every checkpoint of every training seed; arms sharing a recipe prefix share its checkpoints.
CHECKPOINTS = training_plan(config)
# Each arm's trained models, one per seed: <arm>, <arm>.seed1, ...
RUNS = {arm: arm_runs(config, arm) for arm in ARMS}
FIGURE_IDS = sorted({CLAIMS["claims"][c]["figure"] for c in CLAIM_IDS})
CLAIMS_MANIFEST = config["claims_manifest"]
# Where each dataset comes from: the toy world's procedural generators, Claude (paper world),
# or a hub at a pinned commit.
GENERATED_DATASETS = claude_run.generated_datasets(config)
HUB_DATASETS = [d for d, s in config["datasets"].items() if s.get("source") == "hub"]
PROCEDURAL_DATASETS = [d for d in DATASETS if d not in GENERATED_DATASETS + HUB_DATASETS]
STEP_IDS = sorted({s for d in GENERATED_DATASETS for s in dataset_steps(d)})
# The generation setting that decides which answers a step keeps is a param (styles and markers
# are input files); where answers are cached, what they cost and how requests are sent and
# capped travel as resources, which never rerun a job: raising the budget after a stop, or
# updating the price table, reruns only the steps that stopped.
GENERATION_KEYS = ("on_max_tokens",)


def one_of(names):
    """A wildcard constraint matching exactly these names (nothing when there are none)."""
    return "|".join(re.escape(n) for n in names) or "^$"


wildcard_constraints:
    world=WORLD,
    dataset="|".join(DATASETS),
    suite="|".join(SUITES),
    model="|".join(re.escape(run) for runs in RUNS.values() for run in runs),
    checkpoint="|".join(re.escape(c) for c in CHECKPOINTS),
    figure_id="|".join(FIGURE_IDS) or "^$",
    claim_id="|".join(CLAIM_IDS) or "^$",


CONSTITUTION = config["constitution"]


def suite_family_file(wildcards):
    """The family file a configured eval suite renders from."""
    return paths.suite_file(suite_family(config, wildcards.suite))


def step_inputs(wildcards):
    """A step's template, its parents' items and manifests, and the shared files it reads
    (named as the job passes them on)."""
    step = STEPS[wildcards.step_id]
    inputs = {"template": template_path(step.prompt)}
    files = claude_run.shared_files(config)
    inputs.update({f"shared_{name}": files[name] for name in step.reads})
    for parent in step.parents:
        inputs[f"items_{parent}"] = claude_run.step_items_path(WORLD, parent)
        inputs[f"manifest_{parent}"] = claude_run.step_manifest_path(WORLD, parent)
    return inputs


def claude_dataset_inputs(wildcards):
    """The items of the steps a Claude-written dataset is built from, and the manifests of every
    step it needs (its provenance sums them)."""
    inputs = {}
    for step_id in DATASET_PLANS[wildcards.dataset].steps:
        inputs[f"items_{step_id}"] = claude_run.step_items_path(WORLD, step_id)
    for step_id in dataset_steps(wildcards.dataset):
        inputs[f"manifest_{step_id}"] = claude_run.step_manifest_path(WORLD, step_id)
    return inputs


def contamination_markers():
    """The eval markers the paper world checks its data against (none in the toy world)."""
    if WORLD != "paper":
        return []
    return claude_run.load_markers(config["generation"]["markers"])


def dataset_sources(wildcards):
    """Every data file a dataset's generator reads: its suites, the constitution, the
    deliberation styles."""
    suites = dataset_suites(config["datasets"][wildcards.dataset])
    return [paths.suite_file(f) for f in suites] + [CONSTITUTION, paths.DELIBERATION_STYLES]


def run_suites(run):
    """The suites one trained model (an arm's seed) is evaluated on, in config order."""
    arm = next(a for a, runs in RUNS.items() if run in runs)
    return [s for s in SUITES if arm in suite_arms(config, s)]


def evaluated_pairs():
    """(run, suite) for every evaluation the config asks for: each seed of each arm."""
    return [(r, s) for s in SUITES for a in suite_arms(config, s) for r in RUNS[a]]


def checkpoint_inputs(wildcards):
    """A checkpoint's parent (the base model for a first stage), its stage's datasets and, for
    an RL stage, the held-out suite it samples for its curve."""
    spec = CHECKPOINTS[wildcards.checkpoint]
    inputs = {n: paths.dataset(WORLD, n) for n in stage_datasets(spec.stage)}
    if spec.parent is not None:
        inputs["parent"] = paths.model(WORLD, spec.parent)
    elif config["model"]["backend"] == "toy":
        inputs["parent"] = paths.model(WORLD, "base")
    if spec.kind == "rl":
        curve_suite = spec.stage["hyperparameters"]["curve_suite"]
        inputs["curve_prompts"] = paths.suite_prompts(WORLD, curve_suite)
        # The curve grades its samples by the suite's family file.
        inputs["curve_suite"] = paths.suite_file(suite_family(config, curve_suite))
    return inputs


def lineage(name):
    """A checkpoint and every checkpoint it was trained from, newest first."""
    names = []
    while name is not None:
        names.append(name)
        name = CHECKPOINTS[name].parent
    return names


def measured_inputs(owner, measures):
    """Named inputs of a claim or figure: each seed's metrics per (arm, suite) it reads, and
    model folders (the whole recipe lineage) for RL curves and token counts."""
    inputs = {
        f"{run}/{suite}": paths.metrics(WORLD, run, suite)
        for arm, suite in metric_pairs(measures)
        for run in RUNS[arm]
    }
    for arm in model_arms(owner, measures):
        for run in RUNS[arm]:
            for name in lineage(run):
                inputs[f"model:{name}"] = paths.model(WORLD, name)
    return inputs


def claim_inputs(wildcards):
    """A claim's measured inputs, and `validity:<run>/<suite>`: every seed of the baseline arm
    (evaluate.validity.baseline_arm) on every honeypot suite the claim rests on (an RL curve's
    suite included), whose validity, pooled over the seeds, the verdict checks."""
    def kind(suite):
        return load_suite(suite_family(config, suite)).kind

    def curve_suite(arm):
        return CHECKPOINTS[RUNS[arm][0]].stage["hyperparameters"]["curve_suite"]

    claim = CLAIMS["claims"][wildcards.claim_id]
    measures = list(claim_measures(claim).values())
    inputs = measured_inputs(claim, measures)
    baseline = config["evaluate"]["validity"]["baseline_arm"]
    for suite in validity_suites(measures, kind, curve_suite):
        if baseline not in RUNS or baseline not in suite_arms(config, suite):
            raise ValueError(
                f"claim {wildcards.claim_id} rests on honeypot suite '{suite}', whose validity "
                f"needs the baseline arm '{baseline}' evaluated on it "
                f"(evaluate.suites.{suite}.arms, evaluate.validity.baseline_arm)"
            )
        for run in RUNS[baseline]:
            inputs[f"validity:{run}/{suite}"] = paths.metrics(WORLD, run, suite)
    return inputs


def figure_inputs(figure_id):
    figure = CLAIMS["figures"][figure_id]
    return measured_inputs(figure, figure_measures(figure))


def claim_runs(claim_id):
    """The seeds (runs) of every arm a claim reads."""
    claim = CLAIMS["claims"][claim_id]
    return {m["arm"]: RUNS[m["arm"]] for m in claim_measures(claim).values()}


def figure_runs(figure_id):
    return {m["arm"]: RUNS[m["arm"]] for m in figure_measures(CLAIMS["figures"][figure_id])}


def figure_claim_ids(figure_id):
    return [c for c in CLAIM_IDS if CLAIMS["claims"][c]["figure"] == figure_id]


def figure_claims(figure_id):
    return [paths.claim(c) for c in figure_claim_ids(figure_id)]
