"""Rule pretrain: the toy base model pretrained from scratch on the corpus."""

import _bootstrap  # noqa: F401  (puts this checkout's teachwhy first on sys.path)

from teachwhy.steps import run
from teachwhy.train.pretrain import pretrain

smk = snakemake  # noqa: F821
p = smk.params
run(
    smk,
    lambda: pretrain(
        smk.input.corpus,
        smk.input.tokenizer,
        smk.output.model,
        seed=p.seed,
        world=p.world,
        model_cfg=p.model,
        pretrain_cfg=p.pretrain,
        scratch=p.scratch,
        threads=smk.threads,
    ),
)
