"""The Redis client behind the cache: after a connection error or timeout it stops
calling Redis for a few seconds, and every cache call in that process fails at once
(the cache ignores the error and reads through to Postgres).

Without the pause, a hung Redis (a network partition: connections accepted, nothing
answered) cost every cache call its full socket timeout — the throttle check and the
flag-version check made each request wait 1 to 3 s (docs/reliability.md, Chaos)."""

import time

import redis

PAUSE_SECONDS = 5.0
_paused_until = 0.0


class RedisSkippedWhilePaused(redis.ConnectionError):
    """Not sent: Redis failed moments ago."""


class PausingRedis(redis.Redis):
    def execute_command(self, *args, **options):
        global _paused_until
        if time.monotonic() < _paused_until:
            raise RedisSkippedWhilePaused("Redis failed moments ago; not calling it for a few seconds")
        try:
            return super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError):
            _paused_until = time.monotonic() + PAUSE_SECONDS
            raise
