"""Requests to Claude that never lose a paid response and never pay twice.

Every request goes through a content-addressed :class:`ResponseCache` (one file per request,
keyed by the hash of everything that determines the answer), so a rerun with a warm cache
sends nothing. Spend is written to a :class:`Ledger` as answers arrive, and a request that
could cross ``budget_usd`` is not sent (:class:`BudgetExceeded` names the amounts). Bulk work
goes through the Message Batches API: the batch id is written atomically before waiting, so a
run killed while the batch is processed polls that batch on its rerun instead of paying for a
new one, and only the requests that errored or expired are resubmitted. Small steps use the
Messages API with a bounded number of requests in flight; the SDK's own retries (429 with
retry-after, 5xx, timeouts, dropped connections) do the rest.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teachwhy import io
from teachwhy.errors import TeachwhyError

Params = dict[str, Any]
Message = dict[str, Any]
# The request fields that determine an answer (the SDK's transport options do not).
ANSWER_FIELDS = (
    "model",
    "system",
    "messages",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
)


def request_key(params: Params, template_hash: str = "") -> str:
    """The cache key of a request: the hash of every field that determines its answer and of
    the prompt template it was rendered from."""
    fields = {k: params[k] for k in ANSWER_FIELDS if k in params}
    blob = json.dumps({"request": fields, "template": template_hash}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    """One JSON file per answered request under ``root`` (``<key[:2]>/<key>.json``), written
    atomically: a killed run leaves whole entries or none."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Message | None:
        path = self.path(key)
        return io.read_json(path) if path.is_file() else None

    def put(self, key: str, message: Message) -> None:
        io.write_json(self.path(key), message)


class BudgetExceeded(TeachwhyError):
    """The next request could cross ``generation.budget_usd``; nothing more was sent."""


@dataclass(frozen=True)
class Prices:
    """Dollars per million tokens for one model, from the dated price table in config."""

    input: float
    output: float
    cache_write: float
    cache_read: float
    batch_discount: float = 0.5

    def cost(self, usage: dict[str, int], batch: bool) -> float:
        dollars = (
            usage.get("input_tokens", 0) * self.input
            + usage.get("output_tokens", 0) * self.output
            + (usage.get("cache_creation_input_tokens") or 0) * self.cache_write
            + (usage.get("cache_read_input_tokens") or 0) * self.cache_read
        ) / 1e6
        return dollars * (self.batch_discount if batch else 1.0)


def estimate_input_tokens(params: Params) -> int:
    """A generous estimate of a request's input tokens (about four characters a token)."""
    return len(json.dumps({k: params.get(k) for k in ("system", "messages")})) // 3 + 1


class Ledger:
    """Spend, one JSON line per paid answer (appended as it arrives), against a hard cap."""

    def __init__(
        self, path: str | Path, prices: dict[str, Prices], budget_usd: float, label: str
    ) -> None:
        self.path, self.prices, self.budget, self.label = Path(path), prices, budget_usd, label
        self._lock = threading.Lock()
        self._pending = 0.0
        self.spent = 0.0
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self.spent += json.loads(line)["usd"]

    def price(self, model: str) -> Prices:
        if model not in self.prices:
            raise TeachwhyError(f"no price for model '{model}' in generation.prices")
        return self.prices[model]

    def worst_case(self, params: Params, batch: bool) -> float:
        usage = {
            "input_tokens": estimate_input_tokens(params),
            "output_tokens": params["max_tokens"],
        }
        return self.price(params["model"]).cost(usage, batch)

    def reserve(self, dollars: float) -> None:
        """Hold ``dollars`` of the budget for a request about to be sent, or refuse it."""
        with self._lock:
            if self.spent + self._pending + dollars > self.budget:
                raise BudgetExceeded(
                    f"{self.label}: the next request could cost ${dollars:.4f}, and "
                    f"${self.spent:.4f} spent plus ${self._pending:.4f} in flight would then "
                    f"cross the budget of ${self.budget:.2f} (generation.budget_usd); nothing "
                    "more was sent. A rerun with a higher budget continues from the cache."
                )
            self._pending += dollars

    def release(self, dollars: float) -> None:
        with self._lock:
            self._pending = max(0.0, self._pending - dollars)

    def record(self, key: str, message: Message, batch: bool) -> float:
        dollars = self.price(message["model"]).cost(message["usage"], batch)
        line = {"key": key, "model": message["model"], "batch": batch, "usd": dollars}
        line["usage"] = message["usage"]
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, sort_keys=True) + "\n")
            self.spent += dollars
        return dollars


@dataclass
class Counts:
    """What a run did: requests sent (answers paid), cache hits, answers cut at max_tokens,
    batch requests resubmitted, and dollars."""

    sent: int = 0
    cache_hits: int = 0
    truncated: int = 0
    dropped: int = 0
    resubmitted: int = 0
    batches: int = 0
    usd: float = 0.0
    models: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k != "models"}
        return {**out, "usd": round(self.usd, 6), "models": sorted(self.models)}


def _message_dict(message: Any) -> Message:
    return message if isinstance(message, dict) else message.model_dump(mode="json")


