"""What rules ask a cluster for, and the pre-flight checks a SLURM run passes before any job.

No scheduler needed: tests/test_slurm.py runs the same checks against a real one.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from teachwhy import provenance
from teachwhy.cluster import (
    job_resources,
    job_threads,
    parse_scontrol_config,
    partition_is_down,
    preflight,
    sbatch_request,
    seconds,
    status_tracking_problem,
    unsatisfiable_requests,
)
from teachwhy.config import check_config

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def test_toy_world_asks_for_no_gpu(default_config):
    config = copy.deepcopy(default_config)
    check_config(config)
    for kind in ("light", "pretrain", "train", "sample"):
        assert "gpu" not in job_resources(config, kind)
    assert job_threads(config, "light") == 1 and job_threads(config, "pretrain") == 2
    assert job_resources(config, "train") == {"cpus_per_task": 1, "mem_mb": 4000, "runtime": 120}


def test_a_gpu_count_in_the_config_becomes_a_gpu_request(default_config):
    config = copy.deepcopy(default_config)
    config["resources"]["sample"]["gpus"] = 2
    check_config(config)
    assert job_resources(config, "sample")["gpu"] == 2


def _dry_run_resources(tmp_path: Path, override: str) -> dict[str, str]:
    extra = tmp_path / "override.yaml"
    extra.write_text(override)
    run = subprocess.run(
        [
            str(SNAKEMAKE),
            "-n",
            "--forceall",
            "--configfile",
            "tests/config/config.yaml",
            str(extra),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    blocks = re.findall(
        r"^rule (\w+):\n(.*?)(?=^\S|\Z)", run.stdout, flags=re.MULTILINE | re.DOTALL
    )
    found = {}
    for rule, body in blocks:
        match = re.search(r"resources: (.*)", body)
        found[rule] = match.group(1) if match else ""
    return found


def test_rules_take_their_resources_from_the_config(tmp_path):
    found = _dry_run_resources(
        tmp_path,
        "resources:\n  train: {gpus: 1, mem_mb: 64000, runtime: 1440}\n  sample: {gpus: 2}\n"
        "  pretrain: {mem_mb: 9000}\n",
    )
    assert "gpu=1" in found["train_stage"] and "mem_mb=64000" in found["train_stage"]
    assert "runtime=1440" in found["train_stage"]
    assert "gpu" not in found["pretrain"] and "mem_mb=9000" in found["pretrain"]
    assert "gpu=2" in found["sample_arm"]
    light = ("generate_dataset", "generate_suite", "grade_suite", "claim_verdict", "paper_numbers")
    for rule in light:
        assert "gpu" not in found[rule] and "mem_mb=1000" in found[rule], (rule, found[rule])


CONFIG_SHOWN = """\
Configuration data as of 2026-11-27T13:00:00
AccountingStorageType   = accounting_storage/none
MinJobAge               = 300 sec
SlurmctldHost[0]        = vm(127.0.0.1)
"""


def test_scontrol_config_and_durations_are_read():
    shown = parse_scontrol_config(CONFIG_SHOWN)
    assert shown["AccountingStorageType"] == "accounting_storage/none"
    assert seconds(shown["MinJobAge"]) == 300
    assert seconds("2h") == 7200 and seconds("90") == 90 and seconds(None) is None


NO_DB = "accounting_storage/none"
DB = "accounting_storage/slurmdbd"


@pytest.mark.parametrize(
    ("command", "init", "min_job_age", "accounting", "sacct", "problem"),
    [
        ("squeue", 60, "300 sec", NO_DB, True, None),
        ("squeue", 1, "3600 sec", NO_DB, True, None),
        ("sacct", 60, "300 sec", DB, True, None),
        ("sacct", 60, "300 sec", NO_DB, True, "the status command is sacct"),
        # The plugin itself trades squeue for sacct below 3 x the first delay.
        ("squeue", 60, "120 sec", NO_DB, True, "switches from squeue to sacct"),
        ("squeue", 60, "120 sec", DB, True, None),
        ("squeue", 1, "100 sec", DB, True, "squeue forgets a finished job after MinJobAge=100"),
        ("sacct", 60, "300 sec", NO_DB, False, None),
    ],
)
def test_status_tracking_that_would_hang_is_named(
    command, init, min_job_age, accounting, sacct, problem
):
    cluster = {"MinJobAge": min_job_age, "AccountingStorageType": accounting}
    found = status_tracking_problem(command, init, cluster, sacct)
    if problem is None:
        assert found is None
    else:
        assert found and problem in found


def test_a_failing_sacct_is_named_when_the_plugin_would_poll_with_it():
    cluster = {"MinJobAge": "300 sec", "AccountingStorageType": DB}
    error = "sacct: error: Problem talking to the database: Connection refused"
    found = status_tracking_problem("sacct", 60, cluster, True, sacct_error=error)
    assert found and error in found
    # squeue is polled here, so a broken sacct does not matter.
    assert status_tracking_problem("squeue", 60, cluster, True, sacct_error=error) is None


def test_sbatch_request_mirrors_the_job():
    resources = {"cpus_per_task": 4, "mem_mb": 8000, "runtime": 60, "gpu": 1, "tmpdir": "/tmp"}
    assert sbatch_request(resources, threads=2) == (
        "--cpus-per-task=4",
        "--mem=8000",
        "--time=60",
        "--gpus=1",
    )
    assert sbatch_request({"slurm_partition": "p", "mem_mb": 100}, threads=3) == (
        "--cpus-per-task=3",
        "--partition=p",
        "--mem=100",
    )


def test_refused_requests_name_every_rule_that_makes_them():
    big, fine = ("--cpus-per-task=64",), ("--cpus-per-task=1",)
    requests = {big: ["pretrain", "train_stage", "train_stage"], fine: ["generate_suite"]}
    verdicts = {big: (False, "More processors requested than permitted"), fine: (True, "")}
    problems = unsatisfiable_requests(requests, verdicts.__getitem__)
    assert problems == [
        "SLURM cannot run rule pretrain, train_stage as requested (--cpus-per-task=64): "
        "More processors requested than permitted"
    ]


@pytest.mark.parametrize(
    ("states", "partition", "down"),
    [
        ("debug* idle\n", None, False),
        ("debug* drain\n", None, True),
        ("debug* idle*\n", None, True),
        ("debug* drain\ngpu mix\n", "gpu", False),
        ("debug* mix~\ngpu down\n", "gpu", True),
        ("debug* alloc\n", "nope", False),
    ],
)
def test_a_down_partition_is_told_from_an_impossible_request(states, partition, down):
    assert partition_is_down(states, partition) is down


def test_preflight_leaves_other_executors_alone():
    local = SimpleNamespace(executor_plugin=SimpleNamespace(name="local"))
    preflight(local)  # reads neither the DAG nor a cluster
    preflight(SimpleNamespace(executor_plugin=None))


def test_a_job_records_the_slurm_job_it_ran_in(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert provenance.scheduler() is None
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_CLUSTER_NAME", "teachwhy")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert provenance.scheduler() == {
        "kind": "slurm",
        "job_id": "42",
        "cluster": "teachwhy",
        "gpus": "0",
    }
