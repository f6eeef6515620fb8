"""A bounded closed-loop load: a few clients, each sending one request after another
until told to stop or until a deadline, recording every outcome."""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from loadtest.drills.server import PROXY_HEADERS


@dataclass(frozen=True)
class Outcome:
    started: float
    finished: float
    status: int | None  # None: no HTTP response at all
    error: str = ""
    body: dict | None = None
    attempts: int = 1
    rollout: str = ""  # the X-Rollout header: the flags active for this request

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# Sends one logical request; the second argument is its Idempotency-Key, the same on
# every attempt.
Send = Callable[[httpx.Client, str], httpx.Response]


@dataclass
class Load:
    """``clients`` threads calling ``send`` in a loop from ``start()`` to ``stop()``; never
    longer than ``max_seconds``. A client stops early after a connection is refused when
    ``stop_on_refused`` (the server has closed its socket, as after SIGTERM).

    With ``retries``, a request that got no response at all (the connection closed under
    it) is sent again with the same Idempotency-Key, as the API contract tells clients to:
    the server executes it at most once either way."""

    base_url: str
    send: Send
    clients: int = 4
    max_seconds: float = 60.0
    stop_on_refused: bool = False
    retries: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _in_flight: int = 0

    def start(self) -> "Load":
        deadline = time.monotonic() + self.max_seconds
        for _ in range(self.clients):
            thread = threading.Thread(target=self._client, args=(deadline,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def halt(self) -> None:
        """No new requests from now on; those in flight carry on."""
        self._stop.set()

    def stop(self) -> list[Outcome]:
        """Halt and wait for the requests in flight; every outcome, by start time."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.max_seconds + 30)
        return sorted(self.outcomes, key=lambda outcome: outcome.started)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def _client(self, deadline: float) -> None:
        with httpx.Client(base_url=self.base_url, headers=PROXY_HEADERS, timeout=60) as client:
            while not self._stop.is_set() and time.monotonic() < deadline:
                with self._lock:
                    self._in_flight += 1
                try:
                    outcome = self._request(client, idempotency_key())
                finally:
                    with self._lock:
                        self._in_flight -= 1
                self._record(outcome)
                if outcome.error.startswith("ConnectError") and self.stop_on_refused:
                    return

    def _request(self, client: httpx.Client, key: str) -> Outcome:
        started = time.monotonic()
        for attempt in range(1, self.retries + 2):
            try:
                response = self.send(client, key)
            except httpx.TransportError as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt > self.retries or (isinstance(exc, httpx.ConnectError) and self.stop_on_refused):
                    return Outcome(started, time.monotonic(), None, error=error, attempts=attempt)
                time.sleep(0.05)
                continue
            body = response.json() if response.headers.get("content-type", "").endswith("json") else None
            return Outcome(
                started,
                time.monotonic(),
                response.status_code,
                body=body,
                attempts=attempt,
                rollout=response.headers.get("X-Rollout", ""),
            )
        raise AssertionError("unreachable: the last attempt returns")

    def wait_for_in_flight(self, count: int, timeout: float = 10.0) -> int:
        """Block until at least ``count`` requests are in flight; returns how many are."""
        deadline = time.monotonic() + timeout
        while self._in_flight < count and time.monotonic() < deadline:
            time.sleep(0.001)
        return self._in_flight


def summary(outcomes: list[Outcome]) -> dict:
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        key = str(outcome.status) if outcome.status is not None else "no response"
        statuses[key] = statuses.get(key, 0) + 1
    latencies = sorted(outcome.finished - outcome.started for outcome in outcomes) or [0.0]
    return {
        "requests": len(outcomes),
        "latency_p50_seconds": round(latencies[len(latencies) // 2], 3),
        "latency_max_seconds": round(latencies[-1], 3),
        "succeeded": sum(outcome.ok for outcome in outcomes),
        "failed": sum(not outcome.ok for outcome in outcomes),
        "server_errors": sum(outcome.status is not None and outcome.status >= 500 for outcome in outcomes),
        "statuses": statuses,
        "errors": sorted({outcome.error for outcome in outcomes if outcome.error}),
        "retried_after_no_response": sum(outcome.attempts > 1 for outcome in outcomes),
    }


def idempotency_key() -> str:
    return str(uuid.uuid4())
