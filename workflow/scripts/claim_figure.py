"""Figure rules: a paper figure (PDF, PNG) and its report caption."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.claims.figures import build_figure
from teachwhy.steps import run

smk = snakemake  # noqa: F821
metrics = {k: v for k, v in smk.input.items() if k != "claims"}
out = smk.output
run(
    smk,
    lambda: build_figure(
        smk.params.figure,
        metrics,
        list(smk.input.claims),
        out.pdf,
        out.png,
        out.caption,
        out.data,
    ),
)
