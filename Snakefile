# teachwhy: Teaching Claude Why, rebuilt from scratch as one DAG.
# Thin entry point: config, validation, includes. All logic lives in workflow/teachwhy.
import os
import sys
from pathlib import Path

from snakemake.utils import min_version

# This checkout's package, even where it is not pip-installed.
sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))
from teachwhy import paths
from teachwhy.cluster import preflight
from teachwhy.config import apply_replaced_keys, check_config
from teachwhy.generate.claude.run import check_key_before_jobs

min_version("9")


configfile: "config/config.yaml"


# A --configfile that lists arms means exactly its arms (other keys merge as usual).
apply_replaced_keys(config, workflow.overwrite_configfiles)

# The toy world never touches a model or dataset hub; jobs inherit these.
if config.get("world", "toy") == "toy":
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(var, "1")

# JSON Schema 2020-12 (config/schemas/config.schema.yaml) plus cross-file references; errors
# name the key path. It also fills in the schema's defaults.
CLAIMS = check_config(config, source="config")


# The landing page carries the claims table once `snakemake paper` has rendered it.
report: paths.landing() if Path(paths.landing()).is_file() else paths.LANDING_FALLBACK


# On a SLURM cluster, stop before the first job where the run would otherwise wait forever: a
# job status the executor cannot follow, or a request no node can satisfy (teachwhy.cluster).
# The paper world: when requests must be sent and ANTHROPIC_API_KEY is unset, stop before any
# job, naming the datasets that need it (a warm response cache needs no key).
onstart:
    preflight(workflow)
    check_key_before_jobs(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/paper.smk"


# Rules in included files cannot set the default target, so it is declared here: `snakemake`
# builds the same as `snakemake paper`.
rule all:
    default_target: True
    input:
        rules.paper.input,