class Requester:
    """Answers for many requests, from the cache first, then from Claude.

    ``client`` is an ``anthropic.Anthropic``; ``on_max_tokens`` is ``retry`` (send once more,
    in a later batch on the batch path, and keep what comes last) or ``drop`` (no answer for
    that request); cut-off answers are paid for and counted either way."""

    def __init__(
        self,
        client: Any,
        cache: ResponseCache,
        ledger: Ledger,
        state_dir: str | Path,
        concurrency: int = 4,
        on_max_tokens: str = "drop",
        poll_seconds: float = 5.0,
        max_poll_seconds: float = 60.0,
        rounds: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if on_max_tokens not in ("retry", "drop"):
            raise ValueError(f"on_max_tokens must be 'retry' or 'drop', not {on_max_tokens!r}")
        self.client, self.cache, self.ledger = client, cache, ledger
        self.state_dir = Path(state_dir)
        self.concurrency, self.on_max_tokens = concurrency, on_max_tokens
        self.poll_seconds, self.max_poll_seconds, self.rounds = (
            poll_seconds,
            max_poll_seconds,
            rounds,
        )
        self.sleep = sleep
        self.counts = Counts()
        self._lock = threading.Lock()

    # ---- shared ---------------------------------------------------------------------------

    def _cached(self, requests: dict[str, tuple[Params, str]]) -> tuple[dict, dict]:
        """(answers found in the cache, the requests still to send), by request id."""
        found, todo = {}, {}
        for rid, (params, template) in requests.items():
            key = request_key(params, template)
            message = self.cache.get(key)
            if message is None:
                todo[rid] = (params, key)
            else:
                found[rid] = message
        with self._lock:
            self.counts.cache_hits += len(found)
        return found, todo

    def _pay(self, key: str, message: Message, batch: bool) -> bool:
        """Record an answer's cost and counts; whether it was cut off at max_tokens."""
        dollars = self.ledger.record(key, message, batch)
        cut = message.get("stop_reason") == "max_tokens"
        with self._lock:
            self.counts.sent += 1
            self.counts.usd += dollars
            self.counts.models.add(message["model"])
            self.counts.truncated += cut
        return cut

    def _settle(self, key: str, message: Message, cut: bool, last_try: bool) -> Message | None:
        """Cache and return an answer; a cut-off one is dropped under ``drop`` and kept only
        on its last try under ``retry``. None when there is no answer (yet)."""
        if cut and (self.on_max_tokens == "drop" or not last_try):
            with self._lock:
                self.counts.dropped += self.on_max_tokens == "drop"
            return None
        self.cache.put(key, message)
        return message

    # ---- Messages API ---------------------------------------------------------------------

    def direct(self, requests: dict[str, tuple[Params, str]]) -> dict[str, Message]:
        """Answers for ``requests`` (id -> (params, template hash)) through the Messages API,
        at most ``concurrency`` in flight. A cut-off answer is retried once under ``retry``."""
        found, todo = self._cached(requests)

        tries = 2 if self.on_max_tokens == "retry" else 1

        def one(item: tuple[str, tuple[Params, str]]) -> tuple[str, Message | None]:
            rid, (params, key) = item
            for attempt in range(tries):
                worst = self.ledger.worst_case(params, batch=False)
                self.ledger.reserve(worst)
                try:
                    message = _message_dict(self.client.messages.create(**params))
                finally:
                    self.ledger.release(worst)
                cut = self._pay(key, message, batch=False)
                kept = self._settle(key, message, cut, last_try=attempt == tries - 1)
                if kept is not None or not cut or self.on_max_tokens == "drop":
                    return rid, kept
            return rid, None

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for rid, message in pool.map(one, todo.items()):
                if message is not None:
                    found[rid] = message
        return found

    # ---- Message Batches API --------------------------------------------------------------

    def _state(self, name: str, keys: list[str]) -> Path:
        digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]
        return self.state_dir / f"{name}-{digest}.batch.json"

    def _wait(self, batch_id: str) -> Any:
        delay = self.poll_seconds
        while True:
            batch = self.client.messages.batches.retrieve(batch_id)
            if batch.processing_status == "ended":
                return batch
            self.sleep(delay)
            delay = min(self.max_poll_seconds, delay * 2)

    def batch(self, name: str, requests: dict[str, tuple[Params, str]]) -> dict[str, Message]:
        """Answers for ``requests`` through the Message Batches API (half price). A batch
        already created for the same requests (its id on disk) is polled, not created again;
        requests that errored or expired are resubmitted, up to ``rounds`` batches."""
        found, todo = self._cached(requests)
        for round_ in range(self.rounds):
            if not todo:
                break
            ids = {params_key[1]: rid for rid, params_key in todo.items()}
            state = self._state(name, list(ids))
            if state.is_file():
                batch_id = io.read_json(state)["batch_id"]
            else:
                worst = sum(self.ledger.worst_case(p, batch=True) for p, _ in todo.values())
                self.ledger.reserve(worst)
                try:
                    created = self.client.messages.batches.create(
                        requests=[{"custom_id": k, "params": p} for p, k in todo.values()]
                    )
                finally:
                    self.ledger.release(worst)
                batch_id = created.id
                self.state_dir.mkdir(parents=True, exist_ok=True)
                io.write_json(state, {"batch_id": batch_id, "requests": len(todo)})
                with self._lock:
                    self.counts.batches += 1
            self._wait(batch_id)
            retry = {}
            for line in self.client.messages.batches.results(batch_id):
                rid = ids.get(line.custom_id)
                if rid is None:
                    continue
                if line.result.type == "succeeded":
                    message = _message_dict(line.result.message)
                    cut = self._pay(line.custom_id, message, batch=True)
                    last = round_ == self.rounds - 1
                    kept = self._settle(line.custom_id, message, cut, last_try=last)
                    if kept is not None:
                        found[rid] = kept
                    elif self.on_max_tokens == "retry":
                        retry[rid] = todo[rid]
                else:
                    retry[rid] = todo[rid]
            state.unlink()
            with self._lock:
                self.counts.resubmitted += len(retry)
            todo = retry
        return found
