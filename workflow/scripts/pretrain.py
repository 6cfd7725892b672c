"""Rule pretrain: the toy base model from scratch."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.steps import run
from teachwhy.train.pretrain import pretrain

smk = snakemake  # noqa: F821
run(
    smk,
    lambda: pretrain(
        smk.config, smk.input.corpus, smk.input.tokenizer, smk.output.model, smk.threads
    ),
)
