"""Rule train_tokenizer: byte-level BPE on the pretraining corpus."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.steps import run
from teachwhy.train.tokenizer import build_tokenizer

smk = snakemake  # noqa: F821
run(smk, lambda: build_tokenizer(smk.input.corpus, smk.params.spec, smk.output.tokenizer))
