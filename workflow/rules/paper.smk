# Stage 6: every claim, the numbers file that every reported number comes from, and the
# report's landing page with the claims table.


rule paper_numbers:
    input:
        claims=[paths.claim(c) for c in CLAIM_IDS],
        plots=[paths.plot_data(f) for f in FIGURE_IDS],
        validity=paths.validity(WORLD),
    output:
        numbers=paths.numbers(),
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("paper_numbers", "all"),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/paper_numbers.py"


# The report's landing page: the claims table, quoted from numbers.json. `snakemake --report`
# uses it once it exists (see the Snakefile's report directive).
rule report_landing:
    input:
        numbers=paths.numbers(),
        template=paths.LANDING_TEMPLATE,
    output:
        landing=paths.landing(),
    params:
        world=WORLD,
        seed=config["seed"],
        seeds=config["training"]["seeds"],
        arms=ARMS,
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("report_landing", "all"),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/report_landing.py"


# The whole study (the default target): every claim and figure, the numbers file, the
# landing page, the DVC metrics and the suite validity table.
rule paper:
    input:
        [paths.claim(c) for c in CLAIM_IDS],
        [paths.figure(f, ext) for f in FIGURE_IDS for ext in ("pdf", "png")],
        paths.numbers(),
        paths.landing(),
        [paths.claim_metrics(c) for c in CLAIM_IDS],
        paths.validity(WORLD),
