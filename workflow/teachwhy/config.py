"""Checks on the workflow config that a JSON Schema cannot express (cross-file references)."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

from teachwhy.claims.figures import check_figures, figure_measures
from teachwhy.claims.manifest import (
    claim_measures,
    load_claims,
    metric_pairs,
    model_arms,
    validity_suites,
)
from teachwhy.errors import InputError
from teachwhy.evaluate.graders import check_suite
from teachwhy.generate.claude.pipelines import DATASET_PLANS, STEPS, dataset_steps
from teachwhy.generate.claude.prompts import load_prompt, template_path
from teachwhy.generate.claude.run import generated_datasets, load_markers, load_prices
from teachwhy.generate.constitution import load as load_constitution
from teachwhy.generate.constitution import load_any as load_any_constitution
from teachwhy.generate.families import (
    DATASETS,
    MAX_RECORDS,
    Context,
    dataset_families,
    planned_records,
)
from teachwhy.scenarios.suites import load_suite, suite_path
from teachwhy.schemas import apply_defaults, load_schema, load_yaml, project_path, validate
from teachwhy.seeds import derive_seed
from teachwhy.train.recipes import checkpoint_plan

# Keys that a config passed with --configfile replaces whole instead of merging into: a small
# config that lists its own arms means exactly those arms, not the default ones as well.
REPLACED_KEYS = ("arms",)


def apply_replaced_keys(config: dict[str, Any], configfiles: list[str] | None) -> None:
    """Give the last --configfile that sets a REPLACED_KEYS key the whole of that key."""
    import yaml

    datasets = None
    for path in configfiles or []:
        with open(path, encoding="utf-8") as handle:
            overriding = yaml.safe_load(handle) or {}
        for key in REPLACED_KEYS:
            if key in overriding:
                config[key] = overriding[key]
        # The paper world's datasets replace the toy world's whole; files after it merge on.
        if overriding.get("world") == "paper" and "datasets" in overriding:
            datasets = overriding["datasets"]
        elif datasets is not None and "datasets" in overriding:
            datasets = merge_config(datasets, overriding["datasets"])
    if datasets is not None:
        config["datasets"] = datasets


def merge_config(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged onto ``base`` as Snakemake merges a --configfile: mappings merge key
    by key, anything else (and every REPLACED_KEYS key) is replaced whole."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = value
    for key in REPLACED_KEYS:
        if key in override:
            out[key] = override[key]
    # The paper world's datasets are another set (no pretraining corpus), not edits of the toy's.
    if override.get("world") == "paper" and "datasets" in override:
        out["datasets"] = override["datasets"]
    return out


def load_config(*overrides: str | Path) -> dict[str, Any]:
    """The default config (config/config.yaml) with each file merged on, in order: what
    `snakemake --configfile F ...` runs with."""
    default = project_path("config/config.yaml")
    config = load_yaml(default) or {}
    for path in overrides:
        if Path(path).resolve() == default.resolve():
            continue
        data = load_yaml(path)
        if not isinstance(data, dict):
            raise InputError(path, "a config file must be a mapping of keys")
        config = merge_config(config, data)
    return config


def suite_family(config: dict[str, Any], suite: str) -> str:
    """The family file a configured eval suite renders from (its own name unless it says)."""
    return config["evaluate"]["suites"][suite].get("family", suite)


def suite_arms(config: dict[str, Any], suite: str) -> list[str]:
    """The arms evaluated on a suite, in config order."""
    arms = config["evaluate"]["suites"][suite].get("arms", "all")
    return list(config["arms"]) if arms == "all" else [a for a in config["arms"] if a in arms]


# Records sampled to estimate a token-budgeted dataset's record size before any job runs.
BUDGET_PROBE_RECORDS = 20


class Probes:
    """The first records the real generator makes for each dataset (its format and record
    sizes), generated once per dataset however many checks ask."""

    def __init__(self, config: dict[str, Any], constitution: Any) -> None:
        self.config, self.constitution = config, constitution
        self._records: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, name: str) -> list[dict[str, Any]]:
        if is_external(self.config["datasets"][name]):
            # Written by Claude or read from a hub: its format is known, its size only once it
            # exists (the training job checks budgets against it).
            return [{"format": external_format(name, self.config["datasets"][name]), "tokens": 0}]
        if name not in self._records:
            cfg = self.config["datasets"][name]
            probe = {**cfg, "tokens": 10**12} if "tokens" in cfg else cfg
            seed = derive_seed(self.config["seed"], "dataset", name)
            ctx = Context(self.config["seed"], self.constitution)
            self._records[name] = list(
                islice(DATASETS[name](probe, seed, ctx), BUDGET_PROBE_RECORDS)
            )
        return self._records[name]


def check_budgets(config: dict[str, Any], probes: Probes, source: str) -> None:
    """Every token budget can be met: it holds at least one record, and it is reached within
    the generator's record cap (estimated from the first records of the real generator)."""

    for name, cfg in config["datasets"].items():
        if "tokens" not in cfg:
            continue
        sizes = [r["tokens"] for r in probes(name)]
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


