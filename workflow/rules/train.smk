# Stage 3: every checkpoint of every arm's recipe, stage by stage (midtrain, sft, rl). A
# checkpoint named after an arm is that arm's model; `prefix-<kind>-<key>` ones are shared
# intermediate stages.


rule train_stage:
    input:
        unpack(checkpoint_inputs),
        held_out=paths.contamination("{world}"),
    output:
        model=directory(paths.model("{world}", "{checkpoint}")),
    params:
        spec=lambda wildcards: CHECKPOINTS[wildcards.checkpoint].spec(),
        model=config["model"],
        seed=config["seed"],
        world=config["world"],
        scratch=config["training"]["scratch"],
        # An RL stage runs in one process (GRPO is not launched data-parallel).
        processes=lambda wildcards: 1
        if CHECKPOINTS[wildcards.checkpoint].kind == "rl"
        else config["training"]["processes"],
        # The model card's description: the arm's own for its final checkpoint of replicate 0.
        description=lambda wildcards: config["arms"]
        .get(wildcards.checkpoint, {})
        .get("description"),
    threads: job_threads(config, "train")
    resources:
        **job_resources(config, "train"),
    log:
        paths.log("train_stage", "{world}_{checkpoint}"),
    benchmark:
        paths.benchmark("train_stage", "{world}_{checkpoint}")
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/train_stage.py"


# Phase target (DVC stage `models`): the tokenizer, the base model and every checkpoint.
rule models:
    input:
        [paths.model(WORLD, m) for m in ["tokenizer", "base", *CHECKPOINTS]],
