# Stage 2 (toy world only): tokenizer and base model pretrained from scratch.


# Byte-level BPE with a chat template that marks assistant turns.
rule train_tokenizer:
    input:
        corpus=paths.dataset("{world}", "pretrain_corpus"),
    output:
        tokenizer=directory(paths.model("{world}", "tokenizer")),
    params:
        spec=config["tokenizer"],
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("train_tokenizer", "{world}"),
    benchmark:
        paths.benchmark("train_tokenizer", "{world}")
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/train_tokenizer.py"


# The tiny Llama base model, whose corpus carries the 'AI under threat acts badly' prior.
rule pretrain:
    input:
        corpus=paths.dataset("{world}", "pretrain_corpus"),
        manifest=paths.manifest("{world}", "pretrain_corpus"),
        tokenizer=rules.train_tokenizer.output.tokenizer,
        held_out=paths.contamination("{world}"),
    output:
        model=directory(paths.model("{world}", "base")),
    params:
        model=config["model"],
        pretrain=config["pretrain"],
        seed=config["seed"],
        world=config["world"],
        scratch=config["training"]["scratch"],
    threads: job_threads(config, "pretrain")
    resources:
        **job_resources(config, "pretrain"),
    log:
        paths.log("pretrain", "{world}"),
    benchmark:
        paths.benchmark("pretrain", "{world}")
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/pretrain.py"
