"""Rule claim_verdict: one claim's statistic, interval and verdict."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.claims.verdict import write_claim
from teachwhy.steps import run

smk = snakemake  # noqa: F821
PREFIXES = ("model:", "validity:")
named = {k: v for k, v in smk.input.items() if k != "manifest"}
metrics = {k: v for k, v in named.items() if not k.startswith(PREFIXES)}
models = {k.removeprefix("model:"): v for k, v in named.items() if k.startswith("model:")}
validity = {k.removeprefix("validity:"): v for k, v in named.items() if k.startswith("validity:")}
run(
    smk,
    lambda: write_claim(
        smk.params.claim,
        smk.params.runs,
        metrics,
        models,
        smk.params.seed,
        smk.params.resamples,
        smk.output.claim,
        validity,
        smk.params.validity,
    ),
)
