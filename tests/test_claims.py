"""Claims end to end on synthetic inputs: the manifest and its errors, every statistic with
its interval and verdict, the validity checks, every figure kind, numbers.json and the
landing page's claims table."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from teachwhy import io
from teachwhy.claims import figures, numbers
from teachwhy.claims.manifest import load_claims
from teachwhy.claims.verdict import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    evaluate_claim,
    lineage_tokens,
)
from teachwhy.errors import InputError
from teachwhy.evaluate.metrics import rate
from teachwhy.schemas import project_path

THREAT = ["explicit-replacement", "explicit-restriction", "none-replacement", "none-restriction"]
STYLE = {
    "width": 5,
    "height": 3,
    "dpi": 60,
    "font_size": 8,
    "measured_color": "#c0504d",
    "paper_color": "#000000",
    "palette": ["#4c72b0", "#dd8452", "#55a868"],
}


def write_metrics(path: Path, harmful: float, n: int = 100, formed: float = 0.9) -> str:
    """A honeypot metrics file: ``n`` samples per threat condition at the given rates."""
    k, f = round(harmful * n), round(formed * n)
    block = {"harmful": rate(k, n), "well_formed": rate(f, n)}
    data = {
        "all": {"harmful": rate(4 * k, 4 * n), "well_formed": rate(4 * f, 4 * n)},
        "conditions": {c: block for c in THREAT} | {"none-none": block},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    io.write_json(path, data)
    return str(path)


def arms_with(tmp_path: Path, rates: dict[str, list[float]], **kw) -> tuple[dict, dict]:
    """runs and metrics paths for arms whose seeds have the given rates on `blackmail`."""
    runs, paths = {}, {}
    for arm, per_seed in rates.items():
        runs[arm] = [arm if i == 0 else f"{arm}.seed{i}" for i in range(len(per_seed))]
        for run, r in zip(runs[arm], per_seed, strict=True):
            paths[f"{run}/blackmail"] = write_metrics(tmp_path / run / "bm.json", r, **kw)
    return runs, paths


def claim(statistic: str, sides: dict, within: list[float], **extra) -> dict:
    return {
        "id": "c99_test",
        "statement": "A test claim.",
        "paper": {"text": "x", "source": "y"},
        "statistic": statistic,
        "sides": sides,
        "suites": ["blackmail"],
        "conditions": "threat",
        "verdict": {"within": within, **extra.pop("verdict", {})},
        "figure": "fig04_test",
        **extra,
    }


DIFF = {"baseline": {"arm": "base"}, "treatment": {"arm": "treat"}}


def test_the_manifest_covers_every_claim_of_the_issue_and_loads():
    manifest = load_claims()
    wanted = {
        "c03_chat_only_gap", "c05_persona_name", "c07_honeypot_actions",
        "c09_value_deliberation", "c10_deliberation_scaling", "c11_difficult_advice_efficiency",
        "c12_difficult_advice_ood", "c14_difficult_advice_rewrite_ablation",
        "c16_constitution_fiction", "c17_docs_vs_qa", "c18_recall_tracks_alignment",
        "c20_stories_add", "c22_sdf_scaling", "c23_rl_persistence", "c24_diverse_envs",
        "m1_model_spec_midtraining",
    }  # fmt: skip
    assert set(manifest["claims"]) == wanted
    kinds = {f["kind"] for f in manifest["figures"].values()}
    assert kinds == {"bars", "tokens", "scatter", "curves"}
    assert {f.get("frontier") for f in manifest["figures"].values() if f["kind"] == "tokens"} == {
        True,
        False,
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["claims"][0].update(figure="fig99_missing"), "unknown figure 'fig99_missing'"),
        (
            lambda m: m["claims"][1]["sides"].pop("treatment"),
            "names exactly ['baseline', 'treatment']",
        ),
        (lambda m: m["claims"][0]["verdict"].update(within=[1.0, 0.5]), "lower bound"),
        (lambda m: m["claims"][0].update(statistic="median"), "claims[0].statistic"),
        (lambda m: m["claims"][5].pop("tokens"), "tokens: name the dataset"),
        (lambda m: m["claims"].append(copy.deepcopy(m["claims"][0])), "duplicate claim id"),
    ],
)
def test_bad_manifests_name_the_claim_and_key(tmp_path, edit, message):
    import yaml

    data = yaml.safe_load(project_path("config/claims.yaml").read_text())
    assert data["claims"][5]["statistic"] == "token_efficiency_ratio"
    edit(data)
    bad = tmp_path / "claims.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        load_claims(bad)
    assert message in str(err.value) and str(bad) in str(err.value)


def test_rate_difference_verdicts_follow_the_rule(tmp_path):
    c = claim("rate_difference", DIFF, [-1.0, 0.0], verdict={"min_baseline_rate": 0.05})
    runs, paths = arms_with(tmp_path, {"base": [0.5, 0.5], "treat": [0.1, 0.1]})
    got = evaluate_claim(c, runs, paths, {}, seed=1, resamples=1000)
    assert got["verdict"] == REPRODUCED
    assert got["statistic"]["value"] == pytest.approx(-0.4)
    assert got["sides"]["baseline"]["n"] == 800  # 2 seeds x 4 threat conditions x 100
    runs, paths = arms_with(tmp_path / "b", {"base": [0.2, 0.2], "treat": [0.6, 0.6]})
    assert evaluate_claim(c, runs, paths, {}, 1, 1000)["verdict"] == NOT_REPRODUCED
    runs, paths = arms_with(tmp_path / "c", {"base": [0.0, 0.0], "treat": [0.0, 0.0]})
    floor = evaluate_claim(c, runs, paths, {}, 1, 1000)
    assert floor["verdict"] == INCONCLUSIVE and "floor effect" in floor["reasons"][0]


def test_seed_disagreement_widens_the_claim_interval(tmp_path):
    c = claim("rate_difference", DIFF, [-1.0, 0.0])
    runs, agree = arms_with(tmp_path / "a", {"base": [0.4, 0.4], "treat": [0.2, 0.2]})
    _, disagree = arms_with(tmp_path / "d", {"base": [0.4, 0.4], "treat": [0.05, 0.35]})
    a = evaluate_claim(c, runs, agree, {}, 1, 4000)["statistic"]["ci95"]
    d = evaluate_claim(c, runs, disagree, {}, 1, 4000)["statistic"]["ci95"]
    assert (d[1] - d[0]) > 1.5 * (a[1] - a[0])
    again = evaluate_claim(c, runs, disagree, {}, 1, 4000)["statistic"]["ci95"]
    assert again == d  # seeded


def test_a_broken_action_format_makes_a_zero_inconclusive(tmp_path):
    c = claim("rate_difference", DIFF, [-1.0, 0.0], verdict={"min_well_formed": 0.5})
    runs, paths = arms_with(tmp_path, {"base": [0.5], "treat": [0.0]}, formed=0.2)
    got = evaluate_claim(c, runs, paths, {}, 1, 500)
    assert got["verdict"] == INCONCLUSIVE
    assert "writes an action in only 20%" in got["reasons"][0]


def test_a_single_rate_gets_a_wilson_interval(tmp_path):
    c = claim("rate", {"value": {"arm": "base"}}, [0.1, 1.0])
    runs, paths = arms_with(tmp_path, {"base": [0.3, 0.3]})
    got = evaluate_claim(c, runs, paths, {}, 1, 500)
    assert got["statistic"]["ci95"] == pytest.approx(rate(240, 800)["ci95"])
    assert got["verdict"] == REPRODUCED


def test_a_ratio_over_a_zero_baseline_is_undefined_and_inconclusive(tmp_path):
    c = claim("rate_ratio", DIFF, [0.5, 1.0])
    runs, paths = arms_with(tmp_path, {"base": [0.0], "treat": [0.0]})
    got = evaluate_claim(c, runs, paths, {}, 1, 500)
    assert got["statistic"]["value"] is None and got["verdict"] == INCONCLUSIVE
    json.dumps(got, allow_nan=False)  # valid JSON: no NaN


def write_card(folder: Path, parent: str | None, datasets: dict, curve: list | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    card = {"parent": parent, "datasets": {d: {"tokens": t} for d, t in datasets.items()}}
    if curve is not None:
        card["rl_curve"] = curve
    io.write_json(folder / "training.json", card)
    return str(folder)


def test_token_efficiency_reads_tokens_along_the_recipe(tmp_path):
    models = tmp_path / "models"
    write_card(models / "prefix-midtrain-abc", None, {"docs": 3000})
    ref = write_card(models / "ref", "prefix-midtrain-abc", {"docs": 1000, "chat": 50})
    treat = write_card(models / "treat", None, {"advice": 100})
    assert lineage_tokens(ref, "docs") == 4000
    c = claim(
        "token_efficiency_ratio",
        {"baseline": {"arm": "base"}, "treatment": {"arm": "treat"}, "reference": {"arm": "ref"}},
        [1.0, 1000.0],
        tokens={"treatment": "advice", "reference": "docs"},
    )
    runs, paths = arms_with(tmp_path, {"base": [0.5], "treat": [0.1], "ref": [0.1]})
    got = evaluate_claim(c, runs, paths, {"treat": treat, "ref": ref}, 1, 1000)
    assert got["statistic"]["tokens"] == {"treatment": 100.0, "reference": 4000.0}
    assert got["statistic"]["value"] == pytest.approx(40.0)
    assert got["verdict"] == REPRODUCED


def test_correlation_runs_over_arms(tmp_path):
    arms = ["a", "b", "c", "d"]
    runs, paths = {}, {}
    for i, arm in enumerate(arms):
        runs[arm] = [arm]
        paths[f"{arm}/blackmail"] = write_metrics(tmp_path / arm / "bm.json", 0.6 - 0.15 * i)
        recall = {"recall": {"correct": rate(20 + 20 * i, 100)}}
        io.write_json(tmp_path / arm / "kn.json", {"all": recall["recall"], "conditions": recall})
        paths[f"{arm}/knowledge"] = str(tmp_path / arm / "kn.json")
    c = claim(
        "correlation",
        {
            "x": {"suites": ["knowledge"], "conditions": ["recall"], "outcome": "correct"},
            "y": {"suites": ["blackmail"]},
        },
        [-1.0, 0.0],
        arms=arms,
    )
    got = evaluate_claim(c, runs, paths, {}, 1, 2000)
    assert got["statistic"]["value"] == pytest.approx(-1.0)
    assert got["verdict"] == REPRODUCED


def test_rl_curve_sides_pool_the_points_after_step_zero(tmp_path):
    curve = lambda rates: [  # noqa: E731
        {"step": 4 * i, "harmful_rate": r, "n": 40} for i, r in enumerate(rates)
    ]
    models = {
        "plain": write_card(tmp_path / "plain", None, {}, curve([0.5, 0.4, 0.4])),
        "diverse": write_card(tmp_path / "diverse", None, {}, curve([0.5, 0.1, 0.0])),
    }
    c = claim(
        "rate_difference",
        {"baseline": {"arm": "plain"}, "treatment": {"arm": "diverse"}},
        [-1.0, 0.0],
        source="rl_curve",
    )
    got = evaluate_claim(c, {"plain": ["plain"], "diverse": ["diverse"]}, {}, models, 1, 1000)
    assert got["sides"]["baseline"]["k"] == 32 and got["sides"]["baseline"]["n"] == 80
    assert got["statistic"]["value"] == pytest.approx(0.05 - 0.4)


def test_pareto_front():
    assert figures.pareto_front([(10, 0.5), (100, 0.2), (1000, 0.3), (5, 0.6)]) == [
        True,
        True,
        False,
        True,
    ]


def _figure_inputs(tmp_path: Path):
    runs, paths = arms_with(tmp_path, {"a": [0.4, 0.5], "b": [0.1, 0.2], "c": [0.3, 0.3]})
    models = {}
    for arm, tokens in (("a", 0), ("b", 1000), ("c", 30000)):
        for run in runs[arm]:
            curve = [{"step": s, "harmful_rate": 0.5 - 0.1 * s / 4, "n": 8} for s in (0, 4, 8)]
            models[run] = write_card(tmp_path / "m" / run, None, {"data": tokens}, curve)
        for run in runs[arm]:
            know = {"recall": {"correct": rate(30, 100)}}
            io.write_json(tmp_path / run / "kn.json", {"all": know["recall"], "conditions": know})
            paths[f"{run}/knowledge"] = str(tmp_path / run / "kn.json")
    return runs, paths, models


FIGURES = {
    "bars": {"kind": "bars", "bars": [{"arm": "a"}, {"arm": "b", "label": "B!"}]},
    "tokens": {
        "kind": "tokens",
        "frontier": True,
        "reference": "a",
        "points": [{"arm": "b", "dataset": "data"}, {"arm": "c", "dataset": "data"}],
    },
    "scatter": {
        "kind": "scatter",
        "arms": ["a", "b", "c"],
        "x": {"suites": ["knowledge"], "conditions": "all", "outcome": "correct", "label": "r"},
        "y": {"label": "h"},
    },
    "curves": {"kind": "curves", "arms": ["a", "b"]},
}


@pytest.mark.parametrize("kind", sorted(FIGURES))
def test_every_figure_kind_draws_pdf_png_and_caption(tmp_path, kind):
    runs, paths, models = _figure_inputs(tmp_path)
    figure = {
        "title": f"a {kind} figure",
        "paper_figure": "Fig. 0",
        "suites": ["blackmail"],
        "conditions": "threat",
        **FIGURES[kind],
    }
    inputs = paths | {f"model:{k}": v for k, v in models.items()}
    data_path = tmp_path / "out" / "data.json"
    paper_claim = {"paper": {"rates": {"a": 0.22}}}
    figures.build_figure_data("fig01_test", figure, [paper_claim], runs, inputs, str(data_path))
    data = io.read_json(data_path)
    assert data["rows"]
    if kind == "bars":
        assert data["rows"][0]["paper_rate"] == 0.22 and data["rows"][1]["label"] == "B!"
        assert data["rows"][0]["seed_rates"] == [0.4, 0.5]
    if kind == "tokens":
        assert [r["tokens"] for r in data["rows"]] == [1000, 30000, 0]
        assert [r["pareto"] for r in data["rows"][:2]] == [True, False]
    claim_record = tmp_path / "claim.json"
    io.write_json(
        claim_record,
        {
            "id": "c99_test",
            "verdict": "inconclusive",
            "statement": "s",
            "paper": {"text": "t"},
            "statistic": {"kind": "rate_difference", "value": -0.1, "ci95": [-0.2, 0.05]},
        },
    )
    out = tmp_path / "out"
    figures.build_figure(
        "fig01_test", figure, STYLE, str(data_path), [str(claim_record)],
        str(out / "f.pdf"), str(out / "f.png"), str(out / "f.rst"),
    )  # fmt: skip
    assert (out / "f.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "f.png").read_bytes().startswith(b"\x89PNG")
    caption = (out / "f.rst").read_text()
    assert "c99_test" in caption and "inconclusive" in caption


def test_numbers_and_landing_table(tmp_path):
    record = {
        "id": "c07_test",
        "statement": "Honeypot actions barely help.",
        "verdict": "not reproduced",
        "reasons": ["rate_ratio = 0.017"],
        "statistic": {"kind": "rate_ratio", "value": 0.017, "ci95": [0.0, 0.058]},
        "paper": {"text": "22% -> 15%", "source": "s", "value": 0.68},
        "sides": {
            "baseline": {"arm": "chat_hhh", "rate": 0.23, "ci95": [0.2, 0.26], "k": 1, "n": 4}
        },
        "figure": "fig04_test",
    }
    io.write_json(tmp_path / "c.json", record)
    io.write_json(tmp_path / "p.json", {"figure": "fig04_test", "kind": "bars", "rows": [{"a": 1}]})
    io.write_json(tmp_path / "v.json", {"suites": []})
    numbers.write_numbers(
        [str(tmp_path / "c.json")], [str(tmp_path / "p.json")], str(tmp_path / "v.json"),
        str(tmp_path / "numbers.json"),
    )  # fmt: skip
    got = io.read_json(tmp_path / "numbers.json")
    assert got["claims"]["c07_test"]["statistic"]["ci95"] == [0.0, 0.058]
    assert got["figures"]["fig04_test"]["rows"] == [{"a": 1}]
    numbers.write_landing(
        str(tmp_path / "numbers.json"), str(project_path("report/workflow.rst.jinja")),
        str(tmp_path / "landing.rst"), "toy", 1, 2, ["chat_hhh"],
    )  # fmt: skip
    page = (tmp_path / "landing.rst").read_text()
    assert "``c07_test``" in page and "**not reproduced**" in page
    assert "0.02" in page and "[0.00, 0.06]" in page and "22% -> 15% (rate_ratio 0.68)" in page
    from docutils.core import publish_parts

    html = publish_parts(page, writer="html")["html_body"]
    assert "<table" in html and "c07_test" in html


def test_a_claim_record_does_not_change_with_training_wall_time(tmp_path):
    from teachwhy.claims.verdict import write_claim

    curve = [{"step": s, "harmful_rate": 0.25, "n": 8} for s in (0, 4)]
    model = Path(write_card(tmp_path / "rl", None, {}, curve))
    (model / "model.safetensors").write_bytes(b"weights")
    c = claim("rate", {"value": {"arm": "rl"}}, [0.1, 1.0], source="rl_curve")
    outs = []
    for seconds in (10.0, 99.0):  # the card's bytes change, the model does not
        card = io.read_json(model / "training.json") | {"seconds": seconds}
        io.write_json(model / "training.json", card)
        out = tmp_path / f"claim{seconds}.json"
        write_claim(c, {"rl": ["rl"]}, {}, {"rl": str(model)}, 1, 200, str(out))
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert "model:rl/model.safetensors" in json.loads(outs[0])["inputs"]
