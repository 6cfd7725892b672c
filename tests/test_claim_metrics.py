"""The DVC metrics: a flat file per claim, whose sorted keys read as the table should."""

from __future__ import annotations

import json

import pytest

from teachwhy import io, paths
from teachwhy.claims.metrics import KEYS, write_claim_metrics
from teachwhy.errors import InputError


def _claim(tmp_path, claim_id, value, ci95, verdict):
    path = tmp_path / f"{claim_id}.json"
    record = {
        "id": claim_id,
        "statistic": {"value": value, "ci95": ci95, "draws": 1000},
        "sides": {"baseline": {"arm": "chat_hhh", "rate": 0.5}},
        "verdict": verdict,
        "reasons": ["..."],
    }
    io.write_json(path, record)
    return str(path)


def test_each_claim_gets_its_estimate_interval_and_verdict(tmp_path):
    out = tmp_path / paths.claim_metrics("c07")
    claim = _claim(tmp_path, "c07", 0.68, [0.4, 0.9], "reproduced")
    assert write_claim_metrics(claim, str(out)) == {"verdict": "reproduced"}
    assert json.loads(out.read_text()) == {
        "estimate": 0.68,
        "lower95": 0.4,
        "upper95": 0.9,
        "verdict": "reproduced",
    }
    # Undefined numbers stay null (DVC prints "-").
    undefined = tmp_path / paths.claim_metrics("c11")
    write_claim_metrics(_claim(tmp_path, "c11", None, [None, None], "inconclusive"), str(undefined))
    assert json.loads(undefined.read_text()) == dict.fromkeys(KEYS[:3]) | {
        "verdict": "inconclusive"
    }
    # `dvc metrics show` sorts the columns: estimate, then the interval, then the verdict.
    assert list(KEYS) == sorted(KEYS)


def test_a_file_that_is_no_claim_record_is_named(tmp_path):
    path = tmp_path / "numbers.json"
    io.write_json(path, {"claims": {}, "figures": {}})
    out = tmp_path / "c12.json"
    with pytest.raises(
        InputError, match="numbers.json: is not a claim record: it has no 'statistic'"
    ):
        write_claim_metrics(str(path), str(out))
    assert not out.exists()
