"""Rule suite_validity: the baseline arm's control and threat rates per suite, pooled over its
seeds (the verdict claims read) and per seed, and every arm's capability, over-refusal and
knowledge scores."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.evaluate.validity import write_validity
from teachwhy.steps import run

smk = snakemake  # noqa: F821
run(
    smk,
    lambda: write_validity(
        {k: v for k, v in smk.input.items()},
        smk.params.runs,
        smk.params.validity["baseline_arm"],
        smk.params.validity["max_control_rate"],
        smk.output.validity,
        smk.output.table,
    ),
)
