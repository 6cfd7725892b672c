# Stage 6: every claim, and the numbers file that every reported number comes from.


rule paper_numbers:
    input:
        claims=[paths.claim(c) for c in CLAIM_IDS],
        figures=[paths.figure(f, ext) for f in FIGURE_IDS for ext in ("pdf", "png")],
    output:
        numbers=f"{paths.RESULTS}/paper/numbers.json",
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("paper_numbers", "all"),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/paper_numbers.py"


# The whole study: every claim, figure and the numbers file.
rule paper:
    input:
        rules.paper_numbers.output.numbers,
