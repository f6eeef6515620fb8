"""Running test code in several threads at once, each with its own connection."""

import threading

from django.db import connections


def run_in_threads(count: int, target, *args) -> list:
    """Run ``target(index, *args)`` in ``count`` threads at once; return results or
    exceptions in index order. Each thread closes its own database connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = target(index, *args)
        except Exception as exc:  # the caller asserts on what each thread got
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
