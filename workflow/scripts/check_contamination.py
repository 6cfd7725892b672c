"""Rule check_contamination: every training dataset against every eval suite."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.generate.contamination import write_report
from teachwhy.steps import run

smk = snakemake  # noqa: F821
datasets = {p.rsplit("/", 1)[-1].removesuffix(".jsonl"): p for p in smk.input.datasets}
suites = {p.rsplit("/", 1)[-1].removesuffix(".jsonl"): p for p in smk.input.suites}
run(
    smk,
    lambda: write_report(
        datasets,
        suites,
        smk.output.report,
        **smk.params.contamination,
        markers=smk.params.get("markers"),
    ),
)
