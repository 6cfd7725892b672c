"""Rule train_stage: one checkpoint of an arm's recipe (a shared stage or an arm's own)."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.steps import run
from teachwhy.train.stages import train_checkpoint

smk = snakemake  # noqa: F821
p = smk.params
inputs = dict(smk.input.items())
not_data = ("parent", "held_out", "curve_prompts", "curve_suite")
datasets = {k: v for k, v in inputs.items() if k not in not_data}
run(
    smk,
    lambda: train_checkpoint(
        p.spec,
        inputs.get("parent"),
        datasets,
        smk.output.model,
        seed=p.seed,
        world=p.world,
        model_cfg=p.model,
        description=p.description,
        scratch=p.scratch,
        processes=p.processes,
        threads=smk.threads,
        curve_prompts=inputs.get("curve_prompts"),
    ),
)
