"""The bound on requests a worker runs at once (config/concurrency.py)."""

import asyncio

from config.concurrency import ConcurrencyLimit


def run_concurrently(path: str, requests: int, limit: int) -> tuple[int, int]:
    """(the most requests inside the app at once, how many completed)."""
    inside, peak, completed = 0, 0, 0

    async def app(scope, receive, send):
        nonlocal inside, peak, completed
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        completed += 1

    limited = ConcurrencyLimit(app, limit=limit)

    async def burst():
        await asyncio.gather(*(limited({"type": "http", "path": path}, None, None) for _ in range(requests)))

    asyncio.run(burst())
    return peak, completed


def test_a_burst_runs_at_most_the_limit_at_once_and_the_rest_wait_their_turn():
    assert run_concurrently("/api/v1/journal-entries/", requests=10, limit=3) == (3, 10)


def test_the_sse_stream_and_the_probes_are_not_held_back():
    assert run_concurrently("/api/v1/events/stream/", requests=5, limit=1) == (5, 5)
    assert run_concurrently("/readyz", requests=5, limit=1) == (5, 5)


def test_zero_means_no_bound():
    assert run_concurrently("/api/v1/accounts/", requests=6, limit=0) == (6, 6)
