"""Rule report_landing: the report's landing page with the claims table."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.claims.numbers import write_landing
from teachwhy.steps import run

smk = snakemake  # noqa: F821
p = smk.params
run(
    smk,
    lambda: write_landing(
        smk.input.numbers, smk.input.template, smk.output.landing, p.world, p.seed, p.seeds, p.arms
    ),
)
