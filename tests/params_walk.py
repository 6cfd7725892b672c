"""Walk the config's keys over a finished run: change one key at a time and compare the jobs
that ``snakemake -n`` reruns with the jobs that read the key.

Which jobs read a key is written down here, rule by rule (:func:`reads`), from the rules'
``params``: the scripts hand the package only their rule's params and inputs, and nothing in
the package reads the job's config (tests/test_config.py keeps both so), so a job reads a
config key exactly when its params carry it. A job that reruns because a job upstream of it reruns is
listed by Snakemake with the reason "updated input files" and is expected too; any other
rerun is a failure.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from teachwhy import paths
from teachwhy.config import load_config
from teachwhy.evaluate.limits import SAMPLING_KEYS, SUITE_SAMPLING_KEYS
from teachwhy.schemas import apply_defaults, load_schema
from teachwhy.train.recipes import training_plan

# Free text, safe to change without changing what any file names.
TEXT_KEYS = re.compile(r"^arms\.[^.]+\.description$")
# Choices that switch to another code path whose other keys a test config does not set.
SWITCHES = {
    "model.backend": "selects the model backend (hf needs a hub model and LoRA settings)",
    "model.architecture": "selects the model architecture",
    "world": "selects the paper world (Claude-written data, its own datasets and config)",
}
# Keys whose change adds or removes jobs (more seeds are more models): the walk checks that
# new jobs appear, and compares the params reruns of the jobs that stay.
STRUCTURAL = {"training.seeds"}


@dataclass
class Job:
    rule: str
    wildcards: dict[str, str]
    reason: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        wc = ",".join(f"{k}={v}" for k, v in sorted(self.wildcards.items()) if k != "world")
        return f"{self.rule}[{wc}]" if wc else self.rule


@dataclass
class Outcome:
    key: str
    value: Any
    changed: Any
    direct: set[str] = field(default_factory=set)  # reran for its params
    downstream: set[str] = field(default_factory=set)  # reran for an upstream rerun
    new: set[str] = field(default_factory=set)  # outputs of jobs the change added
    relinked: set[str] = field(default_factory=set)  # reran for a renamed parent checkpoint
    other: list[str] = field(default_factory=list)  # reran for any other reason
    error: str = ""


def leaves(config: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every key path of a mapping that holds no mapping, with its value."""
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            yield from leaves(value, path)
        else:
            yield path, value


