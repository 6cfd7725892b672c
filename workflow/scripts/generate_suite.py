"""Rule generate_suite: one held-out eval suite's prompts and manifest."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.generate.datasets import write_eval_suite
from teachwhy.generate.families import GENERATOR_VERSION
from teachwhy.steps import run

smk = snakemake  # noqa: F821
run(
    smk,
    lambda: write_eval_suite(
        smk.wildcards.suite,
        smk.params.spec,
        smk.params.seed,
        smk.input.constitution,
        smk.output.prompts,
        smk.output.manifest,
    ),
    tools={"generator": GENERATOR_VERSION},
)
