"""Rule grade_suite: rule-based grading and per-condition rates."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy import paths
from teachwhy.evaluate.graders import grade_file
from teachwhy.steps import run

smk = snakemake  # noqa: F821
w = smk.wildcards
samples = paths.samples(w.world, w.model, w.suite)
run(
    smk,
    lambda: grade_file(smk.input.suite, samples, smk.output.graded, smk.output.metrics),
    tools={"grader": "rules"},
)
