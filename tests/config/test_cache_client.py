"""The cache's Redis client pauses after a failure (config/cache_client.py)."""

import socket

import pytest
import redis

from config import cache_client


def unreachable_redis() -> cache_client.PausingRedis:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return cache_client.PausingRedis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)


def test_after_a_failure_redis_is_not_called_for_a_while(monkeypatch):
    monkeypatch.setattr(cache_client, "_paused_until", 0.0)
    client = unreachable_redis()

    with pytest.raises(redis.ConnectionError) as first:
        client.get("key")
    with pytest.raises(cache_client.RedisSkippedWhilePaused):
        client.get("key")

    assert not isinstance(first.value, cache_client.RedisSkippedWhilePaused)


def test_the_cache_answers_a_miss_while_paused(monkeypatch, settings):
    from django.core.cache import caches

    if not settings.REDIS_URL:
        pytest.skip("the in-process cache has no Redis client to pause")
    cache = caches["default"]
    cache.set("chaos-cache-client-test", "stored")
    monkeypatch.setattr(cache_client, "_paused_until", float("inf"))

    assert cache.get("chaos-cache-client-test", default="fallback") == "fallback"
