"""Rule sample_arm: one trained model sampled on every suite it is evaluated on."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy import paths
from teachwhy.evaluate.sample import sample_suites
from teachwhy.steps import run

smk = snakemake  # noqa: F821
w, p = smk.wildcards, smk.params
suites = {
    suite: (paths.suite_prompts(w.world, suite), paths.samples(w.world, w.model, suite))
    for suite in p.suites
}
run(
    smk,
    lambda: sample_suites(
        w.model,
        suites,
        smk.input.model,
        seed=p.seed,
        sampling=p.sampling,
        suite_specs=p.suites,
        threads=smk.threads,
    ),
)
