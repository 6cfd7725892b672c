"""Figure rules: draw a paper figure (PDF, PNG) and its report caption from its numbers."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.claims.figures import build_figure
from teachwhy.steps import run

smk = snakemake  # noqa: F821
out = smk.output
run(
    smk,
    lambda: build_figure(
        smk.params.figure_id,
        smk.params.figure,
        smk.params.style,
        smk.input.data,
        list(smk.input.claims),
        out.pdf,
        out.png,
        out.caption,
        smk.input.caption_template,
    ),
)