def is_external(spec: dict[str, Any]) -> bool:
    """Whether a dataset is written by Claude or read from a hub (the paper world)."""
    return "generator" in spec or "source" in spec


def external_format(name: str, spec: dict[str, Any]) -> str:
    if spec.get("source") == "hub":
        return "text" if "text" in spec["fields"] else "messages"
    return DATASET_PLANS[name].format


# Which record format each stage kind trains on (midtraining takes either: chats as text).
STAGE_FORMATS = {"midtrain": ("text", "messages"), "sft": ("messages",), "rl": ("messages",)}


def dataset_size_estimate(config: dict[str, Any], records: list[dict[str, Any]], name: str) -> int:
    """A dataset's tokens: its budget, or records x the probe's mean record size."""
    cfg = config["datasets"][name]
    if "tokens" in cfg:
        return int(cfg["tokens"])

    mean = sum(r["tokens"] for r in records) / len(records)
    return int(mean * (planned_records(name, cfg) or len(records)))


def stage_curve_suite(config: dict[str, Any], stage: dict[str, Any]) -> str:
    """The held-out suite an RL stage samples for its curve (its own setting, else training.rl's)."""
    default = config["training"]["rl"].get("curve_suite", "blackmail")
    return stage.get("hyperparameters", {}).get("curve_suite", default)


def check_arms(config: dict[str, Any], probes: Probes, source: str) -> None:
    """Every arm's stages name existing datasets of the right format within their size, every
    override is a known hyperparameter, no two arms share a whole recipe, and an hf base
    loads (offline) with every LoRA target present in the model."""

    datasets = config["datasets"]
    for arm, recipe in config["arms"].items():
        for number, stage in enumerate(recipe["stages"], start=1):
            where = f"arms.{arm}.stages[{number}]"
            for dataset, budget in stage["datasets"].items():
                if dataset not in datasets:
                    raise InputError(
                        source, f"{where}: dataset '{dataset}' is not in config.datasets"
                    )
                records = probes(dataset)
                fmt = records[0]["format"]
                if fmt not in STAGE_FORMATS[stage["kind"]]:
                    raise InputError(
                        source,
                        f"{where}: a {stage['kind']} stage needs chat records; "
                        f"dataset '{dataset}' holds {fmt} records",
                    )
                if isinstance(budget, dict):
                    matched = budget["match"]
                    if matched not in stage["datasets"] and matched not in datasets:
                        raise InputError(
                            source,
                            f"{where}.datasets.{dataset}.match: dataset '{matched}' is not in "
                            "config.datasets",
                        )
                    # The job checks that the two datasets are paired item by item.
                    dataset, budget = matched, budget["tokens"]
                    records = probes(dataset)
                if is_external(datasets[dataset]):
                    continue
                size = dataset_size_estimate(config, records, dataset)
                # Record-counted datasets are estimated; the job checks the exact size.
                slack = 1.0 if "tokens" in datasets[dataset] else 1.1
                if budget != "all" and budget > size * slack:
                    raise InputError(
                        source,
                        f"{where}: token budget {budget} for '{dataset}' is larger than the "
                        f"dataset ({'about ' if slack > 1 else ''}{size} tokens)",
                    )
            check_stage_hyperparameters(stage, f"{where}.hyperparameters", source)
            if stage["kind"] == "rl":
                curve = stage_curve_suite(config, stage)
                if curve not in config["evaluate"]["suites"]:
                    raise InputError(
                        source, f"{where}: RL curve suite '{curve}' is not in evaluate.suites"
                    )
    try:
        checkpoint_plan(config)
    except InputError as exc:
        raise InputError(source, exc.problem) from None
    model = config["model"]
    if model.get("backend", "toy") == "hf":
        # Deferred: the backends import torch, which a toy config never needs at DAG parse time.
        from teachwhy.models.backends import (
            check_hf_base,
            check_lora_targets,
            looks_like_path,
            offline,
        )

        bases = {model["name_or_path"]: "model.name_or_path"}
        for arm, recipe in config["arms"].items():
            if recipe.get("base", "pretrained") != "pretrained":
                bases[recipe["base"]] = f"arms.{arm}.base"
        for name, where in bases.items():
            if config["world"] == "paper" and offline() and not looks_like_path(name):
                # The paper world is planned here and run where the hub can be reached: its
                # base is checked by the job that loads it, not at plan time.
                continue
            hf_config = check_hf_base(name, model, f"{source}: {where}")
            if model.get("lora"):
                check_lora_targets(
                    hf_config, model["lora"]["targets"], f"{source}: model.lora.targets"
                )
    else:
        for arm, recipe in config["arms"].items():
            if recipe.get("base", "pretrained") != "pretrained":
                raise InputError(
                    source, f"arms.{arm}.base: the toy backend starts every arm from 'pretrained'"
                )


