"""Rule sample_suite: batched sampling of one arm on one suite."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.evaluate.sample import sample_suite
from teachwhy.steps import run

smk = snakemake  # noqa: F821
w = smk.wildcards
run(
    smk,
    lambda: sample_suite(
        smk.config,
        w.arm,
        w.suite,
        smk.input.model,
        smk.input.prompts,
        smk.output.samples,
        smk.threads,
    ),
)
