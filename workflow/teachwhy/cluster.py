"""Running the DAG on a cluster: what each rule asks the scheduler for, and pre-flight checks
that stop a SLURM run before its first job where it would otherwise wait forever: a job status
the executor plugin cannot follow, or a request no node of the partition can ever satisfy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

# snakemake-executor-plugin-slurm 2.8.0 waits at most this long between two status checks.
MAX_POLL_SECONDS = 180
# Node states (sinfo %t, without flags) in which a node takes new jobs.
USABLE_NODE_STATES = {"idle", "mix", "alloc", "comp", "resv", "plnd"}


def _run(command: list[str]) -> subprocess.CompletedProcess | None:
    """A SLURM client command's result; None where it cannot run or hangs."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None


def _stop(message: str) -> None:
    from snakemake_interface_common.exceptions import WorkflowError

    raise WorkflowError(message)


def job_threads(config: dict[str, Any], kind: str) -> int:
    """The threads (SLURM: CPUs per task) of a rule of class ``kind``."""
    return int(config["resources"][kind]["cpus"])


def job_resources(config: dict[str, Any], kind: str) -> dict[str, int]:
    """Snakemake ``resources:`` of a rule of class ``kind``: CPUs, memory, runtime, any GPUs.

    ``cpus_per_task`` is the CPU request the SLURM plugin submits. It repeats ``threads``
    because Snakemake caps threads at ``--cores``, which profiles/default sets for local runs
    and which outranks any ``--profile`` (a workflow profile wins), so the cap would otherwise
    shrink every cluster job to the submit host's local setting. Inside the job Snakemake runs
    with all the CPUs SLURM granted. ``gpu`` is left out when no GPU is wanted.
    """
    spec = config["resources"][kind]
    out = {
        "cpus_per_task": int(spec["cpus"]),
        "mem_mb": int(spec["mem_mb"]),
        "runtime": int(spec["runtime"]),
    }
    if spec["gpus"] > 0:
        out["gpu"] = int(spec["gpus"])
    return out


def parse_scontrol_config(text: str) -> dict[str, str]:
    """``scontrol show config`` output as ``{key: value}``."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and " " not in key.strip():
            out[key.strip()] = value.strip()
    return out


def seconds(value: str | None) -> int | None:
    """A SLURM duration such as ``300 sec``, ``300`` or ``1h`` in seconds; None if unreadable."""
    match = re.match(r"^(\d+)\s*([a-zA-Z]*)", value or "")
    if not match:
        return None
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * 3600 if unit in ("h", "hour", "hours") else number


def effective_status_command(
    status_command: str, init_seconds: int, min_job_age: int | None, sacct_on_path: bool
) -> str:
    """The command plugin 2.8.0 really polls with: it trades ``squeue`` for ``sacct`` when
    MinJobAge is unknown or below three times the first status-check delay, and ``sacct`` for
    ``squeue`` when there is no sacct."""
    if status_command == "squeue" and sacct_on_path and (min_job_age or 0) < 3 * init_seconds:
        return "sacct"
    if status_command == "sacct" and not sacct_on_path:
        return "squeue"
    return status_command


def status_tracking_problem(
    status_command: str,
    init_seconds: int,
    cluster: dict[str, str],
    sacct_on_path: bool,
    sacct_error: str | None = None,
) -> str | None:
    """Why the SLURM plugin would lose track of its jobs on this cluster, or None if it will not.

    A failing ``sacct`` (no accounting database, or ``sacct_error`` from a probe) makes the
    plugin drop its jobs unreported, and a job that leaves ``squeue`` before the next check is
    never seen again; either way Snakemake would wait forever rather than fail.
    """
    min_job_age = seconds(cluster.get("MinJobAge"))
    command = effective_status_command(status_command, init_seconds, min_job_age, sacct_on_path)
    fell_back = command != status_command and command == "sacct"
    accounting = cluster.get("AccountingStorageType", "")
    if command == "sacct" and accounting == "accounting_storage/none":
        why = (
            f"MinJobAge={min_job_age} s is below 3 x --slurm-init-seconds-before-status-checks "
            f"({init_seconds} s), so the plugin switches from squeue to sacct, and "
            if fell_back
            else "the status command is sacct, but "
        )
        return (
            f"SLURM job status cannot be tracked: {why}this cluster keeps no accounting "
            "(AccountingStorageType=accounting_storage/none), so sacct reports nothing and "
            "Snakemake would wait forever. Use --slurm-status-command squeue (profiles/slurm does) "
            f"with MinJobAge >= {MAX_POLL_SECONDS} s, or run slurmdbd."
        )
    if command == "sacct" and sacct_error:
        return (
            f"SLURM job status cannot be tracked: the plugin would poll with sacct, which fails "
            f"here ({sacct_error}), so Snakemake would wait forever. Fix accounting (slurmdbd) "
            f"or use --slurm-status-command squeue with MinJobAge >= {MAX_POLL_SECONDS} s."
        )
    if command == "squeue" and min_job_age is not None and min_job_age < MAX_POLL_SECONDS:
        return (
            f"SLURM job status cannot be tracked: squeue forgets a finished job after "
            f"MinJobAge={min_job_age} s, but the plugin may wait {MAX_POLL_SECONDS} s between "
            "checks, so a job could finish unseen and Snakemake would wait forever. "
            f"Raise MinJobAge to >= {MAX_POLL_SECONDS} s or use sacct with slurmdbd."
        )
    return None


def sbatch_request(resources: dict[str, Any], threads: int) -> tuple[str, ...]:
    """The sbatch options that decide whether a job can ever run: partition, account, CPUs,
    memory, time limit and GPUs, as the SLURM plugin derives them from a job's resources."""
    args = [f"--cpus-per-task={resources.get('cpus_per_task') or threads}"]
    for key, option in (
        ("slurm_partition", "--partition"),
        ("slurm_account", "--account"),
        ("mem_mb", "--mem"),
        ("runtime", "--time"),
        ("gpu", "--gpus"),
    ):
        value = resources.get(key)
        if value:
            args.append(f"{option}={value}")
    return tuple(args)


