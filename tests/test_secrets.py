"""Provenance records never carry a secret: planted keys and values are redacted, counts are not."""

from __future__ import annotations

import pytest

from teachwhy.provenance.records import redact

PLANTED = "-".join(["sk", "ant", "api03", "PLANTEDsecretVALUE_0123456789"])
HF = "hf_" + "a1B2c3D4e5" * 4


@pytest.mark.parametrize(
    "params",
    [
        {"api_key": "anything"},
        {"ANTHROPIC_API_KEY": "anything"},
        {"hf_token": "anything"},
        {"token": "anything"},
        {"client": {"secret": "anything"}},
        {"note": f"key={PLANTED} in a string"},
        {"list": ["fine", PLANTED]},
        {"nested": [{"password": "hunter2"}]},
        {"header": f"Authorization: Bearer {HF}"},
    ],
)
def test_planted_secrets_are_redacted(params):
    out = repr(redact(params))
    assert PLANTED not in out and "anything" not in out and "hunter2" not in out
    assert HF not in out
    assert "[redacted]" in out


@pytest.mark.parametrize(
    "params",
    [
        {"tokens": 5000},
        {"max_new_tokens": 160},
        {"token_budget": 20000},
        {"datasets": {"chat_hhh": {"tokens": 1200, "records": 40}}},
        {"note": "sk-ant is a prefix, not a key"},
    ],
)
def test_counts_and_near_misses_stay_readable(params):
    assert redact(params) == params
