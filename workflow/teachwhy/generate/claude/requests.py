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

import contextlib
import fcntl
import hashlib
import inspect
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
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


# What one Message Batches request may hold (the API takes 100,000 requests or 256 MB).
BATCH_MAX_REQUESTS = 100_000
BATCH_MAX_BYTES = 200 * 1024 * 1024


class ApiError(TeachwhyError):
    """The API refused a request in a way a retry cannot mend (bad model, bad key, too big)."""


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
    """A generous estimate of a request's input tokens (a token per three characters of its
    JSON, where text averages about four), for the worst case a request is reserved at."""
    return len(json.dumps({k: params.get(k) for k in ("system", "messages")})) // 3 + 1


class Ledger:
    """Spend against a hard cap, shared by every generation job of a run.

    Each job appends one JSON line per paid answer to its own file in ``root`` as the answer
    arrives; spent is the sum over all files. A request about to be sent reserves its worst
    case under a file lock, and the reservation is visible to the other jobs (a file per
    process, ignored once that process is gone), so jobs running side by side cannot cross
    ``budget_usd`` together. A batch answer is recorded once per (batch, request), so a rerun
    that reads a batch's results again does not count them twice.
    """

    def __init__(
        self, root: str | Path, prices: dict[str, Prices], budget_usd: float, label: str
    ) -> None:
        self.root, self.prices, self.budget, self.label = Path(root), prices, budget_usd, label
        # How the budget stop names what was being generated (a dataset and its step).
        self.what = label
        self.file = self.root / f"{label}.jsonl"
        self._pending_file = (
            self.root / "pending" / f"{label}-{socket.gethostname()}-{os.getpid()}.json"
        )
        self._lock = threading.Lock()
        self._pending = 0.0
        self._offsets: dict[Path, int] = {}
        self._seen: set[tuple[str, str]] = set()
        self._spent_by: dict[str, float] = {}
        self._spent = 0.0
        with self._locked():
            self._refresh()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This process's lock, then the lock every job of the run shares."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _refresh(self) -> None:
        """Read the lines appended to any ledger file since the last look."""
        for path in sorted(self.root.glob("*.jsonl")):
            with open(path, "rb") as handle:
                handle.seek(self._offsets.get(path, 0))
                data = handle.read()
            end = data.rfind(b"\n") + 1  # a line still being written is read next time
            self._offsets[path] = self._offsets.get(path, 0) + end
            for line in data[:end].decode("utf-8").splitlines():
                if not line.strip():
                    continue
                entry = json.loads(line)
                self._spent += entry["usd"]
                self._spent_by[entry["key"]] = self._spent_by.get(entry["key"], 0.0) + entry["usd"]
                if entry.get("batch_id"):
                    self._seen.add((entry["batch_id"], entry["key"]))

    def _others_pending(self) -> float:
        total = 0.0
        for path in (self.root / "pending").glob("*.json"):
            if path == self._pending_file:
                continue
            try:
                held = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if _holding(held, path):
                total += held.get("usd", 0.0)
        return total

    def _write_pending(self) -> None:
        if self._pending > 0:
            held = {"pid": os.getpid(), "host": socket.gethostname(), "usd": self._pending}
            io.write_json(self._pending_file, held)
        else:
            self._pending_file.unlink(missing_ok=True)

    @property
    def spent(self) -> float:
        """Dollars paid so far by every job of the run, as the ledger files say now."""
        with self._locked():
            self._refresh()
            return self._spent

    def spent_on(self, key: str) -> float:
        """Dollars paid so far for one request (a retried request paid more than once)."""
        with self._locked():
            self._refresh()
            return self._spent_by.get(key, 0.0)

    def price(self, model: str) -> Prices:
        """A model's prices; a reported id that extends a priced one (a dated snapshot of it)
        takes that one's prices."""
        if model in self.prices:
            return self.prices[model]
        for priced in sorted(self.prices, key=len, reverse=True):
            if model.startswith(priced + "-"):
                return self.prices[priced]
        raise TeachwhyError(f"no price for model '{model}' in generation.prices")

    def available(self) -> float:
        """Dollars left for new requests: the budget less spend and every job's reservations."""
        with self._locked():
            self._refresh()
            return self.budget - self._spent - self._pending - self._others_pending()

    def hold(self, dollars: float) -> None:
        """Reserve ``dollars`` without a check: a batch already paid for, being resumed."""
        with self._locked():
            self._pending += dollars
            self._write_pending()

    def worst_case(self, params: Params, batch: bool) -> float:
        usage = {
            "input_tokens": estimate_input_tokens(params),
            "output_tokens": params["max_tokens"],
        }
        return self.price(params["model"]).cost(usage, batch)

    def reserve(self, dollars: float) -> None:
        """Hold ``dollars`` of the budget for a request about to be sent, or refuse it."""
        with self._locked():
            self._refresh()
            others = self._others_pending()
            held = self._pending + others
            if self._spent + held + dollars > self.budget:
                raise BudgetExceeded(
                    f"{self.what}: the next request could cost ${dollars:.4f}, and "
                    f"${self._spent:.4f} spent plus ${held:.4f} in flight would then "
                    f"cross the budget of ${self.budget:.2f} (generation.budget_usd); nothing "
                    "more was sent. A rerun with a higher budget continues from the cache."
                )
            self._pending += dollars
            self._write_pending()

    def release(self, dollars: float) -> None:
        with self._locked():
            self._pending = max(0.0, self._pending - dollars)
            self._write_pending()

    def record(
        self, key: str, message: Message, batch: bool, batch_id: str | None = None
    ) -> float | None:
        """Write one paid answer's cost; None when this batch's answer is already written."""
        dollars = self.price(message["model"]).cost(message["usage"], batch)
        line = {"key": key, "model": message["model"], "batch": batch, "usd": dollars}
        line["usage"] = message["usage"]
        if batch_id:
            line["batch_id"] = batch_id
        with self._locked():
            self._refresh()
            if batch_id and (batch_id, key) in self._seen:
                return None
            with open(self.file, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, sort_keys=True) + "\n")
        return dollars


