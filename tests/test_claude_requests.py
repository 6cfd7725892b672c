"""The request layer of the Claude generator against the local API fake: a warm cache sends
nothing, faults never lose a paid answer or pay twice, a killed batch is polled on the rerun,
and the budget stops the run before a request that could cross it."""

from __future__ import annotations

import anthropic
import pytest
from fakes.anthropic_api import FakeAnthropic, Fault

from teachwhy.generate.claude.requests import (
    BudgetExceeded,
    Ledger,
    Prices,
    Requester,
    ResponseCache,
    request_key,
)

MODEL = "claude-haiku-4-5-20251001"
PRICES = {MODEL: Prices(input=1.0, output=5.0, cache_write=1.25, cache_read=0.1)}


def _requests(n: int, max_tokens: int = 64) -> dict:
    return {
        f"r{i}": (
            {
                "model": MODEL,
                "max_tokens": max_tokens,
                "messages": [{"role": "user", "content": f"Write advice number {i}."}],
            },
            "template-v1",
        )
        for i in range(n)
    }


def _requester(api, tmp_path, budget=10.0, retries=2, **kw) -> Requester:
    client = anthropic.Anthropic(api_key="sk-test-fake", base_url=api.base_url, max_retries=retries)
    ledger = Ledger(tmp_path / "ledger", PRICES, budget, "difficult_advice")
    return Requester(
        client, ResponseCache(tmp_path / "cache"), ledger, tmp_path / "state",
        poll_seconds=0.0, sleep=lambda s: None, **kw,
    )  # fmt: skip


def test_the_key_changes_with_what_determines_the_answer_only():
    params = _requests(1)["r0"][0]
    assert request_key(params, "t") == request_key(dict(params), "t")
    assert request_key(params, "t") != request_key(params, "t2")
    assert request_key(params, "t") != request_key({**params, "temperature": 0.5}, "t")
    assert request_key(params, "t") == request_key({**params, "timeout": 30}, "t")


@pytest.mark.parametrize("path", ["direct", "batch"])
def test_a_warm_cache_sends_nothing_and_gives_the_same_answers(tmp_path, path):
    with FakeAnthropic() as api:
        first = _requester(api, tmp_path)
        run = first.direct if path == "direct" else lambda r: first.batch("advice", r)
        answers = run(_requests(5))
        served = sum(api.counts.values())
        again = _requester(api, tmp_path)
        rerun = again.direct if path == "direct" else lambda r: again.batch("advice", r)
        assert rerun(_requests(5)) == answers
    assert len(answers) == 5 and first.counts.sent == 5 and len(api.billed) == 5
    assert sum(api.counts.values()) == served, "the second run sent requests"
    assert again.counts.sent == 0 and again.counts.cache_hits == 5


def test_faults_in_the_messages_path_pay_each_answer_once(tmp_path):
    with FakeAnthropic() as api:
        api.inject(Fault("429", retry_after=0), Fault("500"), Fault("drop"))
        requester = _requester(api, tmp_path, retries=3, concurrency=1)
        answers = requester.direct(_requests(4))
    assert len(answers) == 4 and len(api.billed) == 4 and api.counts["messages"] == 7
    assert requester.counts.usd > 0
    assert requester.ledger.spent == pytest.approx(requester.counts.usd)


def test_only_the_errored_and_expired_batch_requests_are_resubmitted(tmp_path):
    key = {rid: request_key(p, t) for rid, (p, t) in _requests(4).items()}
    with FakeAnthropic() as api:
        api.inject(
            Fault("errored", endpoint="batches.results", match=key["r1"]),
            Fault("expired", endpoint="batches.results", match=key["r2"]),
        )
        requester = _requester(api, tmp_path)
        answers = requester.batch("advice", _requests(4))
    assert len(answers) == 4 and requester.counts.resubmitted == 2
    assert api.counts["batches.create"] == 2
    assert sorted(api.billed) == sorted(key.values()), "an answer was paid twice"
    assert not list((tmp_path / "state").iterdir()), "a finished batch left its state"


def test_a_run_killed_while_its_batch_runs_polls_that_batch_on_the_rerun(tmp_path):
    class Killed(Exception):
        pass

    def kill(seconds):
        raise Killed

    with FakeAnthropic(polls_to_end=3) as api:
        killed = _requester(api, tmp_path)
        killed.sleep = kill
        with pytest.raises(Killed):
            killed.batch("advice", _requests(3))
        assert api.counts["batches.create"] == 1 and api.billed == []
        rerun = _requester(api, tmp_path)
        answers = rerun.batch("advice", _requests(3))
    assert len(answers) == 3 and api.counts["batches.create"] == 1, "the rerun paid again"
    assert len(api.billed) == 3


def test_cut_off_answers_are_dropped_and_counted(tmp_path):
    with FakeAnthropic() as api:
        api.inject(Fault("max_tokens"))
        requester = _requester(api, tmp_path, concurrency=1)
        answers = requester.direct(_requests(3))
    assert len(answers) == 2 and requester.counts.truncated == requester.counts.dropped == 1
    assert len(api.billed) == 3, "a cut-off answer is still paid for"


