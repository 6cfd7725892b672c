# One job that fails on the cluster, so tests/test_slurm.py can check how the failure reads.


rule doomed:
    output:
        "doomed.txt",
    resources:
        mem_mb=200,
        runtime=5,
    shell:
        "echo 'doomed: failing on purpose' >&2; exit 3"
