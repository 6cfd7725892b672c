"""Rule generate_dataset: one training dataset and its manifest."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.generate.datasets import write_dataset
from teachwhy.generate.procedural import GENERATOR_VERSION
from teachwhy.steps import run

smk = snakemake  # noqa: F821
# What the job reads, and nothing else: the rule's params and inputs.
config = {
    "seed": smk.params.seed,
    "constitution": smk.input.constitution,
    "datasets": {smk.wildcards.dataset: smk.params.spec},
}
run(
    smk,
    lambda: write_dataset(smk.wildcards.dataset, config, smk.output.records, smk.output.manifest),
    tools={"generator": GENERATOR_VERSION},
)
