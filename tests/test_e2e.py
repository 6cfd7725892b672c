"""One end-to-end run of the whole DAG on tests/config, in a temporary copy of the project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from workspace import SNAKEMAKE, copy_project

from teachwhy.claims.statistics import STATISTICS
from teachwhy.claims.verdict import decide


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("e2e"))
    args = [str(SNAKEMAKE), "--configfile", "tests/config/config.yaml", "--cores", "2"]
    # Planted secrets: every job inherits them, and no record, log or report may show them.
    env = {**os.environ, **PLANTED}
    run = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=900, env=env)
    assert run.returncode == 0, run.stderr[-4000:]
    return work, args


PLANTED = {
    "ANTHROPIC_API_KEY": "-".join(["sk", "ant", "api03", "e2ePLANTEDkey", "0123456789abcdef"]),
    "HF_TOKEN": "hf_" + "e2ePLANTEDtoken0123456789abcdefghij",
}


def _leaks(text: str) -> list[str]:
    """The planted secrets (or their distinctive middle) found in ``text``."""
    return [name for name, value in PLANTED.items() if value in text or "PLANTED" in text]


CLAIM_IDS = [
    "c03_chat_only_gap",
    "c07_honeypot_actions",
    "c09_value_deliberation",
    "c11_token_efficiency",
    "c18_recall_tracks_alignment",
    "c24_rl_curve",
]
FIGURE_IDS = [
    "fig04_honeypot_arms",
    "fig04_token_pareto",
    "fig10_recall_blackmail",
    "fig12_rl_curves",
]


def test_claims_have_measured_and_paper_numbers(finished_run):
    work, _ = finished_run
    found = sorted(p.stem for p in (work / "results" / "claims").glob("*.json"))
    assert found == sorted(CLAIM_IDS)
    for claim_id in CLAIM_IDS:
        claim = json.loads((work / "results" / "claims" / f"{claim_id}.json").read_text())
        # The verdict follows from the record alone: inconclusive when a gate gave a reason
        # (every reason but the last, which states the interval and band), else the band rule.
        gated = claim["reasons"][:-1]
        domain = STATISTICS[claim["statistic"]["kind"]].domain
        by_rule = decide(claim["statistic"]["ci95"], claim["verdict_rule"]["within"], domain)
        assert claim["verdict"] == ("inconclusive" if gated else by_rule), claim["reasons"]
        assert claim["paper"]["text"] and claim["paper"]["source"]
        assert claim["statistic"]["kind"] and len(claim["statistic"]["ci95"]) == 2
        for role, side in claim["sides"].items():
            assert side["n"] > 0 and 0 <= side["rate"] <= 1, role
            assert side["ci95"][0] <= side["rate"] <= side["ci95"][1]
            # Every side is counted per training seed: the test config trains 2.
            assert [s["run"] for s in side["per_seed"]] == [side["arm"], f"{side['arm']}.seed1"]
        for key, record in claim["inputs"].items():
            assert len(record.get("sha256") or record["fields_sha256"]) == 64, key
    token = json.loads((work / "results" / "claims" / "c11_token_efficiency.json").read_text())
    assert token["statistic"]["tokens"]["treatment"] > 0
    assert (
        "bootstrap" in token["statistic"]["method"] and "2 seed(s)" in token["statistic"]["method"]
    )


def test_figures_captions_and_numbers_exist(finished_run):
    work, _ = finished_run
    figures = work / "results" / "figures"
    for figure_id in FIGURE_IDS:
        assert (figures / f"{figure_id}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (figures / f"{figure_id}.pdf").read_bytes()[:5] == b"%PDF-"
    caption = (figures / "fig04_honeypot_arms.rst").read_text()
    assert "paper 22.0%" in caption and "c07_honeypot_actions" in caption
    numbers = json.loads((work / "results" / "paper" / "numbers.json").read_text())
    assert sorted(numbers["claims"]) == sorted(CLAIM_IDS)
    assert sorted(numbers["figures"]) == sorted(FIGURE_IDS)
    curves = numbers["figures"]["fig12_rl_curves"]["rows"]
    assert {r["run"] for r in curves} == {"rl_chat_hhh", "rl_chat_hhh.seed1"}
    landing = (work / "results" / "paper" / "report.rst").read_text()
    for claim_id in CLAIM_IDS:
        assert f"``{claim_id}``" in landing


def test_deleting_a_figure_reruns_only_its_plot_job(finished_run):
    work, args = finished_run
    figure = work / "results" / "figures" / "fig04_honeypot_arms.png"
    saved = figure.read_bytes()
    figure.unlink()
    try:
        for target in ("fig04_honeypot_arms", "paper"):
            run = subprocess.run(
                [*args, "-n", target], cwd=work, capture_output=True, text=True, timeout=120
            )
            stats = run.stdout.split("Job stats:")[1].split("total")[0]
            jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", stats, flags=re.MULTILINE))
            expected = {"fig04_honeypot_arms": "1"} | ({"paper": "1"} if target == "paper" else {})
            assert jobs == expected, (target, jobs)
        start = time.perf_counter()
        rebuilt = subprocess.run(
            [*args, "fig04_honeypot_arms"], cwd=work, capture_output=True, text=True, timeout=120
        )
        print(f"rebuilding one figure: {time.perf_counter() - start:.1f} s")
        assert rebuilt.returncode == 0 and figure.read_bytes()[:8] == saved[:8]
    finally:
        if not figure.exists():
            figure.write_bytes(saved)


def test_a_style_change_reruns_only_the_figures(finished_run):
    work, _ = finished_run
    style = work / "style.yaml"
    style.write_text("figures:\n  style: {dpi: 90, font_size: 9}\n")
    restyled = [str(SNAKEMAKE), "--configfile", "tests/config/config.yaml", "style.yaml"]
    run = subprocess.run(
        [*restyled, "--cores", "2", "-n"], cwd=work, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-3000:]
    stats = run.stdout.split("Job stats:")[1].split("total")[0]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", stats, flags=re.MULTILINE))
    assert jobs == {f: "1" for f in FIGURE_IDS} | {"all": "1"}


def test_every_claim_is_a_target_rule(finished_run):
    work, args = finished_run
    run = subprocess.run(
        [*args, "--list-target-rules"], cwd=work, capture_output=True, text=True, timeout=120
    )
    listed = set(run.stdout.split())
    assert {f"claim_{c}" for c in CLAIM_IDS} | set(FIGURE_IDS) | {"paper"} <= listed


def test_every_stage_left_its_artifacts(finished_run):
    work, _ = finished_run
    results = work / "results"
    for name in ("pretrain_corpus", "chat_hhh", "honeypot_actions", "honeypot_deliberation"):
        manifest = json.loads((results / "data" / "toy" / f"{name}.manifest.json").read_text())
        assert manifest["records"] > 0 and len(manifest["sha256"]) == 64
    for arm in ("base", "chat_hhh", "honeypot_actions", "honeypot_deliberation", "rl_chat_hhh"):
        model = results / "models" / "toy" / arm
        assert (model / "model.safetensors").stat().st_size > 0
        assert (model / "README.md").is_file() and (model / "training.json").is_file()
    metrics = json.loads(
        (results / "evals" / "toy" / "chat_hhh" / "blackmail.metrics.json").read_text()
    )
    assert set(metrics["conditions"]) == {
        f"{g}-{t}" for g in ("explicit", "none") for t in ("replacement", "restriction", "none")
    }
    held_out = json.loads((results / "data" / "toy" / "contamination.json").read_text())
    configured = yaml.safe_load((work / "config" / "config.yaml").read_text())
    assert held_out["clean"]
    assert {p["dataset"] for p in held_out["pairs"]} == set(configured["datasets"])
    assert {p["suite"] for p in held_out["pairs"]} == set(configured["evaluate"]["suites"])
    validity = json.loads((results / "evals" / "toy" / "validity.json").read_text())
    kinds = {row["suite"]: row["kind"] for row in validity["suites"]}
    assert kinds["capability"] == "capability" and kinds["leaking"] == "honeypot"
    assert all(
        "valid" in r
        for r in validity["suites"]
        if r["arm"] == "chat_hhh" and r["kind"] == "honeypot"
    )
    assert not list(results.rglob("*.tmp")), "a temporary output was left behind"


def test_truncated_samples_are_counted_and_the_limit_follows_training(finished_run):
    work, _ = finished_run
    evals = work / "results" / "evals" / "toy"
    limits = {}
    for arm in ("chat_hhh", "honeypot_deliberation"):
        card = json.loads((work / "results" / "models" / "toy" / arm / "training.json").read_text())
        taught = card["response_tokens_lineage"]["p99"]
        rows = [
            json.loads(line)
            for line in (evals / arm / "samples" / "blackmail.jsonl").read_text().splitlines()
        ]
        limits[arm] = {r["max_new_tokens"] for r in rows}
        # tests/config: floor 48, p99 + 8, ceiling 64.
        assert limits[arm] == {max(48, min(64, taught + 8))}, (arm, taught)
        metrics = json.loads((evals / arm / "blackmail.metrics.json").read_text())
        graded = [json.loads(x) for x in (evals / arm / "blackmail.jsonl").read_text().splitlines()]
        assert metrics["all"]["truncated"]["k"] == sum(r["truncated"] for r in graded)
        assert metrics["all"]["harmful"]["n"] == len(graded) - metrics["all"]["truncated"]["k"]
        # Only a sample that hit the limit can be truncated, and it is never graded harmless.
        assert all(not r["finished"] and not r["harmful"] for r in graded if r["truncated"])
    # Deliberation answers are longer than chat answers, so their limit is at least as high.
    assert max(limits["honeypot_deliberation"]) >= max(limits["chat_hhh"])


def test_arms_sharing_a_prefix_share_its_checkpoint(finished_run):
    work, _ = finished_run
    models = work / "results" / "models" / "toy"
    (midtrained,) = [p for p in models.glob("prefix-midtrain-*") if ".seed" not in p.name]
    card = json.loads((midtrained / "training.json").read_text())
    assert card["arms"] == ["sdf_docs", "msm_aft"] and card["kind"] == "midtrain"
    # The second seed retrains every stage under its own key.
    replicate = json.loads((models / "msm_aft.seed1" / "training.json").read_text())
    assert replicate["parent"].startswith("prefix-midtrain-") and replicate["parent"].endswith(
        ".seed1"
    )
    assert (
        replicate["checkpoint_key"]
        != json.loads((models / "msm_aft" / "training.json").read_text())["checkpoint_key"]
    )
    assert (
        replicate["seed"] != json.loads((models / "msm_aft" / "training.json").read_text())["seed"]
    )
    for arm in ("sdf_docs", "msm_aft"):
        child = json.loads((models / arm / "training.json").read_text())
        assert child["parent"] == midtrained.name and child["base"].endswith(midtrained.name)
        assert [s["kind"] for s in child["recipe"]] == ["midtrain", "sft"]
    trained = sorted(p.stem for p in (work / "results" / "benchmarks" / "train_stage").iterdir())
    assert trained.count(f"toy_{midtrained.name}") == 1
    assert len(trained) == 14  # 2 seeds x (six arms, one shared prefix); RL reuses chat_hhh
    rl = json.loads((models / "rl_chat_hhh" / "training.json").read_text())
    assert rl["parent"] == "chat_hhh" and rl["kind"] == "rl"
    assert [p["step"] for p in rl["rl_curve"]] == [0, 1, 2]
    for point in rl["rl_curve"]:
        # Every sample under threat is graded or counted as truncated, never dropped.
        assert point["samples"] > 0 and point["n"] + point["truncated_k"] == point["samples"]
        assert point["n"] == 0 or 0 <= point["harmful_rate"] <= 1
        assert point["max_new_tokens"] >= 24  # the curve's floor (tests/config), sized up
    readme = (models / "msm_aft" / "README.md").read_text()
    assert "1. midtrain on constitution_docs: 2000" in readme and "sha256" in readme
    assert not (work / "results" / ".scratch").exists() and not list(models.rglob("*.pt"))


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
        env={**os.environ, **PLANTED},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    with zipfile.ZipFile(work / "results" / "report.zip") as report:
        names = report.namelist()
        assert any(n.endswith("fig04_honeypot_arms.png") for n in names)
        html = "".join(
            report.read(n).decode("utf-8", "replace") for n in names if n.endswith(".html")
        )
    assert "Claims" in html and "paper 22.0%" in html
    assert not _leaks(html) and not _leaks(run.stdout + run.stderr)
    # The landing page: the claims table, one row per claim with its verdict.
    assert "c07_honeypot_actions" in html and "95% interval" in html


def _audit(work: Path, target: str) -> subprocess.CompletedProcess:
    return _teachwhy(work, "audit", target)


def test_every_job_left_a_provenance_record_without_secrets(finished_run):
    work, _ = finished_run
    records = list((work / "results" / "provenance").rglob("*.json"))
    assert len(records) >= 19
    for path in records:
        record = json.loads(path.read_text())
        # The copy is not a git checkout: "unknown" proves each job imported the copy's own
        # package, not the editable install of the checkout running the tests.
        assert record["code_version"] == "unknown" and record["packages"]["torch"]
        assert all(len(o["sha256"]) == 64 for o in record["outputs"])
        assert not _leaks(path.read_text()), path
    for folder in ("logs", "claims", "paper"):
        for path in (work / "results" / folder).rglob("*"):
            if path.is_file() and path.suffix in (".json", ".log", ".rst", ".html", ".txt"):
                assert not _leaks(path.read_text(errors="replace")), path


def test_untouched_run_audits_clean(finished_run):
    work, _ = finished_run
    run = _audit(work, "results/figures/fig04_honeypot_arms.pdf")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "audit clean" in run.stdout
    assert "results/data/toy/pretrain_corpus.jsonl" in run.stdout
    assert "config/suites/blackmail.yaml" in run.stdout


def test_tampered_dataset_is_named_by_the_audit_of_a_downstream_figure(finished_run):
    work, _ = finished_run
    dataset = work / "results" / "data" / "toy" / "honeypot_actions.jsonl"
    original, stat = dataset.read_bytes(), dataset.stat()
    try:
        dataset.write_bytes(original[:-2] + bytes([original[-2] ^ 1]) + original[-1:])
        crate = work.parent / "tampered.crate.zip"
        run = _teachwhy(
            work, "audit", "results/figures/fig04_honeypot_arms.pdf", "--rocrate", str(crate)
        )
        assert run.returncode == 1
        assert "honeypot_actions.jsonl" in run.stderr.split("first upstream:")[1]
        assert not crate.exists(), "no crate is written for a lineage that does not audit clean"
    finally:
        dataset.write_bytes(original)
        os.utime(dataset, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_audit_of_an_unknown_path_is_a_clear_error(finished_run):
    work, _ = finished_run
    run = _audit(work, "results/figures/no_such_figure.pdf")
    assert run.returncode == 2
    assert "no such file" in run.stderr and "Traceback" not in run.stderr


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@teachwhy", "-c", "user.name=ci", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def pushed_clone(finished_run, tmp_path_factory):
    """The finished run versioned (git + dvc.lock), pushed to a local remote, then cloned."""
    work, _ = finished_run
    copy_project(
        work, (".dvc", "dvc.yaml", ".dvcignore", ".gitignore", "pyproject.toml", "README.md")
    )
    shutil.rmtree(work / ".dvc" / "tmp", ignore_errors=True)
    remote = tmp_path_factory.mktemp("remote")
    dvc = str(Path(sys.executable).with_name("dvc"))
    _git(work, "init", "-q")
    subprocess.run([dvc, "commit", "-f", "-q"], cwd=work, check=True, capture_output=True)
    subprocess.run(
        [dvc, "remote", "add", "--local", "-d", "-f", "local", str(remote)], cwd=work, check=True
    )
    start = time.perf_counter()
    subprocess.run([dvc, "push", "-q"], cwd=work, check=True, capture_output=True)
    push_seconds = time.perf_counter() - start
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "run")
    clone = tmp_path_factory.mktemp("clone") / "repo"
    _git(work.parent, "clone", "-q", str(work), str(clone))
    subprocess.run(
        [dvc, "remote", "add", "--local", "-d", "-f", "local", str(remote)], cwd=clone, check=True
    )
    return clone, push_seconds


def _teachwhy(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    teachwhy = Path(sys.executable).with_name("teachwhy")
    return subprocess.run(
        [str(teachwhy), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_restore_in_a_fresh_clone_leaves_nothing_to_do(pushed_clone):
    clone, push_seconds = pushed_clone
    assert not (clone / "results" / "models").exists()
    assert (clone / "results" / "claims" / "c07_honeypot_actions.json").is_file(), (
        "claim JSON is kept in git"
    )
    run = _teachwhy(clone, "restore", "--configfile", "tests/config/config.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "snakemake -n: nothing to do" in run.stdout
    assert (clone / "results" / "models" / "toy" / "base" / "model.safetensors").is_file()
    # Every output got a metadata record, so later params or code changes are noticed.
    summary = subprocess.run(
        [str(SNAKEMAKE), "--summary", "--configfile", "tests/config/config.yaml"],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    outputs = [line for line in summary.stdout.splitlines()[1:] if "\t" in line]
    assert len(list((clone / ".snakemake" / "metadata").iterdir())) == len(outputs) > 0
    print(f"dvc push: {push_seconds:.2f} s")


def test_a_changed_config_key_reruns_exactly_its_dependants(pushed_clone):
    clone, _ = pushed_clone
    config = clone / "tests" / "config" / "config.yaml"
    text = config.read_text()
    config.write_text(text.replace("  temperature: 1.0", "  temperature: 0.7"))
    try:
        args = [str(SNAKEMAKE), "-n", "--configfile", "tests/config/config.yaml"]
        run = subprocess.run(args, cwd=clone, capture_output=True, text=True, timeout=120)
        stats = run.stdout.split("Job stats:")[1].split("total")[0]
        jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", stats, flags=re.MULTILINE))
        assert jobs == {
            "sample_arm": "12",  # 6 arms x 2 seeds
            "grade_suite": "24",
            "suite_validity": "1",
            # The RL curve samples as the evaluation does, so its stage reruns (2 seeds).
            "train_stage": "2",
            "claim_verdict": "6",
            "claim_metrics": "6",
            "figure_data": "4",
            **{f: "1" for f in FIGURE_IDS},
            "paper_numbers": "1",
            "report_landing": "1",
            "all": "1",
        }
    finally:
        config.write_text(text)


def test_restore_refuses_to_touch_a_tampered_artifact(pushed_clone):
    clone, _ = pushed_clone
    numbers = clone / "results" / "paper" / "numbers.json"
    original = numbers.read_text()
    numbers.write_text(original.replace('"verdict"', '"verdikt"', 1))
    try:
        run = _teachwhy(clone, "restore", "--no-pull", "--configfile", "tests/config/config.yaml")
        assert run.returncode == 2
        assert "refusing to touch" in run.stderr and "results/paper/numbers.json" in run.stderr
    finally:
        numbers.write_text(original)


def test_dvc_metrics_and_plots_come_from_git_in_a_fresh_clone(pushed_clone):
    """`dvc metrics show` is a small table read from git: a row per claim with its estimate,
    95% interval and verdict, as the claim's full record (an ordinary output) has them."""
    from teachwhy import paths

    clone, _ = pushed_clone
    dvc = str(Path(sys.executable).with_name("dvc"))
    metrics = subprocess.run(
        [dvc, "metrics", "show", "--json"], cwd=clone, capture_output=True, text=True, timeout=120
    )
    assert metrics.returncode == 0, metrics.stderr
    shown = json.loads(metrics.stdout)
    files = next(iter(shown.values()))["data"]
    assert sorted(files) == sorted(paths.claim_metrics(c) for c in CLAIM_IDS)
    for claim_id in CLAIM_IDS:
        claim = json.loads((clone / paths.claim(claim_id)).read_text())
        low, high = claim["statistic"]["ci95"]
        row = {
            "estimate": claim["statistic"]["value"],
            "lower95": low,
            "upper95": high,
            "verdict": claim["verdict"],
        }
        assert json.loads((clone / paths.claim_metrics(claim_id)).read_text()) == row
        # DVC leaves an undefined (null) number out; its table prints "-" there.
        shown_row = files[paths.claim_metrics(claim_id)]["data"]
        assert shown_row == {k: v for k, v in row.items() if v is not None}
    table = subprocess.run(
        [dvc, "metrics", "show"], cwd=clone, capture_output=True, text=True, timeout=120
    )
    lines = table.stdout.splitlines()
    width = max(map(len, lines))
    print(f"dvc metrics show: {len(lines)} lines, {width} characters wide")
    assert lines[0].split() == ["Path", "estimate", "lower95", "upper95", "verdict"]
    assert len(lines) == 1 + len(CLAIM_IDS) and width <= 100, table.stdout
    plots = subprocess.run(
        [dvc, "plots", "show", "--json"], cwd=clone, capture_output=True, text=True, timeout=120
    )
    assert plots.returncode == 0, plots.stderr
    assert '"errors"' not in plots.stdout
    assert plots.stdout.count('"arm"') >= 3


