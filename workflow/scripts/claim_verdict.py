"""Rule claim_verdict: one claim's statistic, interval and verdict."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.claims.verdict import write_claim
from teachwhy.steps import run

smk = snakemake  # noqa: F821
graded = {k: v for k, v in smk.input.items() if k != "manifest"}
run(
    smk,
    lambda: write_claim(
        smk.params.claim,
        graded,
        smk.params.seed,
        smk.params.bootstrap["resamples"],
        smk.output.claim,
    ),
)
