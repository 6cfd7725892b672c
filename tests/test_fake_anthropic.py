"""The local Anthropic API fake, driven by the real ``anthropic`` SDK (not patched): answers,
usage, batches, prompt caching and every injected fault, with the requests it served and the
answers it would bill counted."""

from __future__ import annotations

import time

import anthropic
import pytest
from fakes.anthropic_api import FakeAnthropic, Fault

MODEL = "claude-haiku-4-5-20251001"


def _client(api: FakeAnthropic, **kw) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-test-fake", base_url=api.base_url, **kw)


def _ask(client: anthropic.Anthropic, text: str = "Write one line.", **kw):
    params = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    return client.messages.create(**{**params, **kw})


def test_an_answer_is_deterministic_and_billed_once():
    with FakeAnthropic() as api:
        client = _client(api)
        first, again = _ask(client), _ask(client)
        other = _ask(client, "Another prompt entirely.")
    assert first.content[0].text == again.content[0].text != other.content[0].text
    assert first.model == MODEL and first.stop_reason == "end_turn"
    assert first.usage.input_tokens > 0 and first.usage.output_tokens > 0
    assert api.counts["messages"] == 3 and len(api.billed) == 3


@pytest.mark.parametrize(
    ("fault", "served"),
    [
        (Fault("429", times=2, retry_after=0), 3),  # honours retry-after, then succeeds
        (Fault("500"), 2),
        (Fault("529"), 2),
        (Fault("drop"), 2),  # a dropped connection
    ],
)
def test_the_sdk_retries_a_fault_and_one_answer_is_billed(fault, served):
    with FakeAnthropic() as api:
        api.inject(fault)
        message = _ask(_client(api, max_retries=2))
    assert message.stop_reason == "end_turn"
    assert api.counts["messages"] == served and len(api.billed) == 1


def test_a_timeout_is_retried_by_the_sdk():
    with FakeAnthropic() as api:
        api.inject(Fault("timeout", delay=1.5))
        message = _ask(_client(api, max_retries=1, timeout=0.5))
    assert message.stop_reason == "end_turn"
    assert api.counts["messages"] == 2 and len(api.billed) == 1


def test_faults_beyond_the_retries_reach_the_caller_and_nothing_is_billed():
    with FakeAnthropic() as api:
        api.inject(Fault("429", times=5, retry_after=0))
        with pytest.raises(anthropic.RateLimitError):
            _ask(_client(api, max_retries=1))
    assert api.counts["messages"] == 2 and api.billed == []


def test_a_cut_off_answer_says_max_tokens_and_is_billed():
    with FakeAnthropic() as api:
        api.inject(Fault("max_tokens"))
        client = _client(api)
        cut, whole = _ask(client), _ask(client)
    assert cut.stop_reason == "max_tokens" and whole.stop_reason == "end_turn"
    assert len(cut.content[0].text.split()) < len(whole.content[0].text.split())
    assert len(api.billed) == 2


def test_a_cached_prefix_is_written_once_then_read():
    system = [
        {"type": "text", "text": "constitution " * 50, "cache_control": {"type": "ephemeral"}}
    ]
    with FakeAnthropic() as api:
        client = _client(api)
        first, second = _ask(client, system=system), _ask(client, "Other.", system=system)
    assert (
        first.usage.cache_creation_input_tokens == 50 and first.usage.cache_read_input_tokens == 0
    )
    assert (
        second.usage.cache_read_input_tokens == 50 and second.usage.cache_creation_input_tokens == 0
    )


def _requests(*ids: str) -> list[dict]:
    return [
        {
            "custom_id": cid,
            "params": {
                "model": MODEL,
                "max_tokens": 64,
                "messages": [{"role": "user", "content": f"Request {cid}."}],
            },
        }
        for cid in ids
    ]


def _wait(client: anthropic.Anthropic, batch_id: str):
    for _ in range(20):
        batch = client.messages.batches.retrieve(batch_id)
        if batch.processing_status == "ended":
            return batch
        time.sleep(0.01)
    raise AssertionError("the batch never ended")


def test_a_batch_ends_with_per_request_results_and_bills_only_successes():
    with FakeAnthropic(polls_to_end=2) as api:
        api.inject(
            Fault("errored", endpoint="batches.results", match="req-b"),
            Fault("expired", endpoint="batches.results", match="req-c"),
        )
        client = _client(api)
        created = client.messages.batches.create(requests=_requests("req-a", "req-b", "req-c"))
        assert created.processing_status == "in_progress" and created.results_url is None
        ended = _wait(client, created.id)
        results = {r.custom_id: r.result for r in client.messages.batches.results(created.id)}
    assert ended.request_counts.succeeded == 1
    assert ended.request_counts.errored == 1 and ended.request_counts.expired == 1
    assert results["req-a"].type == "succeeded" and results["req-a"].message.content[0].text
    assert results["req-b"].type == "errored" and results["req-c"].type == "expired"
    assert api.billed == ["req-a"]
    assert api.counts["batches.create"] == 1 and api.counts["batches.retrieve"] >= 3


def test_a_failed_batch_create_is_retried_and_makes_one_batch():
    with FakeAnthropic() as api:
        api.inject(Fault("500", endpoint="batches.create"))
        client = _client(api, max_retries=2)
        client.messages.batches.create(requests=_requests("req-a"))
    assert api.counts["batches.create"] == 2 and len(api.batches) == 1


def test_a_canceled_batch_bills_nothing():
    with FakeAnthropic(polls_to_end=5) as api:
        client = _client(api)
        created = client.messages.batches.create(requests=_requests("req-a", "req-b"))
        canceled = client.messages.batches.cancel(created.id)
        results = list(client.messages.batches.results(created.id))
    assert canceled.processing_status == "ended" and canceled.request_counts.canceled == 2
    assert {r.result.type for r in results} == {"canceled"} and api.billed == []