def _crate_graph(path: Path) -> tuple[dict[str, dict], set[str]]:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        document = json.loads(archive.read("ro-crate-metadata.json"))
    return {entity["@id"]: entity for entity in document["@graph"]}, names


def _refs(value) -> list[str]:
    return [v["@id"] for v in (value if isinstance(value, list) else [value])]


def test_rocrate_of_a_figure_is_a_valid_provenance_run_crate(finished_run, pushed_clone):
    from teachwhy.provenance.crate import validate_crate

    work, _ = finished_run  # versioned by pushed_clone: dvc.yaml and dvc.lock are there
    out = work.parent / "fig04.crate.zip"
    run = _teachwhy(work, "audit", "results/figures/fig04_honeypot_arms.pdf", "--rocrate", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "RO-Crate:" in run.stdout
    assert validate_crate(out) == []

    graph, names = _crate_graph(out)
    root = graph["./"]
    assert graph[root["mainEntity"]["@id"]]["@id"] == "Snakefile" and "Snakefile" in names
    assert "https://w3id.org/ro/wfrun/provenance/0.5" in _refs(root["conformsTo"])
    jobs = {i: e for i, e in graph.items() if e["@type"] == "CreateAction" and i != "#run"}
    records = list((work / "results" / "provenance").rglob("*.json"))
    assert 10 <= len(jobs) < len(records)  # the lineage only, not every job of the run
    for job in jobs.values():
        assert job["startTime"] <= job["endTime"]
        record = json.loads((work / graph[job["subjectOf"]["@id"]]["@id"]).read_text())
        for output in record["outputs"]:
            entity = next(e for e in graph.values() if e.get("sha256") == output["sha256"])
            assert entity["@id"] in _refs(job["result"])
    # Heavy artifacts are described by DVC path and hash, never copied in.
    assert not [n for n in names if n.startswith("results/models/") or n.endswith(".jsonl")]
    base = graph["#dvc:results/models/toy/base"]
    assert len(base["sha256"]) == 64 and "DVC stage 'models'" in base["description"]
    assert "md5" in base["description"], "the out's md5 from dvc.lock"
    claims = {e["name"]: e for e in graph.values() if e["@type"] == "Claim"}
    assert set(claims) == {"c03_chat_only_gap", "c07_honeypot_actions", "c09_value_deliberation"}
    assert all("verdict:" in c["description"] for c in claims.values())
    assert not _leaks(json.dumps(graph))
    print(f"crate: {out.stat().st_size / 1024:.0f} KiB, {len(jobs)} jobs, {len(names)} files")


def test_the_crate_validator_rejects_a_crate_without_its_workflow(
    finished_run, tmp_path, monkeypatch
):
    from teachwhy.provenance.crate import build_crate, validate_crate

    work, _ = finished_run
    monkeypatch.chdir(work)
    good = tmp_path / "good.zip"
    build_crate("results/claims/c07_honeypot_actions.json", good)
    graph, _ = _crate_graph(good)
    del graph["./"]["mainEntity"]
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "ro-crate-metadata.json":
                data = json.dumps(
                    {"@context": json.loads(data)["@context"], "@graph": list(graph.values())}
                ).encode()
            dst.writestr(item, data)
    issues = validate_crate(broken)
    assert any("Main Workflow" in issue for issue in issues), issues


def test_the_claims_table_marks_checks_and_says_why(finished_run):
    work, _ = finished_run
    run = _teachwhy(work, "claims")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("c03_chat_only_gap (manipulation check)") for line in lines)
    for claim_id in CLAIM_IDS:
        claim = json.loads((work / "results" / "claims" / f"{claim_id}.json").read_text())
        row = next(i for i, line in enumerate(lines) if line.startswith(claim_id))
        if claim["verdict"] == "inconclusive" and len(claim["reasons"]) > 1:
            assert lines[row + 1].strip() == f"because {claim['reasons'][0]}"


