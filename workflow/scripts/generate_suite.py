"""Rule generate_suite: one eval suite's held-out prompts and manifest."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.generate.datasets import write_eval_suite
from teachwhy.generate.procedural import GENERATOR_VERSION
from teachwhy.steps import run

smk = snakemake  # noqa: F821
# What the job reads, and nothing else: the rule's params and inputs.
config = {
    "seed": smk.params.seed,
    "constitution": smk.input.constitution,
    "evaluate": {"suites": {smk.wildcards.suite: smk.params.spec}},
}
run(
    smk,
    lambda: write_eval_suite(smk.wildcards.suite, config, smk.output.prompts, smk.output.manifest),
    tools={"generator": GENERATOR_VERSION},
)
