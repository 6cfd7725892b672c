"""Rule generate_dataset: one training dataset and its manifest."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.generate.datasets import write_dataset
from teachwhy.generate.families import GENERATOR_VERSION
from teachwhy.steps import run

smk = snakemake  # noqa: F821
run(
    smk,
    lambda: write_dataset(
        smk.wildcards.dataset,
        smk.params.spec,
        smk.params.seed,
        smk.input.constitution,
        smk.output.records,
        smk.output.manifest,
    ),
    tools={"generator": GENERATOR_VERSION},
)