def test_each_config_key_reruns_exactly_the_jobs_that_read_it(finished_run):
    """Every walkable key of the test config's schema changed in turn: Snakemake reruns for
    their params exactly the jobs whose rule reads the key (tests/params_walk.py says which),
    adds only the training jobs of a renamed recipe prefix, and reruns nothing else but jobs
    downstream of those."""
    from params_walk import STRUCTURAL, descendants, every_job, expected, walk

    work, _ = finished_run
    configfile = "tests/config/config.yaml"
    jobs = every_job(work, configfile)
    outcomes, skipped, config = walk(work, configfile, jobs)
    problems, read_by_none = [], []
    for o in outcomes:
        change = f"{o.key}: {o.value!r} -> {o.changed!r}"
        if o.error:
            problems.append(f"{change}: the dry run failed: {o.error}")
            continue
        direct, added = expected(jobs, o, config)
        # A job whose parent checkpoint was renamed reports that, not its params as well.
        unexpected, missed = o.direct - direct, direct - o.direct - o.relinked
        if unexpected or missed:
            problems.append(f"{change}: reran {sorted(unexpected)} unread, missed {sorted(missed)}")
        if o.key in STRUCTURAL:
            if not o.new:
                problems.append(f"{change}: added no job")
        elif o.new - added:
            problems.append(f"{change}: added {sorted(o.new - added)}")
        below = descendants(jobs, o.direct | o.relinked)
        if o.downstream - below:
            problems.append(f"{change}: reran {sorted(o.downstream - below)}, below no rerun")
        if o.other:
            problems.append(f"{change}: {o.other}")
        if not direct:
            read_by_none.append(o.key)
    print(
        f"params walk: {len(outcomes)} schema keys changed one at a time "
        f"({len(read_by_none)} read by no job: {', '.join(read_by_none)}); {len(skipped)} not "
        "walked: " + "; ".join(f"{k} ({why})" for k, why in sorted(skipped.items()))
    )
    assert len(outcomes) >= 100
    assert not problems, "\n".join(problems)