# A dataset whose steps build on another dataset's steps needs that dataset generated too.
DERIVED_FROM = {
    "honeypot_deliberation": "honeypot_actions",
    "difficult_advice_no_rewrite": "difficult_advice",
    "constitution_qa": "constitution_docs",
}


def check_paper_datasets(config: dict[str, Any], source: str) -> None:
    """Before any job: every generated dataset's templates load and fill only what their step
    gives, its shared inputs exist, every template's model has a price, and a derived dataset's
    parent is generated too."""
    datasets = config["datasets"]
    generation = config["generation"]
    generated = generated_datasets(config)
    if not generated:
        return
    prices = load_prices(project_path(generation["prices"]))
    load_markers(project_path(generation["markers"]))
    styles = load_yaml(project_path(generation["styles"])) or {}
    for name in generated:
        parent = DERIVED_FROM.get(name)
        if parent and datasets.get(parent, {}).get("generator") != "anthropic":
            raise InputError(
                source,
                f"datasets.{name}: builds on the steps of '{parent}', which must be generated "
                "by Claude in the same config (generator: anthropic)",
            )
        for step_id in dataset_steps(name):
            prompt = load_prompt(project_path(template_path(STEPS[step_id].prompt)))
            if "constitution" in prompt.fills and "constitution" not in STEPS[step_id].reads:
                raise InputError(
                    prompt.path,
                    f"fills {{constitution}}, but step {step_id} does not read the constitution",
                )
            if prompt.model not in prices:
                raise InputError(
                    generation["prices"],
                    f"models: no price for '{prompt.model}' (used by {template_path(STEPS[step_id].prompt)})",
                )
        if name == "honeypot_deliberation":
            known = sorted(styles.get("styles") or {})
            for style in datasets[name]["styles"]:
                if style not in known:
                    raise InputError(
                        source,
                        f"datasets.{name}.styles: unknown style '{style}' (in "
                        f"{generation['styles']}: {known})",
                    )


