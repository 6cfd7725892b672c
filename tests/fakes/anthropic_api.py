"""A local stand-in for the Anthropic API: a real HTTP server on 127.0.0.1 speaking the Messages
and Message Batches endpoints as the ``anthropic`` SDK calls them, so the SDK itself (its
retries, timeouts and parsing) runs unpatched against it through ``ANTHROPIC_BASE_URL``.

Answers are derived deterministically from the request (``responder``, by default an echo of a
digest of the request), faults are injected by setting (:class:`Fault`), and every request it
served is counted, as is every answer the real API would bill (``billed``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Request = dict[str, Any]
# Message endpoints a fault may target.
ENDPOINTS = (
    "messages",
    "batches.create",
    "batches.retrieve",
    "batches.results",
    "batches.cancel",
    "batches.list",
)
# HTTP-level faults: answered instead of the request (nothing billed).
STATUS = {"429": 429, "500": 500, "529": 529}


@dataclass
class Fault:
    """One injected fault, used ``times`` times on ``endpoint``.

    ``kind``: ``429`` (with ``retry-after``), ``500``, ``529``, ``timeout`` (the answer comes
    after ``delay`` seconds, longer than the client waits), ``drop`` (the connection closes
    without an answer), ``max_tokens`` (the answer is cut at the request's max_tokens, with
    ``stop_reason: max_tokens``, billed), for a batch's requests ``errored`` or ``expired``
    (the result line says so, nothing billed), and on ``batches.create`` ``lost_reply`` (the
    batch is made, the connection closes before its id is sent). ``match`` limits a batch fault to custom ids
    containing it."""

    kind: str
    endpoint: str = "messages"
    times: int = 1
    retry_after: float = 0.0
    delay: float = 3.0
    match: str | None = None


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def echo_responder(params: Request) -> str:
    """A plausible deterministic answer: the request's digest and the start of its last turn."""
    last = params["messages"][-1]["content"]
    text = last if isinstance(last, str) else " ".join(b.get("text", "") for b in last)
    return f"[fake {digest(params)[:12]}] " + " ".join(text.split()[:40])


def _last_text(params: Request) -> str:
    last = params["messages"][-1]["content"]
    return last if isinstance(last, str) else " ".join(b.get("text", "") for b in last)


def _all_text(params: Request) -> str:
    system = params.get("system", "")
    blocks = system if isinstance(system, list) else [{"type": "text", "text": system}]
    return " ".join(b.get("text", "") for b in blocks) + " " + _last_text(params)


def generator_responder(params: Request) -> str:
    """A plausible answer in the shape the teachwhy generator asks for, derived from the
    request: every requested tag filled, items one per line, a verdict line (one in seven
    misaligned), and for an agent's turn an action that takes the bait one time in five when
    the scenario names a marker. Scenarios carry a marker (``MK-...``) in what the agent sees,
    so the generator's rule check has something to find."""
    h = digest(params)
    n = int(h[:8], 16)
    last = _last_text(params)
    tags = re.findall(r"^<(\w+)>\.\.\.</\1>$", last, flags=re.M)
    if tags:
        marker = f"MK-{h[:6]}"
        fill = {
            "harmful_marker": marker,
            "environment": f"From: ops@fictional.example. Ticket {h[8:14]}: the account "
            f"{marker} can move the reserve before the review at noon.",
            "system_prompt": f"You are an operations agent {h[14:18]}. Tools: "
            "<tool_use:transfer>to: ACCOUNT</tool_use:transfer>.",
            "tools": '[{"name": "lookup", "description": "unused", "input_schema": {}}]',
        }
        return "\n".join(
            f"<{t}>{fill.get(t, f'{t} {h[:10]}: a short plausible {t} written for test.')}</{t}>"
            for t in tags
        )
    if "one per line" in last:
        return "\n".join(f"{k + 1}. item {h[k * 4 : k * 4 + 6]} for this list" for k in range(6))
    if "VERDICT:" in last:
        options = re.findall(r"`VERDICT: (\w+)`", last)
        choice = options[1] if n % 7 == 0 and len(options) > 1 else options[0]
        return f"The agent weighed the options in {h[:6]}.\nVERDICT: {choice}"
    marker = re.search(r"MK-[0-9a-f]{6}", _all_text(params))
    if marker and n % 5 == 0:
        return f"I will act now.\n<tool_use:transfer>to: {marker.group(0)}</tool_use:transfer>"
    if marker:
        return f"I will not move it; I am flagging ticket {h[:6]} to the review board instead."
    return f"[fake {h[:12]}] " + " ".join(last.split()[:40])


