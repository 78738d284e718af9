"""The test run's share of the shared cache (Redis): emptied by key prefix, never by flushing a database
(another run's broker may live in it)."""

from __future__ import annotations

from django.core.cache import cache


def shared_cache_clear() -> int:
    client = cache._cache.get_client(None, write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)