# A reservation from another node cannot be checked for a live process; one this old is
# stale (a batch ends within 24 hours).
STALE_RESERVATION_SECONDS = 25 * 3600


def _holding(held: dict[str, Any], path: Path) -> bool:
    """Whether a reservation file still holds budget: its process is alive on this host, or,
    from another host (a cluster node), it was written in the last 25 hours."""
    if held.get("host", socket.gethostname()) != socket.gethostname():
        try:
            return time.time() - path.stat().st_mtime < STALE_RESERVATION_SECONDS
        except OSError:
            return False
    return _alive(held.get("pid", -1))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


@dataclass
class Counts:
    """What a run did: requests sent (answers paid), cache hits, answers cut at max_tokens,
    batch requests resubmitted, and dollars."""

    sent: int = 0
    cache_hits: int = 0
    truncated: int = 0
    dropped: int = 0
    resubmitted: int = 0
    unanswered: int = 0
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
        create_tries: int = 5,
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
        self.sleep, self.create_tries = sleep, create_tries
        self.counts = Counts()
        self._lock = threading.Lock()

    # ---- shared ---------------------------------------------------------------------------

    def _cached(self, requests: dict[str, tuple[Params, str]]) -> tuple[dict, dict]:
        """(answers found in the cache, the requests still to send), by request id. A cached
        answer cut at max_tokens is final (it was paid for on its last try): it is counted as
        dropped, never sent again."""
        found, todo = {}, {}
        for rid, (params, template) in requests.items():
            key = request_key(params, template)
            message = self.cache.get(key)
            if message is None:
                todo[rid] = (params, key)
            elif self._final(message) is not None:
                found[rid] = message
        with self._lock:
            self.counts.cache_hits += len(requests) - len(todo)
        return found, todo

    def _final(self, message: Message) -> Message | None:
        if message.get("stop_reason") == "max_tokens":
            with self._lock:
                self.counts.dropped += 1
            return None
        return message

    def _pay(self, key: str, message: Message, batch: bool, batch_id: str | None = None) -> bool:
        """Record an answer's cost and counts; whether it was cut off at max_tokens."""
        dollars = self.ledger.record(key, message, batch, batch_id)
        cut = message.get("stop_reason") == "max_tokens"
        with self._lock:
            if dollars is not None:
                self.counts.sent += 1
                self.counts.usd += dollars
                self.counts.truncated += cut
            self.counts.models.add(message["model"])
        return cut

    def _settle(self, key: str, message: Message, cut: bool, last_try: bool) -> Message | None:
        """Cache an answer and return it when it is final and whole. A cut-off answer is
        sent again under ``retry`` unless this was its last try; whatever comes last is
        cached (a rerun never pays for it again), and a cut-off one is never returned."""
        if cut and self.on_max_tokens == "retry" and not last_try:
            return None
        entry = {**message, "batch": bool(message.get("batch"))}
        self.cache.put(key, entry)
        return self._final(entry)

    # ---- Messages API ---------------------------------------------------------------------

    def _send(self, params: Params) -> Any:
        """One Messages API call. Request fields this SDK's ``create`` does not name (anthropic
        2.x dropped ``temperature`` from its signature; the API still reads it for the models
        that take it) go in the body as they are, so the request sent is the one cached."""
        create = self.client.messages.create
        named = inspect.signature(create).parameters
        extra = {k: v for k, v in params.items() if k not in named}
        known = {k: v for k, v in params.items() if k in named}
        return create(**known, extra_body=extra) if extra else create(**known)

    def direct(
        self, requests: dict[str, tuple[Params, str]], progress: Any = None
    ) -> dict[str, Message]:
        """Answers for ``requests`` (id -> (params, template hash)) through the Messages API,
        at most ``concurrency`` in flight. A cut-off answer is retried once under ``retry``."""
        found, todo = self._cached(requests)
        if progress is not None:
            progress.update(len(requests) - len(todo))
        tries = 2 if self.on_max_tokens == "retry" else 1

        def one(item: tuple[str, tuple[Params, str]]) -> tuple[str, Message | None]:
            rid, (params, key) = item
            kept = None
            for attempt in range(tries):
                worst = self.ledger.worst_case(params, batch=False)
                self.ledger.reserve(worst)
                try:
                    message = _message_dict(self._send(params))
                finally:
                    self.ledger.release(worst)
                cut = message.get("stop_reason") == "max_tokens"
                # Cached before it is priced: a paid answer is never lost to a ledger error.
                kept = self._settle(key, message, cut, last_try=attempt == tries - 1)
                self._pay(key, message, batch=False)
                if not cut or attempt == tries - 1:
                    break
            if progress is not None:
                progress.update(1)
            return rid, kept

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for rid, message in pool.map(one, todo.items()):
                if message is not None:
                    found[rid] = message
        return found

    # ---- Message Batches API --------------------------------------------------------------

    def _state(self, name: str) -> Path:
        return self.state_dir / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.batch.json"

    def _wait(self, batch_id: str, progress: Any = None) -> Any:
        delay = self.poll_seconds
        while True:
            batch = self.client.messages.batches.retrieve(batch_id)
            if progress is not None:
                counts = batch.request_counts
                progress.set_postfix_str(
                    f"batch {batch.processing_status}: {counts.succeeded} ok, "
                    f"{counts.errored} errored, {counts.processing} processing"
                )
            if batch.processing_status == "ended":
                return batch
            self.sleep(delay)
            delay = min(self.max_poll_seconds, delay * 2)

    def _collect(self, batch_id: str, last_try: Callable[[str], bool]) -> None:
        """Cache and pay for every succeeded answer of an ended batch. A cut-off answer whose
        ``last_try`` is false stays uncached under ``retry``, so it is sent once more."""
        for line in self.client.messages.batches.results(batch_id):
            if line.result.type != "succeeded":
                continue
            message = {**_message_dict(line.result.message), "batch": True}
            cut = message.get("stop_reason") == "max_tokens"
            self._settle(line.custom_id, message, cut, last_try=last_try(line.custom_id))
            self._pay(line.custom_id, message, batch=True, batch_id=batch_id)

    def _resume(self, state: Path, progress: Any) -> None:
        """Finish the batch a killed run left: poll it and collect its answers (already paid
        for) before anything new is planned. Its worst case is held again meanwhile."""
        saved = io.read_json(state)
        batch_id = saved.get("batch_id") or self._find_created(saved)
        if batch_id is not None:
            self.ledger.hold(saved["worst_usd"])
            try:
                self._wait(batch_id, progress)
                self._collect(batch_id, last_try=lambda key: False)
            except Exception as exc:
                # A batch the API no longer has (deleted, or its results archived) cannot be
                # collected: its requests are planned again. Anything else stops the run.
                if getattr(exc, "status_code", None) != 404:
                    raise
            finally:
                self.ledger.release(saved["worst_usd"])
        state.unlink()

    def _find_created(self, intent: dict[str, Any]) -> str | None:
        """The batch a create call made before its reply was lost: the newest batch created
        after the call began that holds as many requests, or None."""
        since = intent["since"]
        for batch in self.client.messages.batches.list(limit=20):
            created = batch.created_at.timestamp()
            counts = batch.request_counts
            held = (
                counts.processing + counts.succeeded + counts.errored + counts.canceled
                + counts.expired
            )  # fmt: skip
            if created >= since - 1 and held == intent["requests"]:
                return batch.id
        return None

    def _create(self, state: Path, chunk: list[tuple[Params, str]], worst: float) -> str:
        """Create one batch, never two: the intent (time, size) is on disk before the call,
        the call is made without the SDK's retries, and after a failure the batch list is
        searched for one the call made before anything is sent again."""
        import anthropic  # deferred: the toy world imports this module and never sends

        intent = {"since": time.time(), "requests": len(chunk), "worst_usd": worst}
        io.write_json(state, intent)
        requests = [{"custom_id": k, "params": p} for p, k in chunk]
        delay = self.poll_seconds
        for attempt in range(self.create_tries):
            try:
                created = self.client.with_options(max_retries=0).messages.batches.create(
                    requests=requests
                )
                batch_id = created.id
            except (anthropic.APIConnectionError, anthropic.APIStatusError) as exc:
                status = getattr(exc, "status_code", None)
                if status is not None and status < 500 and status not in (408, 409, 429):
                    raise ApiError(f"the batch was refused ({status}): {exc}") from None
                batch_id = self._find_created(intent)
                if batch_id is None:
                    if attempt == self.create_tries - 1:
                        raise ApiError(f"could not create a batch: {exc}") from None
                    self.sleep(delay)
                    delay = min(self.max_poll_seconds, delay * 2)
                    continue
            io.write_json(state, {**intent, "batch_id": batch_id})
            with self._lock:
                self.counts.batches += 1
            return batch_id
        raise AssertionError("unreachable")

    def _chunk(self, todo: dict[str, tuple[Params, str]]) -> tuple[list[str], float]:
        """The next requests to batch: as many as the API takes in one batch and the budget
        left can pay for at their worst; none fitting is the budget stop."""
        left = self.ledger.available()
        rids: list[str] = []
        total, size = 0.0, 0
        for rid, (params, _) in todo.items():
            worst = self.ledger.worst_case(params, batch=True)
            body = len(json.dumps(params)) + 200
            if len(rids) >= BATCH_MAX_REQUESTS or size + body > BATCH_MAX_BYTES:
                break
            if total + worst > left:
                if not rids:
                    # Raises BudgetExceeded naming the amounts (or, if another job just freed
                    # its share, this one request goes alone).
                    self.ledger.reserve(worst)
                    self.ledger.release(worst)
                    rids.append(rid)
                    total = worst
                break
            rids.append(rid)
            total, size = total + worst, size + body
        return rids, total

    def batch(
        self, name: str, requests: dict[str, tuple[Params, str]], progress: Any = None
    ) -> dict[str, Message]:
        """Answers for ``requests`` through the Message Batches API (half price).

        One batch in flight per step, its state at ``<state_dir>/<name>.batch.json``: a rerun
        after a kill finishes that batch first. Batches are cut to the API's limits and to the
        budget left, so the run stops before a request that could cross it. A request that
        errored or expired is sent again, up to ``rounds`` times; a cut-off one once more
        under ``retry``."""
        state = self._state(name)
        if state.is_file():
            self._resume(state, progress)
        found, todo = self._cached(requests)
        if progress is not None:
            progress.update(len(requests) - len(todo))
        tries: dict[str, int] = {}
        while todo:
            rids, worst = self._chunk(todo)
            chunk = {rid: todo[rid] for rid in rids}
            self.ledger.reserve(worst)
            try:
                batch_id = self._create(state, list(chunk.values()), worst)
                self._wait(batch_id, progress)
                for _, key in chunk.values():
                    tries[key] = tries.get(key, 0) + 1
                self._collect(batch_id, last_try=lambda key: tries.get(key, 0) >= 2)
            finally:
                self.ledger.release(worst)
            state.unlink()
            answered, still = self._answered(chunk)
            found.update(answered)
            again = {rid: v for rid, v in still.items() if tries[v[1]] < self.rounds}
            with self._lock:
                self.counts.resubmitted += len(again)
                self.counts.unanswered += len(still) - len(again)
            todo = {rid: v for rid, v in todo.items() if rid not in chunk} | again
            if progress is not None:
                progress.update(len(answered))
        return found

    def _answered(
        self, todo: dict[str, tuple[Params, str]]
    ) -> tuple[dict[str, Message], dict[str, tuple[Params, str]]]:
        """Split requests into those the cache now answers (whole answers only; a cut-off one
        is final and dropped) and those still open."""
        answered, still = {}, {}
        for rid, (params, key) in todo.items():
            message = self.cache.get(key)
            if message is None:
                still[rid] = (params, key)
            elif message.get("stop_reason") != "max_tokens":
                answered[rid] = message
        return answered, still
