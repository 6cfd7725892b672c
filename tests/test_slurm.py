"""The DAG on a real one-node SLURM cluster, submitted through ``profiles/slurm``.

The cluster (tests/slurm/slurm-up.sh: Debian's slurm-wlm and munge, no accounting database)
lives in a temporary folder for this module and is stopped afterwards, pass or fail; teardown
fails if any of its daemons survives. Every Snakemake call runs under a timeout that kills its
whole process group: with SIGTERM alone Snakemake waits for its jobs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from workspace import ROOT, SNAKEMAKE, copy_project

SCRIPTS = ROOT / "tests" / "slurm"
SLURM_BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol")
DAEMONS = {"munged", "slurmctld", "slurmd", "slurmstepd", "slurmscriptd"}
TEST_CONFIG = ["--configfile", "tests/config/config.yaml", "tests/config/one_seed.yaml"]
# The profile's first status check comes after 60 s; seconds-long jobs would each wait that long.
FAST = ["--slurm-init-seconds-before-status-checks", "1"]
# Bad submissions must end the run quickly rather than leave Snakemake waiting.
QUICK_EXIT_S = 120


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float

    @property
    def slurm_run_id(self) -> str:
        match = re.search(r"SLURM run ID: (\S+)", self.output)
        assert match, self.output[-3000:]
        return match.group(1)


def snakemake(work: Path, *args: str, timeout: float) -> Run:
    """Snakemake in ``work``, killed with its whole process group after ``timeout`` seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(SNAKEMAKE), *args],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(
            f"snakemake {' '.join(args)}: still running after {timeout} s, killed\n{output[-4000:]}"
        )
    return Run(proc.returncode, output, time.perf_counter() - start)


def daemon_pids() -> set[int]:
    """Live (non-zombie) processes named like a SLURM or munge daemon."""
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            name = (proc / "comm").read_text().strip()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if name in DAEMONS and state != "Z":
            pids.add(int(proc.name))
    return pids


