"""Rule generate_step: one step of a paper-world dataset's pipeline, answered by Claude."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.generate.claude.run import GENERATOR, run_step, sending_settings
from teachwhy.steps import run

smk = snakemake  # noqa: F821
inputs = dict(smk.input.items())
run(
    smk,
    lambda: run_step(
        smk.wildcards.step_id,
        smk.params.spec,
        {k.removeprefix("items_"): v for k, v in inputs.items() if k.startswith("items_")},
        smk.output.answers,
        smk.output.manifest,
        seed=smk.params.seed,
        shared_files={
            k.removeprefix("shared_"): v for k, v in inputs.items() if k.startswith("shared_")
        },
        generation={**smk.params.generation, **sending_settings(smk.resources)},
    ),
    tools={"generator": GENERATOR},
)
