# Stage 3: one fine-tuned model per arm, from the base model, by the arm's recipe.


rule finetune_arm:
    input:
        unpack(arm_datasets),
        base=rules.pretrain.output.model,
        held_out=paths.contamination("{world}"),
    output:
        model=directory(paths.model("{world}", "{arm}")),
    params:
        recipe=lookup(dpath="arms/{arm}", within=config),
        sft=config["sft"],
        seed=config["seed"],
    threads: job_threads(config, "train")
    resources:
        **job_resources(config, "train"),
    log:
        paths.log("finetune_arm", "{world}_{arm}"),
    benchmark:
        paths.benchmark("finetune_arm", "{world}_{arm}")
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/finetune_arm.py"


# Phase target (DVC stage `models`): the tokenizer, the base model and every arm.
rule models:
    input:
        [paths.model(WORLD, m) for m in ["tokenizer", "base", *ARMS]],
