# Stage 4: sample every arm on every suite, grade the transcripts, compute rates.


# Batched temperature sampling of one trained model (`{model}`: an arm's run, `<arm>.seed<i>`) on
# every suite it is evaluated on, one row per sample. One job per model, not per suite: each
# job pays about 8 s of imports and model loading, which per suite was a third of the DAG's
# sampling time.
rule sample_arm:
    input:
        model=paths.model("{world}", "{model}"),
        prompts=lambda wildcards: [paths.suite_prompts(wildcards.world, s) for s in run_suites(wildcards.model)],
    output:
        samples=directory(paths.model_samples("{world}", "{model}")),
    params:
        sampling={k: config["evaluate"][k] for k in SAMPLING_KEYS},
        suites=lambda wildcards: {
            s: {k: v for k, v in config["evaluate"]["suites"][s].items() if k in SUITE_SAMPLING_KEYS}
            for s in run_suites(wildcards.model)
        },
        seed=config["seed"],
    threads: job_threads(config, "sample")
    resources:
        **job_resources(config, "sample"),
    log:
        paths.log("sample_arm", "{world}_{model}"),
    benchmark:
        paths.benchmark("sample_arm", "{world}_{model}")
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/sample_arm.py"


# The rule-based grader on the parsed email actions, then rates with Wilson intervals.
rule grade_suite:
    input:
        samples=rules.sample_arm.output.samples,
        suite=suite_family_file,
    output:
        graded=paths.graded("{world}", "{model}", "{suite}"),
        metrics=paths.metrics("{world}", "{model}", "{suite}"),
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("grade_suite", "{world}_{model}_{suite}"),
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/grade_suite.py"


# Is each suite a real test? The baseline arm's control and threat rates (pooled over its
# seeds: the verdict claims read; and per seed), every arm's capability, over-refusal and
# knowledge.
rule suite_validity:
    input:
        **{f"{a}/{s}": paths.metrics("{world}", a, s) for a, s in evaluated_pairs()},
    output:
        validity=paths.validity("{world}"),
        table=report(
            paths.validity_table("{world}"),
            caption="../../report/validity.rst",
            category="Suite validity",
        ),
    params:
        validity=config["evaluate"]["validity"],
        runs=RUNS,
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("suite_validity", "{world}"),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/suite_validity.py"


# Phase target (DVC stage `evals`): every configured evaluation, and the validity table.
rule evals:
    input:
        [paths.metrics(WORLD, a, s) for a, s in evaluated_pairs()],
        paths.validity(WORLD),
