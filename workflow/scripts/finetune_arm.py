"""Rule finetune_arm: one arm's recipe from the base model."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.steps import run
from teachwhy.train.sft import finetune

smk = snakemake  # noqa: F821
datasets = {k: v for k, v in smk.input.items() if k not in ("base", "held_out")}
run(
    smk,
    lambda: finetune(
        smk.config, smk.wildcards.arm, smk.input.base, datasets, smk.output.model, smk.threads
    ),
)
