"""Rule sample_arm: batched sampling of one trained model on every suite it is evaluated on."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy import paths
from teachwhy.evaluate.sample import sample_suites
from teachwhy.steps import run

smk = snakemake  # noqa: F821
w = smk.wildcards
suites = {
    suite: (paths.suite_prompts(w.world, suite), paths.samples(w.world, w.arm, suite))
    for suite in smk.params.suites
}
# What the job reads, and nothing else: the rule's params.
config = {"seed": smk.params.seed, "evaluate": {**smk.params.sampling, "suites": smk.params.suites}}
run(
    smk,
    lambda: sample_suites(config, w.arm, suites, smk.input.model, smk.threads),
)