def check_stage_hyperparameters(stage: dict[str, Any], where: str, source: str) -> None:
    """A stage's overrides obey the same schema as the defaults of its kind
    (training.<kind>): a negative learning rate or a step count in words is named here."""
    import jsonschema

    overrides = stage.get("hyperparameters")
    if not overrides:
        return
    root = load_schema("config")
    sub = dict(root["properties"]["training"]["properties"][stage["kind"]])
    sub.pop("required", None)
    unknown = sorted(set(overrides) - set(sub["properties"]))
    if unknown:
        raise InputError(
            source,
            f"{where}: a {stage['kind']} stage sets unknown hyperparameters {unknown} "
            f"(known: {sorted(sub['properties'])})",
        )
    schema = {**sub, "$defs": root["$defs"]}
    validator = jsonschema.validators.validator_for(schema)(schema)
    for error in sorted(validator.iter_errors(overrides), key=lambda e: list(e.path)):
        key = ".".join(str(p) for p in error.absolute_path)
        raise InputError(source, f"{where}{'.' + key if key else ''}: {error.message}")


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
        problems = check_suite(load_suite(family))
        if problems:
            raise InputError(suite_path(family), f"grading: {problems[0]}")
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
    if config["world"] == "paper":
        # The paper world may name the published constitution or a spec file, in any format.
        constitution = load_any_constitution(project_path(config["constitution"]))
        check_paper_datasets(config, source)
    else:
        constitution = load_constitution(project_path(config["constitution"]))
    probes = Probes(config, constitution)
    check_budgets(config, probes, source)
    check_arms(config, probes, source)
    manifest = load_claims(project_path(config["claims_manifest"]))
    check_figures(project_path(config["claims_manifest"]), manifest["figures"])
    for claim_id in config["claims"]:
        if claim_id not in manifest["claims"]:
            raise InputError(
                source, f"claims: unknown claim '{claim_id}' (not in config/claims.yaml)"
            )
        check_claim_needs(config, manifest, claim_id, source)
    return manifest


def check_claim_needs(
    config: dict[str, Any], manifest: dict[str, Any], claim_id: str, source: str
) -> None:
    """A configured claim's arms, suites, RL curves and token datasets all exist in the config,
    for the claim and for its figure."""
    claim = manifest["claims"][claim_id]
    figure = manifest["figures"][claim["figure"]]
    for owner, measures in (
        (claim, list(claim_measures(claim).values())),
        (figure, figure_measures(figure)),
    ):
        for arm in {m["arm"] for m in measures} | set(model_arms(owner, measures)):
            if arm not in config["arms"]:
                raise InputError(
                    source, f"claims: claim '{claim_id}' needs arm '{arm}', which config.arms lacks"
                )
        for arm, suite in metric_pairs(measures):
            if suite not in config["evaluate"]["suites"]:
                raise InputError(
                    source, f"claims: claim '{claim_id}' needs suite '{suite}' in evaluate.suites"
                )
            if arm not in suite_arms(config, suite):
                raise InputError(
                    source,
                    f"claims: claim '{claim_id}' needs arm '{arm}' evaluated on suite "
                    f"'{suite}' (evaluate.suites.{suite}.arms)",
                )
        for m in measures:
            if m["source"] == "rl_curve" and config["arms"][m["arm"]]["stages"][-1]["kind"] != "rl":
                raise InputError(
                    source,
                    f"claims: claim '{claim_id}' reads the RL curve of arm '{m['arm']}', "
                    "whose last stage is not rl",
                )
    check_validity_needs(config, claim_id, list(claim_measures(claim).values()), source)
    datasets = dict(claim.get("tokens", {}))
    wanted = [(claim["sides"][r]["arm"], d) for r, d in datasets.items()]
    wanted += [(p["arm"], p["dataset"]) for p in figure.get("points", [])]
    for arm, dataset in wanted:
        if not any(dataset in st["datasets"] for st in config["arms"][arm]["stages"]):
            raise InputError(
                source,
                f"claims: claim '{claim_id}' counts tokens of '{dataset}' in arm '{arm}', "
                "whose recipe does not train on it",
            )


def check_validity_needs(
    config: dict[str, Any], claim_id: str, measures: list[dict[str, Any]], source: str
) -> None:
    """A claim's verdict checks the validity of every honeypot suite it rests on, which needs
    the baseline arm (evaluate.validity.baseline_arm) evaluated on each of them."""

    def kind(suite: str) -> str:
        return load_suite(suite_family(config, suite)).kind

    def curve_suite(arm: str) -> str:
        return stage_curve_suite(config, config["arms"][arm]["stages"][-1])

    baseline = config["evaluate"]["validity"]["baseline_arm"]
    for suite in validity_suites(measures, kind, curve_suite):
        if baseline not in config["arms"] or baseline not in suite_arms(config, suite):
            raise InputError(
                source,
                f"claims: claim '{claim_id}' rests on honeypot suite '{suite}', whose validity "
                f"needs the baseline arm '{baseline}' evaluated on it (evaluate.suites.{suite}"
                ".arms, evaluate.validity.baseline_arm)",
            )
