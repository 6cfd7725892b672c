"""One end-to-end run of the whole DAG on tests/config, in a temporary copy of the project."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
PROJECT = ["Snakefile", "workflow", "config", "report", "profiles", "tests/config"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    for item in PROJECT:
        src, dst = ROOT / item, work / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    args = [str(SNAKEMAKE), "--configfile", "tests/config/config.yaml", "--cores", "2"]
    run = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    return work, args


def test_claims_have_measured_and_paper_numbers(finished_run):
    work, _ = finished_run
    for claim_id in ("c07_honeypot_actions", "c09_value_deliberation"):
        claim = json.loads((work / "results" / "claims" / f"{claim_id}.json").read_text())
        assert claim["verdict"] in {"reproduced", "not reproduced", "inconclusive"}
        assert claim["paper"]["value"] is not None and claim["paper"]["source"]
        for arm, rate in claim["rates"].items():
            assert rate["n"] > 0 and 0 <= rate["rate"] <= 1, arm
            assert rate["ci95"][0] <= rate["rate"] <= rate["ci95"][1]
        for arm, record in claim["inputs"].items():
            assert len(record["sha256"]) == 64, arm


def test_figure_and_caption_exist(finished_run):
    work, _ = finished_run
    figures = work / "results" / "figures"
    assert (figures / "fig04_honeypot_arms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (figures / "fig04_honeypot_arms.pdf").read_bytes()[:5] == b"%PDF-"
    caption = (figures / "fig04_honeypot_arms.rst").read_text()
    assert "paper 22%" in caption and "measured" in caption


def test_every_stage_left_its_artifacts(finished_run):
    work, _ = finished_run
    results = work / "results"
    for name in ("pretrain_corpus", "chat_hhh", "honeypot_actions", "honeypot_deliberation"):
        manifest = json.loads((results / "data" / "toy" / f"{name}.manifest.json").read_text())
        assert manifest["records"] > 0 and len(manifest["sha256"]) == 64
    for arm in ("base", "chat_hhh", "honeypot_actions", "honeypot_deliberation"):
        model = results / "models" / "toy" / arm
        assert (model / "model.safetensors").stat().st_size > 0
        assert (model / "README.md").is_file() and (model / "training.json").is_file()
    metrics = json.loads(
        (results / "evals" / "toy" / "chat_hhh" / "blackmail.metrics.json").read_text()
    )
    assert set(metrics["conditions"]) == {
        f"{g}-{t}" for g in ("explicit", "none") for t in ("replacement", "restriction", "none")
    }
    assert not list(results.rglob("*.tmp")), "a temporary output was left behind"


def test_second_dry_run_has_nothing_to_do(finished_run):
    work, args = finished_run
    run = subprocess.run([*args, "-n"], cwd=work, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_report_zip_shows_the_claims(finished_run):
    work, args = finished_run
    run = subprocess.run(
        [*args, "--report", "results/report.zip"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    with zipfile.ZipFile(work / "results" / "report.zip") as report:
        names = report.namelist()
        assert any(n.endswith("fig04_honeypot_arms.png") for n in names)
        html = "".join(
            report.read(n).decode("utf-8", "replace") for n in names if n.endswith(".html")
        )
    assert "Claims" in html and "paper 22%" in html