def unsatisfiable_requests(
    requests: dict[tuple[str, ...], list[str]],
    test_only: Callable[[tuple[str, ...]], tuple[bool, str]],
) -> list[str]:
    """One message per distinct request SLURM refuses, naming the rules that make it.

    ``test_only(args)`` returns ``(ok, message)`` from ``sbatch --test-only``, which judges a
    request against the partition's nodes without submitting anything. It refuses even where
    a plain sbatch would queue the job forever (EnforcePartLimits=NO, Reason=PartitionConfig).
    """
    problems = []
    for args, rules in requests.items():
        ok, message = test_only(args)
        if not ok:
            names = ", ".join(sorted(set(rules)))
            problems.append(
                f"SLURM cannot run rule {names} as requested ({' '.join(args)}): {message}"
            )
    return problems


def partition_is_down(states: str, partition: str | None) -> bool:
    """Whether ``sinfo -h -o '%P %t'`` output shows ``partition`` (None: the default one, marked
    ``*``) with nodes, none of them up and responding (a ``*`` after the state: not responding)."""
    rows = [line.split() for line in states.splitlines() if line.strip()]
    mine = [
        state
        for name, state in rows
        if (name.rstrip("*") == partition if partition else name.endswith("*"))
    ]
    return bool(mine) and not any(s.rstrip("~#!%$@^-+") in USABLE_NODE_STATES for s in mine)


def slurm_verdict(args: tuple[str, ...]) -> tuple[bool, str]:
    """``sbatch --test-only`` on a request. A refusal does not count while its partition is
    down or drained: SLURM then refuses every request, yet would queue the job until it is up."""
    probe = _run(
        ["sbatch", "--test-only", "--job-name=teachwhy-preflight", "--output=/dev/null"]
        + [*args, "--wrap=true"]
    )
    if probe is None or probe.returncode == 0:
        return True, ""
    partition = next((a.split("=", 1)[1] for a in args if a.startswith("--partition=")), None)
    states = _run(["sinfo", "-h", "-o", "%P %t"])
    if (
        states is not None
        and states.returncode == 0
        and partition_is_down(states.stdout, partition)
    ):
        return True, ""
    return False, " ".join((probe.stderr + probe.stdout).split())


def check_requests(workflow: Any) -> None:
    """Ask SLURM, without submitting, whether it could ever run each job the DAG will submit;
    raise a WorkflowError naming the rules it refuses."""
    requests: dict[tuple[str, ...], list[str]] = {}
    for job in workflow.dag.needrun_jobs():
        if not job.is_local:
            requests.setdefault(sbatch_request(job.resources, job.threads), []).append(job.name)
    problems = unsatisfiable_requests(requests, slurm_verdict)
    if problems:
        _stop("\n".join(problems))


def check_status_tracking(workflow: Any) -> None:
    """Raise a WorkflowError if the SLURM plugin could not follow its jobs on this cluster.
    A cluster whose config cannot be read passes."""
    shown = _run(["scontrol", "show", "config"])
    if shown is None or shown.returncode != 0:
        return
    settings = workflow.executor_settings
    command = settings.status_command or "sacct"
    init_seconds = settings.init_seconds_before_status_checks or 40
    cluster = parse_scontrol_config(shown.stdout)
    sacct_on_path = shutil.which("sacct") is not None
    sacct_error = None
    effective = effective_status_command(
        command, init_seconds, seconds(cluster.get("MinJobAge")), sacct_on_path
    )
    if effective == "sacct":
        probe = _run(["sacct", "-X", "--noheader", "--starttime=now", "--format=JobIdRaw"])
        if probe is not None and probe.returncode != 0:
            sacct_error = " ".join(probe.stderr.split()) or f"exit status {probe.returncode}"
    problem = status_tracking_problem(command, init_seconds, cluster, sacct_on_path, sacct_error)
    if problem:
        _stop(problem)


def preflight(workflow: Any) -> None:
    """Snakefile ``onstart`` hook: on the SLURM executor, run both checks before any job is
    submitted. Every other executor passes untouched."""
    plugin = getattr(workflow, "executor_plugin", None)
    if plugin is None or plugin.name != "slurm":
        return
    check_status_tracking(workflow)
    check_requests(workflow)
