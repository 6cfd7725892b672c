"""Rule paper_numbers: every number the report quotes, gathered from claims and figure data."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.claims.numbers import write_numbers
from teachwhy.steps import run

smk = snakemake  # noqa: F821
run(
    smk,
    lambda: write_numbers(
        list(smk.input.claims), list(smk.input.plots), smk.input.validity, smk.output.numbers
    ),
)
