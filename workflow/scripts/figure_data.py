"""Rule figure_data: the numbers one figure plots."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.claims.figures import build_figure_data
from teachwhy.steps import run

smk = snakemake  # noqa: F821
inputs = {k: v for k, v in smk.input.items() if k != "manifest"}
run(
    smk,
    lambda: build_figure_data(
        smk.wildcards.figure_id,
        smk.params.figure,
        smk.params.claims,
        smk.params.runs,
        inputs,
        smk.output.data,
    ),
)
