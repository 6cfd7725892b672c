"""dvc.yaml and the Snakemake phases stay in sync: every phase output is exactly one stage's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from teachwhy.provenance.records import PHASES, phase_of

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DVC = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
TARGET_RULES = {"all", "paper", *PHASES}


def _declared(stage: dict) -> tuple[list[str], list[str]]:
    outs = [next(iter(o)) if isinstance(o, dict) else o for o in stage.get("outs", [])]
    kept = stage.get("metrics", []) + stage.get("plots", [])
    metrics = [next(iter(m)) if isinstance(m, dict) else m for m in kept]
    return outs, metrics


def _summary(target: str) -> list[tuple[str, str]]:
    run = subprocess.run(
        [str(BIN / "snakemake"), "--summary", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [line.split("\t") for line in run.stdout.splitlines()[1:] if "\t" in line]
    return [(row[0], row[2]) for row in rows]


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def test_stages_are_the_phases():
    assert list(DVC) == list(PHASES)
    for name, stage in DVC.items():
        assert stage["cmd"] == f"snakemake --cores all {name}"


@pytest.mark.parametrize("phase", list(PHASES))
def test_every_phase_output_belongs_to_its_stage_and_every_declared_out_is_written(phase):
    outs, metrics = _declared(DVC[phase])
    produced = [
        (path, rule)
        for path, rule in _summary(phase)
        if rule not in TARGET_RULES and phase_of(rule) == phase
    ]
    assert produced, f"Snakemake target {phase} builds nothing of its own"
    for path, rule in produced:
        assert any(_under(path, kept) for kept in [*metrics, *outs]), (
            f"{path} ({rule}) is in no out of stage {phase}"
        )
    for out in outs:
        if not out.startswith("results/provenance/"):
            assert any(_under(path, out) for path, _ in produced), (
                f"stage {phase} declares {out}, which no job writes"
            )
    for metric in metrics:
        assert any(_under(path, metric) for path, _ in produced), (
            f"stage {phase} declares metric {metric}, which no job writes"
        )


def test_no_out_is_claimed_twice():
    declared = [path for stage in DVC.values() for group in _declared(stage) for path in group]
    assert len(declared) == len(set(declared))
    for a in declared:
        for b in declared:
            assert a == b or not _under(a, b), f"{a} lies inside {b}"


def test_every_rule_has_a_phase():
    run = subprocess.run(
        [str(BIN / "snakemake"), "--list-rules"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    rules = [r for r in run.stdout.split() if r not in TARGET_RULES and not r.startswith("claim_")]
    assert rules
    for rule in rules:
        phase_of(rule)


def test_dvc_reads_the_pipeline():
    run = subprocess.run(
        [str(BIN / "dvc"), "dag", "--md"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    for stage in PHASES:
        assert stage in run.stdout


@pytest.mark.parametrize("stage", sorted(DVC))
def test_every_param_a_stage_reads_is_in_the_default_config(stage, default_config):
    """dvc commit fails on a params key the config no longer has."""
    for entry in DVC[stage].get("params", []):
        for path in next(iter(entry.values())) if isinstance(entry, dict) else [entry]:
            node = default_config
            for part in path.split("."):
                assert isinstance(node, dict) and part in node, f"{stage}: params {path}"
                node = node[part]
