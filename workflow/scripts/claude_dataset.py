"""Rule claude_dataset: a paper-world dataset's records from its steps' kept items."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.generate.claude.run import GENERATOR, assemble_dataset
from teachwhy.steps import run

smk = snakemake  # noqa: F821
steps = {k.removeprefix("items_"): v for k, v in smk.input.items() if k.startswith("items_")}
manifests = {
    k.removeprefix("manifest_"): v for k, v in smk.input.items() if k.startswith("manifest_")
}
run(
    smk,
    lambda: assemble_dataset(
        smk.wildcards.dataset,
        steps,
        manifests,
        smk.output.records,
        smk.output.manifest,
        seed=smk.params.seed,
    ),
    tools={"generator": GENERATOR},
)
