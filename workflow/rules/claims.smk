# Stage 5: each claim's verdict, the figures, and one named target rule per claim.


# The statistic, its bootstrap interval and the manifest's verdict for one claim.
rule claim_verdict:
    input:
        unpack(claim_inputs),
        manifest=CLAIMS_MANIFEST,
    output:
        claim=paths.claim("{claim_id}"),
    params:
        claim=lambda wildcards: CLAIMS["claims"][wildcards.claim_id],
        bootstrap=config["bootstrap"],
        seed=config["seed"],
    threads: job_threads(config, "light")
    resources:
        **job_resources(config, "light"),
    log:
        paths.log("claim_verdict", "{claim_id}"),
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/claim_verdict.py"


for figure_id in FIGURE_IDS:

    # A paper figure: named after its file stem, with a generated caption for the report.
    rule:
        name:
            figure_id
        input:
            **figure_metrics(figure_id),
            claims=figure_claims(figure_id),
        output:
            pdf=paths.figure(figure_id, "pdf"),
            png=report(
                paths.figure(figure_id, "png"),
                caption=f"../../{paths.figure(figure_id, 'rst')}",
                category="Claims",
                subcategory=figure_id,
                labels={"figure": figure_id, "paper": CLAIMS["figures"][figure_id]["paper_figure"]},
            ),
            caption=paths.figure(figure_id, "rst"),
            data=paths.plot_data(figure_id),
        params:
            figure=CLAIMS["figures"][figure_id],
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

    # Target: one claim of the paper, rebuilt with exactly what it needs.
    rule:
        name:
            f"claim_{claim_id}"
        input:
            claim=paths.claim(claim_id),
            figure=paths.figure(CLAIMS["claims"][claim_id]["figure"], "png"),