def test_the_budget_stops_before_a_request_that_could_cross_it_and_a_rerun_continues(tmp_path):
    with FakeAnthropic() as api:
        stopped = _requester(api, tmp_path, budget=0.0004, concurrency=1)
        with pytest.raises(BudgetExceeded, match=r"difficult_advice: .*budget of \$0\.00"):
            stopped.direct(_requests(6))
        paid, spent = len(api.billed), stopped.ledger.spent
        assert 0 < paid < 6 and spent <= 0.0004
        more = _requester(api, tmp_path, budget=1.0, concurrency=1)
        answers = more.direct(_requests(6))
    assert len(answers) == 6 and len(api.billed) == 6 and more.counts.cache_hits == paid
    # One ledger for the run: both runs' spend, each answer once.
    assert more.ledger.spent == pytest.approx(spent + more.counts.usd)
    assert stopped.ledger.spent == more.ledger.spent


def test_requests_in_flight_hold_their_share_of_the_budget(tmp_path):
    ledger = Ledger(tmp_path / "ledger", PRICES, 1.0, "chat_hhh")
    ledger.reserve(0.6)
    with pytest.raises(BudgetExceeded, match=r"\$0\.6000 in flight"):
        ledger.reserve(0.5)
    ledger.release(0.6)
    ledger.reserve(0.5)
    message = {"model": MODEL, "usage": {"input_tokens": 100_000, "output_tokens": 20_000}}
    assert ledger.record("k", message, batch=True) == pytest.approx(0.1)  # half price
    # The ledger is read back on the next run: spend carries over.
    assert Ledger(tmp_path / "ledger", PRICES, 1.0, "chat_hhh").spent == pytest.approx(0.1)


@pytest.mark.parametrize("fault", ["lost_reply", "500", "drop"])
def test_a_batch_create_that_fails_or_loses_its_reply_makes_one_batch(tmp_path, fault):
    """The SDK would retry a failed create and a second batch would be paid for: the create is
    sent without retries, and after a failure the batch list is searched first."""
    with FakeAnthropic() as api:
        api.inject(Fault(fault, endpoint="batches.create"))
        requester = _requester(api, tmp_path)
        answers = requester.batch("advice", _requests(4))
    made = 1 if fault == "lost_reply" else 0  # a 500 or a dropped connection makes no batch
    assert len(answers) == 4 and len(api.batches) == 1
    assert len(api.billed) == 4, "a request was paid twice"
    assert api.counts["batches.list"] == 1 and api.counts["batches.create"] == 2 - made


def test_a_run_killed_before_its_batch_id_came_back_finds_that_batch(tmp_path):
    """Killed after the create call was made but before its reply: the intent on disk (time,
    size) finds the batch in the list, so the rerun pays nothing twice."""

    class Killed(Exception):
        pass

    with FakeAnthropic(polls_to_end=2) as api:
        api.inject(Fault("lost_reply", endpoint="batches.create"))
        killed = _requester(api, tmp_path)
        killed.sleep = lambda s: (_ for _ in ()).throw(Killed())
        killed.client.messages.batches.list = lambda **kw: (_ for _ in ()).throw(Killed())
        with pytest.raises(Killed):
            killed.batch("advice", _requests(3))
        rerun = _requester(api, tmp_path)
        answers = rerun.batch("advice", _requests(3))
    assert len(answers) == 3 and len(api.batches) == 1 and len(api.billed) == 3


def test_batches_are_cut_to_the_api_limit_and_to_the_budget_left(tmp_path, monkeypatch):
    from teachwhy.generate.claude import requests as module

    monkeypatch.setattr(module, "BATCH_MAX_REQUESTS", 2)
    with FakeAnthropic() as api:
        answers = _requester(api, tmp_path).batch("advice", _requests(5))
        assert len(answers) == 5 and api.counts["batches.create"] == 3
        # A budget of 2.5 worst cases: each batch holds at most 2 requests, as their worst
        # case is reserved until the answers are paid (and cost less), so all 6 are answered.
        monkeypatch.setattr(module, "BATCH_MAX_REQUESTS", 100)
        worst = _requester(api, tmp_path).ledger.worst_case(_requests(1)["r0"][0], batch=True)
        before = set(api.batches)
        tight = _requester(api, tmp_path / "b", budget=2.5 * worst)
        assert len(tight.batch("advice", {f"x{k}": v for k, v in _requests(6).items()})) == 6
        sizes = [len(b.requests) for i, b in api.batches.items() if i not in before]
        assert max(sizes) == 2 and sum(sizes) == 6
        # Less than one worst case left: nothing is sent, and the stop names the amounts.
        broke = _requester(api, tmp_path / "c", budget=0.5 * worst)
        with pytest.raises(BudgetExceeded, match=r"the next request could cost"):
            broke.batch("advice", {f"y{k}": v for k, v in _requests(2).items()})
        assert broke.counts.batches == 0
