# Stage 1: every dataset and eval suite, written by the seeded procedural generators
# (teachwhy.generate.families, one module per dataset family).


# One training dataset and its manifest (records, tokens, sha256, seed).
rule generate_dataset:
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
