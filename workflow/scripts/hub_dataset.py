"""Rule hub_dataset: a dataset read from a hub at a pinned commit, mapped to the record schema."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.generate.hub import write_hub_dataset
from teachwhy.steps import run

smk = snakemake  # noqa: F821
run(
    smk,
    lambda: write_hub_dataset(
        smk.wildcards.dataset,
        smk.params.spec,
        smk.params.seed,
        smk.output.records,
        smk.output.manifest,
    ),
    tools={"generator": "hub"},
)
