"""Rule claim_metrics: one claim's DVC metrics (estimate, 95% interval, verdict)."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.claims.metrics import write_claim_metrics
from teachwhy.steps import run

smk = snakemake  # noqa: F821
run(smk, lambda: write_claim_metrics(smk.input.claim, smk.output.metrics))
