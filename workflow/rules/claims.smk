# Stage 5: each claim's verdict, each figure's numbers and drawing, one target rule per claim.


# The statistic, its interval (seeds, then samples) and the manifest's verdict for one claim,
# gated on the validity of its honeypot suites for the baseline arm (all seeds pooled).
rule claim_verdict:
    input:
        unpack(claim_inputs),
        manifest=CLAIMS_MANIFEST,
    output:
        claim=paths.claim("{claim_id}"),
    params:
        claim=lambda wildcards: CLAIMS["claims"][wildcards.claim_id],
        runs=lambda wildcards: claim_runs(wildcards.claim_id),
        resamples=config["bootstrap"]["resamples"],
        seed=config["seed"],
        validity=config["evaluate"]["validity"],
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("claim_verdict", "{claim_id}"),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/claim_verdict.py"


# A claim's DVC metrics: its estimate, 95% interval and verdict, four flat keys (one row of
# `dvc metrics show`, which `dvc metrics diff` compares across commits).
rule claim_metrics:
    input:
        claim=paths.claim("{claim_id}"),
    output:
        metrics=paths.claim_metrics("{claim_id}"),
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("claim_metrics", "{claim_id}"),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/claim_metrics.py"


# A figure's plotted numbers, from every seed's metrics (and model cards for curves and tokens).
rule figure_data:
    input:
        unpack(lambda wildcards: figure_inputs(wildcards.figure_id)),
        manifest=CLAIMS_MANIFEST,
    output:
        data=paths.plot_data("{figure_id}"),
    params:
        figure=lambda wildcards: CLAIMS["figures"][wildcards.figure_id],
        claims=lambda wildcards: [
            CLAIMS["claims"][c] for c in figure_claim_ids(wildcards.figure_id)
        ],
        runs=lambda wildcards: figure_runs(wildcards.figure_id),
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("figure_data", "{figure_id}"),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/figure_data.py"


for figure_id in FIGURE_IDS:

    # A paper figure, named after its file stem: drawn from its numbers in the configured
    # style, with a caption for the report. Only this job reruns when the figure is deleted
    # or the style changes.
    rule:
        name:
            figure_id
        input:
            data=paths.plot_data(figure_id),
            claims=figure_claims(figure_id),
            caption_template=paths.FIGURE_CAPTION_TEMPLATE,
        output:
            pdf=paths.figure(figure_id, "pdf"),
            png=report(
                paths.figure(figure_id, "png"),
                caption=f"../../{paths.figure(figure_id, 'rst')}",
                category="Claims",
                subcategory=f"{figure_id}: " + ", ".join(figure_claim_ids(figure_id)),
                labels={
                    "figure": figure_id,
                    "claims": ", ".join(figure_claim_ids(figure_id)),
                    "paper": CLAIMS["figures"][figure_id]["paper_figure"],
                },
            ),
            caption=paths.figure(figure_id, "rst"),
        params:
            figure_id=figure_id,
            figure=CLAIMS["figures"][figure_id],
            style=config["figures"]["style"],
        threads: job_threads(config, "light")
        resources:
            **job_resources(config, "light"),
        log:
            paths.log("figure", figure_id),
        conda:
            "../../envs/report.yaml"
        script:
            "../scripts/claim_figure.py"


for claim_id in CLAIM_IDS:

    # Target: one claim of the paper, rebuilt with exactly what it and its figure need.
    rule:
        name:
            f"claim_{claim_id}"
        input:
            claim=paths.claim(claim_id),
            figure=paths.figure(CLAIMS["claims"][claim_id]["figure"], "png"),
