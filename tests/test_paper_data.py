"""The paper world's data through the local API fake: every dataset by the batch and the direct
path, a warm rerun that sends nothing, faults and kills that never pay twice, the budget stop,
the key, and the deliberation instruction kept out of training records."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from fakes.anthropic_api import FakeAnthropic, Fault, digest, generator_responder
from workspace import ROOT, SNAKEMAKE, copy_project

from teachwhy import io
from teachwhy.config import check_config, load_config
from teachwhy.generate.claude.cost import estimate
from teachwhy.generate.claude.pipelines import DATASET_PLANS, STEPS, dataset_steps
from teachwhy.generate.claude.requests import BudgetExceeded
from teachwhy.generate.claude.run import (
    MissingKey,
    assemble_dataset,
    check_key,
    generated_datasets,
    run_step,
    shared_files,
    step_items_path,
    step_manifest_path,
)
from teachwhy.schemas import problems

CONFIGS = ["tests/config/config.yaml", "tests/config/paper_small.yaml"]
CANARY = "-".join(["sk", "ant", "api03", "paperCANARYkey", "0123456789abcdef"])


def _config(tmp_path: Path, **generation) -> dict:
    config = load_config(*CONFIGS)
    check_config(config)
    config["generation"].update(cache=str(tmp_path / "cache"), **generation)
    return config


def _generate(config: dict, out: Path) -> dict[str, Path]:
    """Every step and dataset of ``config`` in order, as the DAG runs them (in-process)."""
    files = shared_files(config)
    steps = sorted({s for d in generated_datasets(config) for s in dataset_steps(d)})
    done: set[str] = set()

    def run(step_id: str) -> None:
        if step_id in done:
            return
        for parent in STEPS[step_id].parents:
            run(parent)
        run_step(
            step_id,
            config["datasets"][step_id.split("/")[0]],
            {p: str(out / step_items_path("paper", p)) for p in STEPS[step_id].parents},
            out / step_items_path("paper", step_id),
            out / step_manifest_path("paper", step_id),
            seed=config["seed"],
            shared_files={k: files[k] for k in STEPS[step_id].reads},
            generation=config["generation"],
        )
        done.add(step_id)

    for step_id in steps:
        run(step_id)
    written = {}
    for name in generated_datasets(config):
        path = out / f"{name}.jsonl"
        assemble_dataset(
            name,
            {s: str(out / step_items_path("paper", s)) for s in DATASET_PLANS[name].steps},
            {s: str(out / step_manifest_path("paper", s)) for s in dataset_steps(name)},
            path,
            out / f"{name}.manifest.json",
            seed=config["seed"],
        )
        written[name] = path
    return written


@pytest.fixture
def api(monkeypatch):
    with FakeAnthropic(responder=generator_responder) as fake:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
        yield fake


def _records_valid(path: Path) -> int:
    records = io.read_jsonl(path)
    for record in records:
        assert not problems(record, "record"), (path, record["id"])
    return len(records)


# ---- in process -----------------------------------------------------------------------------


def test_the_direct_path_writes_every_dataset(api, tmp_path):
    config = _config(tmp_path, api="direct", concurrency=3)
    written = _generate(config, tmp_path / "out")
    assert sorted(written) == sorted(DATASET_PLANS)
    assert all(_records_valid(p) > 0 for p in written.values())
    assert api.counts["messages"] == len(api.billed) and "batches.create" not in api.counts


def test_faults_never_lose_a_paid_answer_or_pay_twice(api, tmp_path):
    """429 with retry-after, 5xx, a timeout and a dropped connection on the Messages API,
    errored and expired requests and a cut-off answer in a batch: every request is answered
    and paid once (the cut-off one twice: it is paid, then retried)."""
    config = _config(tmp_path, timeout_seconds=1.0, max_retries=6)
    api.inject(
        Fault("429", "messages", retry_after=0.1),
        Fault("500", "messages"),
        Fault("529", "messages"),
        Fault("timeout", "messages", delay=2.5),
        Fault("drop", "messages"),
        Fault("errored", "batches.results", times=2),
        Fault("expired", "batches.results"),
        Fault("max_tokens", "batches.results"),
        Fault("500", "batches.retrieve"),
    )
    _generate(config, tmp_path / "out")
    manifests = [io.read_json(p) for p in (tmp_path / "out").rglob("*.manifest.json")]
    step_runs = [m["this_run"] for m in manifests if "step" in m]
    planned = sum(m["planned"] for m in manifests if "step" in m)
    truncated = sum(r["truncated"] for r in step_runs)
    assert truncated == 1 and sum(r["resubmitted"] for r in step_runs) >= 3
    # Each planned request answered once; the cut-off answer was paid and then sent again.
    assert len(api.billed) == planned + truncated == sum(r["sent"] for r in step_runs)
    before = len(api.billed)
    _generate(config, tmp_path / "again")
    assert len(api.billed) == before, "a rerun paid for an answer already paid for"


def test_a_run_killed_mid_batch_polls_the_same_batch_on_its_rerun(tmp_path):
    """SIGKILL while a batch is processed, then a rerun: the batch id on disk is polled, no new
    batch is created for those requests and none is paid twice."""
    config = _config(tmp_path, poll_seconds=0.05, max_poll_seconds=0.05)
    step = "honeypot_actions/scenario"
    out = tmp_path / "out" / step_items_path("paper", step)
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT / "workflow")!r})
from teachwhy.generate.claude.run import run_step, shared_files
config = json.loads({json.dumps(json.dumps(config))})
run_step({step!r}, config["datasets"]["honeypot_actions"], {{}}, {str(out)!r},
         {str(out.with_suffix(".manifest.json"))!r}, seed=config["seed"],
         shared_files={{"markers": shared_files(config)["markers"]}},
         generation=config["generation"])
"""
    with FakeAnthropic(responder=generator_responder, polls_to_end=10**6) as api:
        env = {**os.environ, "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": CANARY}
        child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
        state = tmp_path / "cache" / "batches" / "honeypot_actions_scenario.batch.json"
        deadline = time.time() + 60
        # The intent is on disk before the batch is created; the id follows once it exists.
        while time.time() < deadline and child.poll() is None:
            if state.is_file() and io.read_json(state).get("batch_id"):
                break
            time.sleep(0.05)
        assert io.read_json(state).get("batch_id"), "the batch id was not on disk while it ran"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert not out.exists() and api.counts["batches.create"] == 1
        for batch in api.batches.values():  # the batch the killed run paid for ends now
            batch.polls_left = 1
        os.environ["ANTHROPIC_BASE_URL"], os.environ["ANTHROPIC_API_KEY"] = api.base_url, CANARY
        try:
            manifest = run_step(
                step, config["datasets"]["honeypot_actions"], {}, out,
                out.with_suffix(".manifest.json"), seed=config["seed"],
                shared_files={"markers": shared_files(config)["markers"]},
                generation=config["generation"],
            )  # fmt: skip
        finally:
            del os.environ["ANTHROPIC_BASE_URL"], os.environ["ANTHROPIC_API_KEY"]
        assert api.counts["batches.create"] == 1, "the rerun created a second batch"
        planned = config["datasets"]["honeypot_actions"]["scenarios"]
        assert len(api.billed) == planned == manifest["planned"]
        assert manifest["this_run"]["batches"] == 0 and manifest["this_run"]["sent"] == planned