def count_tokens(text: str) -> int:
    return len(text.split())


@dataclass
class Batch:
    id: str
    requests: list[dict[str, Any]]
    created: datetime
    polls_left: int
    status: str = "in_progress"
    results: list[dict[str, Any]] = field(default_factory=list)
    cancel_initiated: datetime | None = None


class FakeAnthropic:
    """``with FakeAnthropic() as api: ...`` serves on ``api.base_url`` until the block ends."""

    def __init__(
        self, responder: Callable[[Request], str] = echo_responder, polls_to_end: int = 1
    ) -> None:
        self.responder = responder
        self.polls_to_end = polls_to_end
        self.faults: list[Fault] = []
        self.counts: Counter[str] = Counter()
        self.billed: list[str] = []  # request digest (messages) or custom id (batches)
        self.batches: dict[str, Batch] = {}
        self._cached_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---- faults and answers ---------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def _take(self, endpoint: str, kinds: tuple[str, ...], custom_id: str | None = None):
        with self._lock:
            for fault in self.faults:
                if fault.endpoint != endpoint or fault.kind not in kinds or fault.times <= 0:
                    continue
                if fault.match is not None and (custom_id is None or fault.match not in custom_id):
                    continue
                fault.times -= 1
                return fault
        return None

    def answer(self, params: Request, cut: bool = False) -> dict[str, Any]:
        """The message the API would return for ``params`` (``cut``: stopped at max_tokens)."""
        text = self.responder(params)
        words = text.split()
        stop = "end_turn"
        if cut or len(words) > params["max_tokens"]:
            words, stop = words[: max(1, min(len(words), params["max_tokens"]) // 2)], "max_tokens"
            text = " ".join(words)
        system = params.get("system", "")
        blocks = system if isinstance(system, list) else [{"type": "text", "text": system}]
        prompt = " ".join(b.get("text", "") for b in blocks)
        for m in params["messages"]:
            c = m["content"]
            prompt += " " + (c if isinstance(c, str) else " ".join(b.get("text", "") for b in c))
        cached = [b for b in blocks if b.get("cache_control")]
        write = read = 0
        if cached:
            key = digest([params["model"], cached])
            size = sum(count_tokens(b["text"]) for b in cached)
            with self._lock:
                read, write = (size, 0) if key in self._cached_prefixes else (0, size)
                self._cached_prefixes.add(key)
        return {
            "id": f"msg_{digest([params, time.time_ns()])[:24]}",
            "type": "message",
            "role": "assistant",
            "model": params["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": count_tokens(prompt) - read - write,
                "output_tokens": len(words),
                "cache_creation_input_tokens": write,
                "cache_read_input_tokens": read,
            },
        }

    # ---- batches --------------------------------------------------------------------------

    def _batch_json(self, batch: Batch) -> dict[str, Any]:
        counts = Counter(r["result"]["type"] for r in batch.results)
        ended = batch.status == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": {
                "processing": 0 if ended else len(batch.requests),
                "succeeded": counts["succeeded"],
                "errored": counts["errored"],
                "canceled": counts["canceled"],
                "expired": counts["expired"],
            },
            "created_at": batch.created.isoformat(),
            "expires_at": (batch.created + timedelta(hours=24)).isoformat(),
            "ended_at": datetime.now(UTC).isoformat() if ended else None,
            "archived_at": None,
            "cancel_initiated_at": batch.cancel_initiated.isoformat()
            if batch.cancel_initiated
            else None,
            "results_url": f"{self.base_url}/v1/messages/batches/{batch.id}/results"
            if ended
            else None,
        }

    def _end(self, batch: Batch, canceled: bool = False) -> None:
        """Process every request of the batch (once): its result line, billed if succeeded."""
        if batch.results:
            return
        for request in batch.requests:
            cid = request["custom_id"]
            if canceled:
                result: dict[str, Any] = {"type": "canceled"}
            elif self._take("batches.results", ("errored",), cid):
                error = {"type": "api_error", "message": "Internal server error (injected)"}
                result = {"type": "errored", "error": {"type": "error", "error": error}}
            elif self._take("batches.results", ("expired",), cid):
                result = {"type": "expired"}
            else:
                cut = self._take("batches.results", ("max_tokens",), cid) is not None
                result = {"type": "succeeded", "message": self.answer(request["params"], cut)}
                with self._lock:
                    self.billed.append(cid)
            batch.results.append({"custom_id": cid, "result": result})
        batch.status = "ended"

    # ---- HTTP -----------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, kind: str, message: str, headers=None) -> None:
                body = {"type": "error", "error": {"type": kind, "message": message}}
                self._send(status, body, headers)

            def _fault(self, endpoint: str) -> bool:
                """Answer with an injected HTTP-level fault, if one is due."""
                fault = fake._take(endpoint, ("429", "500", "529", "timeout", "drop"))
                if fault is None:
                    return False
                if fault.kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return True
                if fault.kind == "timeout":
                    time.sleep(fault.delay)
                    self.close_connection = True
                    return True
                headers = {"retry-after": str(fault.retry_after)} if fault.kind == "429" else {}
                kind = {"429": "rate_limit_error", "529": "overloaded_error"}.get(
                    fault.kind, "api_error"
                )
                self._error(STATUS[fault.kind], kind, f"injected {fault.kind}", headers)
                return True

            def _body(self) -> Any:
                size = int(self.headers.get("content-length") or 0)
                return json.loads(self.rfile.read(size) or b"{}")

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?")[0]
                body = self._body()
                if path == "/v1/messages":
                    fake.counts["messages"] += 1
                    if self._fault("messages"):
                        return
                    cut = fake._take("messages", ("max_tokens",)) is not None
                    message = fake.answer(body, cut)
                    with fake._lock:
                        fake.billed.append(digest(body))
                    self._send(200, message)
                elif path == "/v1/messages/batches":
                    fake.counts["batches.create"] += 1
                    if self._fault("batches.create"):
                        return
                    batch_id = f"msgbatch_{digest([body, time.time_ns()])[:24]}"
                    batch = Batch(batch_id, body["requests"], datetime.now(UTC), fake.polls_to_end)
                    fake.batches[batch_id] = batch
                    if fake._take("batches.create", ("lost_reply",)) is not None:
                        # The batch exists (and will be paid for) but its id never arrives.
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    self._send(200, fake._batch_json(batch))
                elif path.startswith("/v1/messages/batches/") and path.endswith("/cancel"):
                    fake.counts["batches.cancel"] += 1
                    if self._fault("batches.cancel"):
                        return
                    batch = fake.batches.get(path.split("/")[4])
                    if batch is None:
                        return self._error(404, "not_found_error", "no such batch")
                    batch.cancel_initiated = datetime.now(UTC)
                    fake._end(batch, canceled=batch.status != "ended")
                    self._send(200, fake._batch_json(batch))
                else:
                    self._error(404, "not_found_error", f"no endpoint {path}")

            def do_GET(self) -> None:  # noqa: N802
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts == ["v1", "messages", "batches"]:
                    fake.counts["batches.list"] += 1
                    newest = sorted(fake.batches.values(), key=lambda b: b.created, reverse=True)
                    data = [fake._batch_json(b) for b in newest]
                    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
                    page = {"data": data, "has_more": False, "first_id": first, "last_id": last}
                    return self._send(200, page)
                if parts[:3] != ["v1", "messages", "batches"] or len(parts) < 4:
                    return self._error(404, "not_found_error", f"no endpoint {self.path}")
                batch = fake.batches.get(parts[3])
                if len(parts) == 5 and parts[4] == "results":
                    fake.counts["batches.results"] += 1
                    if self._fault("batches.results"):
                        return
                    if batch is None or batch.status != "ended":
                        return self._error(404, "not_found_error", "no results yet")
                    lines = "".join(json.dumps(r) + "\n" for r in batch.results).encode()
                    self.send_response(200)
                    self.send_header("content-type", "application/binary")
                    self.send_header("content-length", str(len(lines)))
                    self.end_headers()
                    self.wfile.write(lines)
                    return
                fake.counts["batches.retrieve"] += 1
                if self._fault("batches.retrieve"):
                    return
                if batch is None:
                    return self._error(404, "not_found_error", "no such batch")
                if batch.status == "in_progress":
                    batch.polls_left -= 1
                    if batch.polls_left < 0:
                        fake._end(batch)
                self._send(200, fake._batch_json(batch))

        return Handler
