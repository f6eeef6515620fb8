"""HTTP calls that remember what the server answered: every chaos scenario compares the
answers with the event log afterwards.

Each logical request carries an ``X-Request-ID`` of its own (the same on every retry),
which the service records in the metadata of every event the request writes; so the
log says, for each request, exactly which events it produced."""

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from loadtest.drills.server import PROXY_HEADERS


@dataclass(frozen=True)
class Call:
    kind: str  # what the scenario meant by it: "allocate", "post-entry", ...
    method: str
    path: str
    request_id: str
    started: float
    finished: float
    status: int | None  # None: no HTTP response at all
    body: dict | None = None
    content_type: str = ""
    if_match: bool = False
    error: str = ""
    attempts: int = 1
    headers: dict = field(default_factory=dict)
    sent: dict | None = None  # the JSON body, to send the request again

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def problem(self) -> bool:
        """An error answered as RFC 9457 problem+json."""
        return self.content_type.startswith("application/problem+json")


def new_request_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


@dataclass
class Recorder:
    """Sends requests and keeps every ``Call``; thread-safe."""

    base_url: str
    token: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Token {self.token}", **PROXY_HEADERS}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def send(
        self,
        client: httpx.Client,
        kind: str,
        method: str,
        path: str,
        *,
        json: dict | None = None,
        if_match: str | None = None,
        idempotent: bool = True,
        retry_for: float = 0.0,
        request_id: str = "",
    ) -> Call:
        """One logical request. A POST carries an ``Idempotency-Key`` (the request id);
        with ``retry_for``, a request that got no response at all is sent again with the
        same key and request id until it gets one or the time is up, as the API contract
        tells clients to. Pass the ``request_id`` of an earlier call to send that request
        again (same key, same body)."""
        request_id = request_id or new_request_id(f"{self.run_id}-{kind}")
        headers = {"X-Request-ID": request_id}
        if method == "POST" and idempotent:
            headers["Idempotency-Key"] = request_id
        if if_match is not None:
            headers["If-Match"] = if_match
        started = time.monotonic()
        give_up_at = started + retry_for
        attempt = 0
        while True:
            attempt += 1
            try:
                response = client.request(method, path, json=json, headers=headers)
            except httpx.TransportError as exc:
                if time.monotonic() < give_up_at:
                    time.sleep(min(0.05 * attempt, 0.5))
                    continue
                call = Call(
                    kind,
                    method,
                    path,
                    request_id,
                    started,
                    time.monotonic(),
                    None,
                    if_match=if_match is not None,
                    error=type(exc).__name__,
                    attempts=attempt,
                    sent=json,
                )
                break
            content_type = response.headers.get("content-type", "")
            body = response.json() if content_type.split(";")[0].endswith("json") else None
            call = Call(
                kind,
                method,
                path,
                request_id,
                started,
                time.monotonic(),
                response.status_code,
                body=body,
                content_type=content_type,
                if_match=if_match is not None,
                attempts=attempt,
                headers=dict(response.headers),
                sent=json,
            )
            break
        with self._lock:
            self.calls.append(call)
        return call

    def resend(self, client: httpx.Client, call: Call) -> Call:
        """The same request again: same key, same request id, same body."""
        return self.send(client, call.kind, call.method, call.path, json=call.sent, request_id=call.request_id)

    def acknowledged(self, kind: str | None = None) -> list[Call]:
        return [call for call in self.calls if call.ok and (kind is None or call.kind == kind)]


def errors_by_kind(calls: list[Call]) -> dict[str, int]:
    """Failed calls counted by what went wrong: the status, or the transport error."""
    counts = Counter(str(call.status) if call.status is not None else call.error or "no response" for call in calls)
    return {key: counts[key] for key in sorted(counts) if not key.startswith("2")}


def statuses(calls: list[Call]) -> dict[str, int]:
    counts = Counter(str(call.status) if call.status is not None else "no response" for call in calls)
    return dict(sorted(counts.items()))
