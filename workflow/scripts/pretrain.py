"""Rule pretrain: the toy base model from scratch."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.steps import run
from teachwhy.train.pretrain import pretrain

smk = snakemake  # noqa: F821
# What the job reads, and nothing else: the rule's params.
config = {
    "seed": smk.params.seed,
    "world": smk.params.world,
    "model": smk.params.model,
    "pretrain": smk.params.pretrain,
    "training": {"scratch": smk.params.scratch},
}
run(
    smk,
    lambda: pretrain(config, smk.input.corpus, smk.input.tokenizer, smk.output.model, smk.threads),
)