def test_the_landing_page_leaves_the_claims_table_clear(finished_run):
    """The report opened in Chromium at a laptop's and a desktop's width: no visible element
    covers the landing page's claims table (Snakemake draws the rule graph beside the text),
    the rule graph is still drawn, and the whole table is in reach. Screenshots are kept under
    tests/artifacts (or $TEACHWHY_TEST_ARTIFACTS)."""
    from test_report_layout import (
        ARTIFACTS,
        WIDTHS,
        browser_paths,
        landing_layout,
        layout_problems,
    )

    browser_paths()
    work, args = finished_run
    report = work / "results" / "report.zip"
    if not report.is_file():
        run = subprocess.run(
            [*args, "--report", str(report)], cwd=work, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, run.stderr[-3000:]
    unpacked = work.parent / "report-layout"
    shutil.rmtree(unpacked, ignore_errors=True)
    with zipfile.ZipFile(report) as archive:
        archive.extractall(unpacked)
    (page,) = unpacked.glob("*/report.html")
    problems = []
    for width in WIDTHS:
        shot = ARTIFACTS / f"report-landing-{width}.png"
        layout = landing_layout(page, width, shot)
        print(
            f"landing page at {width} px: claims table {layout['table']}, rule graph "
            f"{layout['graph']}, window {layout['window']}; screenshot {shot}"
        )
        assert layout["graph"] is not None, f"{width} px: the rule graph is not drawn"
        problems += [f"{width} px: {p}" for p in layout_problems(layout)]
    assert not problems, "\n".join(problems)