def test_the_budget_stops_the_run_and_a_higher_budget_finishes_it(api, tmp_path):
    config = _config(tmp_path, budget_usd=0.06, api="direct", concurrency=1)
    with pytest.raises(BudgetExceeded) as stopped:
        _generate(config, tmp_path / "out")
    message = str(stopped.value)
    # It names the dataset and step, the amounts and the key to raise.
    assert message.startswith("aligned_fiction (step aligned_fiction/story): the next request")
    assert "budget of $0.06 (generation.budget_usd)" in message and "spent" in message
    paid = len(api.billed)
    assert paid > 0
    config["generation"]["budget_usd"] = 5.0
    written = _generate(config, tmp_path / "out")
    assert sorted(written) == sorted(DATASET_PLANS)
    manifests = [io.read_json(p) for p in (tmp_path / "out").rglob("*.manifest.json")]
    planned = sum(m["planned"] for m in manifests if "step" in m)
    assert len(api.billed) == planned, "an answer paid before the stop was paid again"


def test_a_missing_key_names_the_datasets_that_need_requests(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    config = _config(tmp_path)
    with pytest.raises(MissingKey) as missing:
        check_key(config, shared_files(config))
    for name in DATASET_PLANS:
        assert name in str(missing.value)


def test_the_cost_estimate_renders_first_steps_exactly(tmp_path):
    config = _config(tmp_path)
    costs = {d.dataset: d for d in estimate(config, shared_files(config))}
    assert sorted(costs) == sorted(DATASET_PLANS)
    scenario = next(s for s in costs["honeypot_actions"].steps if s.step.endswith("/scenario"))
    assert scenario.rendered and scenario.requests == 12
    deliberate = next(s for s in costs["honeypot_deliberation"].steps)
    assert not deliberate.rendered and deliberate.requests == 12 * 2
    assert deliberate.cache_read_tokens > 0 and deliberate.cache_write_tokens > 0
    # A shared step is counted once, under its own dataset.
    assert costs["difficult_advice_no_rewrite"].steps == []
    assert all(d.usd > 0 for n, d in costs.items() if n != "difficult_advice_no_rewrite")


# ---- through Snakemake ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("paper"))
    with FakeAnthropic(responder=generator_responder) as api:
        env = {**os.environ, "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": CANARY}
        start = time.perf_counter()
        run = _snakemake(work, env)
        seconds = time.perf_counter() - start
        assert run.returncode == 0, run.stderr[-4000:]
        yield work, api, env, seconds


def _snakemake(work: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    args = [str(SNAKEMAKE), "data", "--configfile", *CONFIGS, "--cores", "2", *extra]
    return subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)


def _hashes(work: Path) -> dict[str, str]:
    return {
        p.name: io.sha256_file(p) for p in sorted((work / "results/data/paper").glob("*.jsonl"))
    }


def test_every_paper_dataset_is_generated_with_its_provenance(paper_run):
    work, api, _, seconds = paper_run
    print(f"\nsmall paper config through the fake: {seconds:.1f} s, {len(api.billed)} answers")
    for name in DATASET_PLANS:
        path = work / f"results/data/paper/{name}.jsonl"
        assert _records_valid(path) > 0
        manifest = io.read_json(path.with_suffix(".manifest.json"))
        assert manifest["generator"] == "anthropic" and manifest["world"] == "paper"
        assert manifest["models_reported"] and manifest["tokens_api"]["input"] > 0
        assert manifest["requests"]["sent"] > 0 and manifest["requests"]["usd_all_answers"] > 0
        for step in manifest["steps"].values():
            assert len(step["template_sha256"]) == 64 and step["models_reported"]
    judged = io.read_json(work / step_manifest_path("paper", "honeypot_actions/judge"))
    assert 0 <= judged["rejection_rate"] < 1 and sum(judged["statuses"].values()) > 0
    contamination = io.read_json(work / "results/data/paper/contamination.json")
    assert contamination["eval_markers"]["hits"] == 0


def test_the_deliberation_instruction_never_reaches_a_training_record(paper_run):
    work, *_ = paper_run
    styles = yaml.safe_load((work / "config/prompts/honeypot_deliberation/styles.yaml").read_text())
    instructions = [text for text in styles["styles"].values() if text]
    constitution = (work / "config/constitution.md").read_text().split("\n## ")[1][:80]
    records = io.read_jsonl(work / "results/data/paper/honeypot_deliberation.jsonl")
    sampled = io.read_jsonl(work / step_items_path("paper", "honeypot_deliberation/deliberate"))
    assert {r["style"] for r in sampled} >= {"deference", "honesty"}
    for record in records:
        text = json.dumps(record)
        assert not any(i[:60] in text for i in instructions), record["id"]
        assert constitution not in text, record["id"]
        system = record["messages"][0]
        assert system["role"] == "system" and "style" in record["meta"]


def test_a_warm_rerun_sends_nothing_needs_no_key_and_writes_the_same_bytes(paper_run):
    work, api, env, _ = paper_run
    before, served = _hashes(work), dict(api.counts)
    shutil.rmtree(work / "results/data/paper")
    keyless = {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"}
    run = _snakemake(work, keyless)
    assert run.returncode == 0, run.stderr[-4000:]
    assert dict(api.counts) == served, "the warm rerun sent requests"
    assert _hashes(work) == before


def test_raising_the_budget_reruns_nothing_but_a_template_reruns_its_step(paper_run, tmp_path):
    """How requests are sent (budget, API path, retries) is a job's resources, not its params:
    changing it reruns no job. A template edit reruns its step and what builds on it."""
    work, _, env, _ = paper_run
    more = tmp_path / "more.yaml"
    more.write_text("generation: {budget_usd: 99.0, api: direct, concurrency: 1}\n")
    run = subprocess.run(
        [str(SNAKEMAKE), "-n", "data", "--configfile", *CONFIGS, str(more)],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0 and "Nothing to be done" in run.stdout, run.stdout[-2000:]
    template = work / "config/prompts/aligned_fiction/story.md"
    original = template.read_text()
    template.write_text(original.replace("---\n", "---\n", 2) + "\n")
    try:
        run = subprocess.run(
            [str(SNAKEMAKE), "-n", "data", "--configfile", *CONFIGS],
            cwd=work, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        template.write_text(original)
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, flags=re.M))
    assert counts.get("generate_step") == "1" and counts.get("claude_dataset") == "1", counts


def test_a_cold_step_without_a_key_stops_before_any_job(paper_run, tmp_path):
    work, api, env, _ = paper_run
    more = tmp_path / "more.yaml"
    more.write_text("datasets:\n  chat_hhh: {records: 9}\n")
    keyless = {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"}
    served = dict(api.counts)
    run = subprocess.run(
        [str(SNAKEMAKE), "data", "--configfile", *CONFIGS, str(more), "--cores", "2"],
        cwd=work, env=keyless, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode != 0
    assert "ANTHROPIC_API_KEY is not set" in run.stderr and "chat_hhh" in run.stderr
    assert "Traceback" not in run.stderr
    assert "rule generate_step" not in run.stdout + run.stderr, "a job started"
    assert dict(api.counts) == served


def test_the_key_is_in_no_file_the_run_or_dvc_wrote(paper_run):
    work, *_ = paper_run
    dvc = Path(sys.executable).with_name("dvc")
    for args in (["init", "--no-scm"], ["add", "results/data"]):
        done = subprocess.run([str(dvc), *args], cwd=work, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    leaks = []
    for folder in ("results", ".snakemake", ".dvc"):
        for path in (work / folder).rglob("*"):
            if path.is_file() and CANARY.encode() in path.read_bytes():
                leaks.append(str(path.relative_to(work)))
    assert not leaks
    assert any((work / ".dvc/cache").rglob("*")), "the DVC cache holds nothing"


def test_the_paper_config_plans_its_whole_dag_offline():
    """`snakemake -n --configfile config/paper.yaml` plans every job without the network: one
    job per pipeline step and dataset, no toy pretraining (the base is an open model)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("ANTHROPIC_API_KEY", None)
    run = subprocess.run(
        [str(SNAKEMAKE), "-n", "--configfile", "config/paper.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, flags=re.M))
    print(f"\nconfig/paper.yaml plans {counts['total']} jobs")
    assert counts["generate_step"] == str(len(STEPS)) and counts["claude_dataset"] == "9"
    assert "pretrain" not in counts and "generate_dataset" not in counts


def test_the_paper_world_reads_a_constitution_in_any_markdown(tmp_path):
    """The published constitution or a spec file need not be in this project's format: its
    headings become the sections difficult advice draws on, and the cost is estimated."""
    published = tmp_path / "published.md"
    published.write_text(
        "# A constitution\n\nPreamble.\n\n## Being helpful\n\nBe genuinely helpful.\n\n"
        "People's needs matter.\n\n## Being honest\n\nNever deceive.\n",
        encoding="utf-8",
    )
    config = load_config(*CONFIGS)
    config["constitution"] = str(published)
    check_config(config)
    costs = {d.dataset: d for d in estimate(config, shared_files(config))}
    scenario = next(s for s in costs["difficult_advice"].steps if s.step.endswith("/scenario"))
    assert scenario.requests == 6 and scenario.input_tokens > 0


def test_an_answer_naming_an_eval_marker_never_reaches_a_record(monkeypatch, tmp_path):
    """Half of the plain-text answers name the eval's company: each is rejected at its step
    (status and reason kept), so no dataset holds one and the contamination check has nothing
    to find."""

    def leaky(params):
        text = generator_responder(params)
        # Lists and tagged answers stay clean: a step of one list request would lose it whole.
        if "<" in text or "\n" in text or int(digest(params)[:4], 16) % 2:
            return text
        return text + " It was like SummitBridge all over again."

    with FakeAnthropic(responder=leaky) as fake:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
        written = _generate(_config(tmp_path), tmp_path / "out")
    reasons = [
        item["reason"]
        for path in (tmp_path / "out").rglob("steps/*/*.jsonl")
        for item in io.read_jsonl(path)
        if item["status"] == "rejected"
    ]
    assert any("SummitBridge" in r for r in reasons)
    for path in written.values():
        assert "summitbridge" not in path.read_text(encoding="utf-8").lower()