@dataclass
class Cluster:
    folder: Path
    gpus: int = 0
    timings: dict[str, list[float]] = field(default_factory=lambda: {"start": [], "stop": []})

    def _script(self, name: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(SCRIPTS / name)],
            env={**os.environ, "S": str(self.folder), **env},
            capture_output=True,
            text=True,
            timeout=180,
        )

    def start(self, gpus: int = 0) -> None:
        begin = time.perf_counter()
        done = self._script("slurm-up.sh", FAKE_GPUS=str(gpus))
        self.timings["start"].append(time.perf_counter() - begin)
        if done.returncode != 0:
            raise RuntimeError((done.stdout + done.stderr).strip()[-2000:])
        self.gpus = gpus

    def stop(self) -> None:
        begin = time.perf_counter()
        done = self._script("slurm-down.sh")
        self.timings["stop"].append(time.perf_counter() - begin)
        assert done.returncode == 0, done.stdout + done.stderr

    def restart(self, gpus: int) -> None:
        self.stop()
        self.start(gpus)

    def jobs(self, run_id: str) -> dict[str, dict[str, str]]:
        """Every job the scheduler knows under one Snakemake run's job name, by job id."""
        shown = subprocess.run(
            ["squeue", "--states=all", "--noheader", "--name", run_id, "--format=%i|%T|%k"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        rows = [line.split("|", 2) for line in shown.splitlines() if line.strip()]
        return {job: {"state": state, "comment": comment} for job, state, comment in rows}


@pytest.fixture(scope="module")
def cluster():
    missing = [b for b in SLURM_BINARIES if shutil.which(b) is None]
    if missing:
        pytest.skip(f"SLURM is not installed (no {', '.join(missing)}); .ci/run installs it")
    if os.geteuid() != 0:
        pytest.skip("the one-node SLURM cluster runs its daemons as root; not root here")
    before = daemon_pids()
    # Not under pytest's tmp folders: munged wants every folder above its socket o+x.
    folder = Path(tempfile.mkdtemp(prefix="teachwhy-slurm-"))
    folder.chmod(0o755)
    cluster = Cluster(folder)
    try:
        try:
            cluster.start()
        except RuntimeError as exc:
            pytest.skip(f"the SLURM cluster cannot start here: {exc}")
        yield cluster
    finally:
        cluster.stop()
        survivors = daemon_pids() - before
        assert not survivors, f"daemons outlived the cluster: {sorted(survivors)}"
        links = [p for p in ("slurm.conf", "gres.conf") if (Path("/etc/slurm") / p).is_symlink()]
        assert not links, f"/etc/slurm still links into the cluster folder: {links}"
        shutil.rmtree(folder)
        print(f"cluster start/stop seconds: {cluster.timings}")


@dataclass
class SlurmRun:
    work: Path
    run: Run
    jobs: dict[str, dict[str, str]]
    records: dict[str, dict]
    claims: dict[str, bytes]


def claim_bytes(work: Path) -> dict[str, bytes]:
    files = sorted((work / "results" / "claims").glob("*.json"))
    files.append(work / "results" / "paper" / "numbers.json")
    return {str(p.relative_to(work)): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    """The test config's whole DAG through profiles/slurm, and what the scheduler recorded."""
    work = copy_project(tmp_path_factory.mktemp("on_slurm"))
    run = snakemake(work, "--profile", "profiles/slurm", *TEST_CONFIG, *FAST, timeout=1500)
    assert run.returncode == 0, run.output[-6000:]
    records = {
        str(p.relative_to(work)): json.loads(p.read_text())
        for p in sorted((work / "results" / "provenance").rglob("*.json"))
    }
    # Read now: later tests rerun jobs here and restart the cluster, which forgets old jobs.
    return SlurmRun(work, run, cluster.jobs(run.slurm_run_id), records, claim_bytes(work))


@pytest.fixture(scope="module")
def local_run(cluster, tmp_path_factory):
    """The same DAG run locally, for the determinism check (needs no cluster, only follows it)."""
    work = copy_project(tmp_path_factory.mktemp("local"))
    run = snakemake(work, *TEST_CONFIG, "--cores", "2", timeout=900)
    assert run.returncode == 0, run.output[-6000:]
    return work, run


def job_stats(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1].split("total")[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.MULTILINE)}


def test_every_job_ran_as_a_slurm_job(slurm_run):
    stats = job_stats(slurm_run.run.output)
    expected = sum(n for rule, n in stats.items() if rule != "all")
    assert len(slurm_run.records) == expected, sorted(slurm_run.records)
    recorded = {}
    for path, record in slurm_run.records.items():
        scheduler = record["scheduler"]
        assert scheduler and scheduler["kind"] == "slurm", f"{path} ran outside SLURM"
        assert scheduler["job_id"] not in recorded, f"{path} shares a job with {recorded}"
        recorded[scheduler["job_id"]] = record["rule"]
    assert set(recorded) == set(slurm_run.jobs), "provenance and the scheduler's job list differ"
    for job_id, job in slurm_run.jobs.items():
        assert job["state"] == "COMPLETED", (job_id, job)
        assert job["comment"].startswith(f"rule_{recorded[job_id]}"), (job_id, job)
    print(f"SLURM jobs submitted: {len(slurm_run.jobs)}; wall {slurm_run.run.seconds:.1f} s")


def test_claims_equal_a_local_run_byte_for_byte(slurm_run, local_run):
    local_work, local = local_run
    local_claims = claim_bytes(local_work)
    assert len(local_claims) >= 3
    assert slurm_run.claims == local_claims
    print(
        f"test DAG wall time: local {local.seconds:.1f} s, SLURM {slurm_run.run.seconds:.1f} s "
        f"(overhead {slurm_run.run.seconds - local.seconds:.1f} s)"
    )


def test_a_failed_job_names_its_slurm_log(cluster, tmp_path):
    run = snakemake(
        tmp_path,
        "--snakefile",
        str(SCRIPTS / "failing.smk"),
        "--profile",
        str(ROOT / "profiles" / "slurm"),
        *FAST,
        timeout=300,
    )
    assert run.returncode != 0
    assert run.seconds < QUICK_EXIT_S
    assert "Error in rule doomed" in run.output
    match = re.search(r"(/\S+/\.snakemake/slurm_logs/rule_doomed/(\d+)\.log)", run.output)
    assert match, run.output[-3000:]
    log, job_id = Path(match.group(1)), match.group(2)
    assert log.is_relative_to(tmp_path)
    assert "doomed: failing on purpose" in log.read_text()
    assert cluster.jobs(run.slurm_run_id)[job_id]["state"] == "FAILED"


def _bad_partition(work: Path) -> list[str]:
    profile = work / "profiles" / "slurm" / "config.yaml"
    text = profile.read_text()
    assert "  # - slurm_partition=" in text
    bad = work / "profiles" / "slurm-bad"
    bad.mkdir()
    (bad / "config.yaml").write_text(
        text.replace("  # - slurm_partition=", "  - slurm_partition=no_such_partition  #", 1)
    )
    return ["--profile", "profiles/slurm-bad", *TEST_CONFIG]


def _light_jobs_asking(**resources: int) -> Callable[[Path], list[str]]:
    def edit(work: Path) -> list[str]:
        override = work / "too_big.yaml"
        override.write_text(json.dumps({"resources": {"light": resources}}))
        return [
            "--profile",
            "profiles/slurm",
            "--configfile",
            "tests/config/config.yaml",
            "too_big.yaml",
        ]

    return edit


@pytest.mark.parametrize(
    ("edit", "sbatch_error"),
    [
        (_bad_partition, "invalid partition specified: no_such_partition"),
        (_light_jobs_asking(cpus=64), "Requested node configuration is not available"),
        (_light_jobs_asking(mem_mb=10_000_000), "Requested node configuration is not available"),
    ],
    ids=["no-such-partition", "too-many-cpus", "too-much-memory"],
)
def test_an_impossible_request_stops_the_run_before_any_job_naming_the_rule(
    cluster, tmp_path, edit, sbatch_error
):
    work = copy_project(tmp_path)
    run = snakemake(work, *edit(work), *FAST, "data", timeout=300)
    assert run.returncode != 0
    assert run.seconds < QUICK_EXIT_S
    refused = "SLURM cannot run rule check_contamination, generate_dataset, generate_suite"
    assert refused in run.output, run.output[-3000:]
    assert sbatch_error in run.output
    assert cluster.jobs(run.slurm_run_id) == {}


def test_a_status_command_that_cannot_work_stops_the_run_before_any_job(cluster, tmp_path):
    # This cluster keeps no accounting: with sacct the plugin would never see a job end.
    work = copy_project(tmp_path)
    run = snakemake(
        work,
        "--profile",
        "profiles/slurm",
        *TEST_CONFIG,
        *FAST,
        "--slurm-status-command",
        "sacct",
        "data",
        timeout=300,
    )
    assert run.returncode != 0
    assert run.seconds < QUICK_EXIT_S
    assert "SLURM job status cannot be tracked" in run.output, run.output[-3000:]
    assert "accounting_storage/none" in run.output
    assert cluster.jobs(run.slurm_run_id) == {}


def test_a_gpu_rule_needs_a_gpu_node_and_then_sees_its_gpu(slurm_run, cluster):
    # The project's own sampling rule, asking for a GPU through the config.
    work = slurm_run.work
    (work / "gpu.yaml").write_text("resources:\n  sample:\n    gpus: 1\n")
    samples = work / "results" / "evals" / "toy" / "chat_hhh" / "samples"
    record = work / "results" / "provenance" / "evals" / "sample_arm" / "toy_chat_hhh.json"
    before = (samples / "blackmail.jsonl").read_bytes()
    args = ["--profile", "profiles/slurm", *TEST_CONFIG, "gpu.yaml"]
    args += [*FAST, "--force", str(samples.relative_to(work))]

    no_gpu = snakemake(work, *args, timeout=300)
    assert no_gpu.returncode != 0
    assert no_gpu.seconds < QUICK_EXIT_S
    assert "SLURM cannot run rule sample_arm" in no_gpu.output, no_gpu.output[-3000:]
    assert "Invalid generic resource (gres) specification" in no_gpu.output

    cluster.restart(gpus=2)
    try:
        with_gpu = snakemake(work, *args, timeout=600)
        assert with_gpu.returncode == 0, with_gpu.output[-4000:]
        scheduler = json.loads(record.read_text())["scheduler"]
        assert scheduler["job_id"] in cluster.jobs(with_gpu.slurm_run_id)
        assert scheduler["gpus"] == "0", scheduler
        # torch here is a CPU build: a visible (fake) GPU changes nothing in the samples.
        assert (samples / "blackmail.jsonl").read_bytes() == before
    finally:
        cluster.restart(gpus=0)