def _schema_node(schema: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The schema of a key, and its schema path (``*`` for a name the config chooses, as in
    ``datasets.*.records``)."""
    node, pattern = schema, []
    for part in path.split("."):
        props = node.get("properties", {})
        if part in props:
            node = props[part]
            pattern.append(part)
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
            pattern.append("*")
        else:
            return {}, ".".join(pattern + [part])
        if "$ref" in node:
            node = schema.get("$defs", {}).get(node["$ref"].rsplit("/", 1)[-1], node)
    return node, ".".join(pattern)


def mutation(path: str, value: Any, schema: dict[str, Any]) -> tuple[Any, str]:
    """A valid new value for the key, or (None, why the key is not walked)."""
    node, _ = _schema_node(schema, path)
    if isinstance(value, bool):
        return not value, ""
    if isinstance(value, int):
        step = node.get("multipleOf", 1)
        high = node.get("maximum")
        new = value + step
        return (value - step if high is not None and new > high else new), ""
    if isinstance(value, float):
        new = round(value * 0.9, 6) if value else 0.01
        return new, ""
    if isinstance(value, str) and TEXT_KEYS.match(path):
        return value + " (changed)", ""
    if isinstance(value, str) and path in SWITCHES:
        return None, SWITCHES[path]
    if isinstance(value, str) and value in node.get("enum", []) and len(node["enum"]) > 1:
        choices = node["enum"]
        return choices[(choices.index(value) + 1) % len(choices)], ""
    if isinstance(value, str):
        return None, "a name or path that other files or rules are looked up by"
    if isinstance(value, list):
        return None, "a list of names (datasets, stages, families, suites)"
    return None, f"a {type(value).__name__}"


def overlay(config: dict[str, Any], path: str, new: Any) -> dict[str, Any]:
    """The --configfile that changes one key. ``arms`` is replaced whole by a config file that
    sets it, so a change under it carries every arm."""
    parts = path.split(".")
    if parts[0] == "arms":
        arms = copy.deepcopy(config["arms"])
        node = arms
        for part in parts[1:-1]:
            node = node[part]
        node[parts[-1]] = new
        return {"arms": arms}
    out: dict[str, Any] = {}
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = new
    return out


def reads(
    job: Job, key: str, config: dict[str, Any], changed: dict[str, Any], plans: tuple[dict, dict]
) -> bool:
    """Whether ``job`` reads config key ``key`` (``changed`` is the config with it changed,
    ``plans`` the training plans of both): its rule's params, written out. A training job
    reads its checkpoint's recipe spec (teachwhy.train.recipes), which resolves stage settings
    against `training` defaults."""
    wc, rule = job.wildcards, job.rule

    def under(*prefixes: str) -> bool:
        return any(key == p or key.startswith(p + ".") for p in prefixes)

    if rule == "generate_dataset":
        return under("seed", f"datasets.{wc['dataset']}")
    if rule == "generate_suite":
        return under("seed", f"evaluate.suites.{wc['suite']}")
    if rule == "check_contamination":
        return under("contamination")
    if rule == "train_tokenizer":
        return under("tokenizer")
    if rule == "pretrain":
        return under("seed", "world", "model", "pretrain", "training.scratch")
    if rule == "train_stage":
        after = checkpoint_params(changed, plans[1], wc["checkpoint"])
        return after is not None and checkpoint_params(config, plans[0], wc["checkpoint"]) != after
    if rule == "sample_arm":
        arm = next(a for a in config["arms"] if wc["model"].split(".seed")[0] == a)
        suites = [
            s
            for s, spec in config["evaluate"]["suites"].items()
            if spec.get("arms", "all") == "all" or arm in spec["arms"]
        ]
        return under(
            "seed",
            *(f"evaluate.{k}" for k in SAMPLING_KEYS),
            *(f"evaluate.suites.{s}.{k}" for s in suites for k in SUITE_SAMPLING_KEYS),
        )
    # The validity, claim and figure-data jobs name each arm's seeds (its runs).
    if rule == "suite_validity":
        return under("evaluate.validity", "training.seeds")
    if rule == "claim_verdict":
        return under("seed", "bootstrap", "evaluate.validity", "training.seeds")
    if rule == "figure_data":
        return under("training.seeds")
    if rule.startswith(("fig", "msm_fig")):
        return under("figures.style")
    if rule == "report_landing":
        return under("seed", "world", "training.seeds")
    return False


_BLOCK = re.compile(r"^(?:local)?rule (\S+):\n((?:    .*\n)+)", re.MULTILINE)


def dry_run_jobs(stdout: str) -> list[Job]:
    """The jobs a ``snakemake -n`` lists, with their wildcards and reason."""
    jobs = []
    for rule, body in _BLOCK.findall(stdout):
        fields = dict(re.findall(r"^    (\w+): (.*)$", body, flags=re.MULTILINE))
        wildcards = dict(
            item.split("=", 1) for item in fields.get("wildcards", "").split(", ") if "=" in item
        )
        files = {k: [f for f in fields.get(k, "").split(", ") if f] for k in ("input", "output")}
        jobs.append(Job(rule, wildcards, fields.get("reason", ""), files["input"], files["output"]))
    return jobs


PHASE_TARGETS = ("all", "paper", "data", "models", "evals")


def summary_status(stdout: str) -> dict[str, tuple[str, str]]:
    """Output file -> (status, plan) from ``snakemake --summary``."""
    out = {}
    for line in stdout.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 6:
            out[cols[0]] = (cols[4], cols[5])
    return out


def walk(
    work: Path, configfile: str, jobs: list[Job], workers: int = 2, keys: list[str] | None = None
) -> tuple[list[Outcome], dict[str, str], dict[str, Any]]:
    """Change each walkable key of the run's config in turn, one instance per schema key
    (``datasets.*.records`` once, on the first dataset that has it), and ask Snakemake what
    it would rerun (``--summary``: each output's status and plan)."""
    config = load_config(work / configfile)
    schema = load_schema("config")
    apply_defaults(config, schema)
    snakemake = Path(sys.executable).with_name("snakemake")
    by_output = {o: job for job in jobs for o in job.outputs}
    todo, skipped, seen = [], {}, set()
    for path, value in leaves(config):
        if keys is not None and path not in keys:
            continue
        _, pattern = _schema_node(schema, path)
        if pattern in seen:
            continue
        seen.add(pattern)
        new, why = mutation(path, value, schema)
        if why:
            skipped[pattern] = why
        else:
            todo.append((path, value, new))

    def one(index: int, path: str, value: Any, new: Any) -> Outcome:
        extra = work / f".walk-{index}.yaml"
        extra.write_text(yaml.safe_dump(overlay(config, path, new), sort_keys=False))
        try:
            run = subprocess.run(
                [str(snakemake), "--summary", "--nolock", "--configfile", configfile, str(extra)],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            extra.unlink()
        outcome = Outcome(path, value, new)
        if run.returncode != 0:
            outcome.error = (run.stdout + run.stderr)[-1500:]
            return outcome
        for output, (status, plan) in summary_status(run.stdout).items():
            if plan != "update pending":
                continue
            job = by_output.get(output)
            if job is not None and job.rule in PHASE_TARGETS:
                continue
            if status == "missing" or job is None:
                outcome.new.add(output)
            elif status == "params changed":
                outcome.direct.add(job.name)
            elif status == "set of input files changed":
                # A recipe prefix's name hashes its resolved recipe: renamed, its children
                # train from the new parent's files.
                outcome.relinked.add(job.name)
            elif status == "ok":
                outcome.downstream.add(job.name)  # a job upstream of it reruns
            else:
                outcome.other.append(f"{job.name}: {status}")
        return outcome

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda item: one(item[0], *item[1]), enumerate(todo)))
    return outcomes, skipped, config


def descendants(jobs: list[Job], names: set[str]) -> set[str]:
    """Every job downstream of the jobs named (through their input files)."""
    producer = {o: job.name for job in jobs for o in job.outputs}
    children: dict[str, set[str]] = {}
    for job in jobs:
        for f in job.inputs:
            parent = producer.get(f) or next(
                (n for o, n in producer.items() if f.startswith(o + "/")), None
            )
            if parent:
                children.setdefault(parent, set()).add(job.name)
    out, todo = set(), list(names)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def checkpoint_params(config: dict[str, Any], plan: dict, name: str) -> dict[str, Any] | None:
    """What the train_stage rule passes a checkpoint's job (``plan``: the config's training
    plan); None when no such checkpoint."""
    if name not in plan:
        return None
    return {
        "spec": plan[name].spec(),
        "model": config["model"],
        "seed": config["seed"],
        "scratch": config["training"]["scratch"],
        "world": config["world"],
        # GRPO runs in one process, so an RL stage is not given training.processes.
        "processes": 1 if plan[name].kind == "rl" else config["training"]["processes"],
        "description": config["arms"].get(name, {}).get("description"),
    }


def changed_config(config: dict[str, Any], key: str, new: Any) -> dict[str, Any]:
    out = copy.deepcopy(config)
    *parents, last = key.split(".")
    node = out
    for part in parents:
        node = node[part]
    node[last] = new
    return out


def expected(all_jobs: list[Job], outcome: Outcome, config: dict[str, Any]) -> tuple[set, set]:
    """(jobs that read the key, the model folders of the training jobs the change adds)."""
    changed = changed_config(config, outcome.key, outcome.changed)
    plans = (training_plan(config), training_plan(changed))
    direct = {
        job.name
        for job in all_jobs
        if job.rule not in PHASE_TARGETS and reads(job, outcome.key, config, changed, plans)
    }
    added = set(plans[1]) - set(plans[0])
    return direct, {paths.model(config["world"], name) for name in added}


def every_job(work: Path, configfile: str) -> list[Job]:
    """Every job of the DAG (a forced dry run lists them all, with their wildcards)."""
    snakemake = Path(sys.executable).with_name("snakemake")
    run = subprocess.run(
        [str(snakemake), "-n", "--nolock", "--forceall", "--configfile", configfile],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [
        j
        for j in dry_run_jobs(run.stdout)
        if j.rule not in ("all", "paper", "data", "models", "evals")
    ]
