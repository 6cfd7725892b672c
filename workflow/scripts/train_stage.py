"""Rule train_stage: one checkpoint of a recipe from its parent."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.steps import run
from teachwhy.train.stages import train_checkpoint

smk = snakemake  # noqa: F821
inputs = dict(smk.input.items())
datasets = {k: v for k, v in inputs.items() if k not in ("parent", "held_out", "curve_prompts")}
# What the job reads, and nothing else: the rule's params.
config = {
    "seed": smk.params.seed,
    "world": smk.params.world,
    "model": smk.params.model,
    "training": smk.params.training,
    "arms": smk.params.arms,
}
run(
    smk,
    lambda: train_checkpoint(
        config,
        smk.params.spec,
        inputs.get("parent"),
        datasets,
        smk.output.model,
        smk.threads,
        inputs.get("curve_prompts"),
    ),
)
