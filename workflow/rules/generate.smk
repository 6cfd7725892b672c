# Stage 1: every dataset and eval suite, written by the seeded procedural generators
# (teachwhy.generate.families, one module per dataset family).


# One training dataset and its manifest (records, tokens, sha256, seed): the toy world's
# procedural generators.
rule generate_dataset:
    wildcard_constraints:
        dataset=one_of(PROCEDURAL_DATASETS),
    input:
        sources=dataset_sources,
        constitution=CONSTITUTION,
    output:
        records=paths.dataset("{world}", "{dataset}"),
        manifest=paths.manifest("{world}", "{dataset}"),
    params:
        spec=lookup(dpath="datasets/{dataset}", within=config),
        seed=config["seed"],
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("generate_dataset", "{world}_{dataset}"),
    benchmark:
        paths.benchmark("generate_dataset", "{world}_{dataset}")
    conda:
        "../../envs/generate.yaml"
    script:
        "../scripts/generate_dataset.py"


# The paper world, one job per pipeline step: plan the step's items, answer each from the
# response cache or from Claude (Message Batches or the Messages API), parse and check them.
# Steps shared by two datasets (difficult_advice_no_rewrite reads difficult_advice's) run once.
rule generate_step:
    wildcard_constraints:
        step_id=one_of(STEP_IDS),
    input:
        unpack(step_inputs),
    output:
        answers=claude_run.step_items_path("{world}", "{step_id}"),
        manifest=claude_run.step_manifest_path("{world}", "{step_id}"),
    params:
        spec=lambda w: config["datasets"][step_owner(w.step_id)],
        seed=config["seed"],
        generation=lambda w: {k: config["generation"][k] for k in GENERATION_KEYS},
    threads: job_threads(config, "claude")
    resources:
        **job_resources(config, "claude"),
        **claude_run.sending_resources(config["generation"]),
    log:
        paths.log("generate_step", "{world}_{step_id}"),
    benchmark:
        paths.benchmark("generate_step", "{world}_{step_id}")
    conda:
        "../../envs/generate.yaml"
    script:
        "../scripts/generate_step.py"


# A Claude-written dataset: records from its steps' kept items, provenance summed in its manifest.
rule claude_dataset:
    wildcard_constraints:
        dataset=one_of(GENERATED_DATASETS),
    input:
        unpack(claude_dataset_inputs),
    output:
        records=paths.dataset("{world}", "{dataset}"),
        manifest=paths.manifest("{world}", "{dataset}"),
    params:
        seed=config["seed"],
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("claude_dataset", "{world}_{dataset}"),
    benchmark:
        paths.benchmark("claude_dataset", "{world}_{dataset}")
    conda:
        "../../envs/generate.yaml"
    script:
        "../scripts/claude_dataset.py"


# A dataset read from a hub at a pinned commit and mapped to the record schema.
rule hub_dataset:
    wildcard_constraints:
        dataset=one_of(HUB_DATASETS),
    output:
        records=paths.dataset("{world}", "{dataset}"),
        manifest=paths.manifest("{world}", "{dataset}"),
    params:
        spec=lookup(dpath="datasets/{dataset}", within=config),
        seed=config["seed"],
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("hub_dataset", "{world}_{dataset}"),
    benchmark:
        paths.benchmark("hub_dataset", "{world}_{dataset}")
    conda:
        "../../envs/generate.yaml"
    script:
        "../scripts/hub_dataset.py"


# Held-out prompts of one eval suite over its condition grid.
rule generate_suite:
    input:
        suite=suite_family_file,
        constitution=CONSTITUTION,
    output:
        prompts=paths.suite_prompts("{world}", "{suite}"),
        manifest=paths.suite_manifest("{world}", "{suite}"),
    params:
        spec=lookup(dpath="evaluate/suites/{suite}", within=config),
        seed=config["seed"],
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("generate_suite", "{world}_{suite}"),
    benchmark:
        paths.benchmark("generate_suite", "{world}_{suite}")
    conda:
        "../../envs/generate.yaml"
    script:
        "../scripts/generate_suite.py"


# Held-out discipline: every training dataset against every eval suite. Training depends on this
# report, so a shared scenario instance stops the DAG before any model is trained.
rule check_contamination:
    input:
        datasets=[paths.dataset("{world}", d) for d in DATASETS],
        suites=[paths.suite_prompts("{world}", s) for s in SUITES],
    output:
        report=paths.contamination("{world}"),
    params:
        contamination=config["contamination"],
        # The paper world also checks every dataset for the agentic-misalignment eval's names.
        **({"markers": contamination_markers()} if WORLD == "paper" else {}),
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("check_contamination", "{world}"),
    benchmark:
        paths.benchmark("check_contamination", "{world}")
    conda:
        "../../envs/generate.yaml"
    script:
        "../scripts/check_contamination.py"


# Phase target (DVC stage `data`): every dataset and eval suite, checked for contamination.
rule data:
    input:
        [paths.dataset(WORLD, d) for d in DATASETS],
        [paths.suite_prompts(WORLD, s) for s in SUITES],
        paths.contamination(WORLD),
