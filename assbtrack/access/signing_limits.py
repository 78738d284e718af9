"""Wrong signing passwords, counted per user in the shared cache, like wrong log-ins are by django-axes.

The password re-entered to sign a release, quarantine or rejection could otherwise be guessed without
limit by anyone holding a scientist's session. After ``ASSBTRACK_SIGNING_FAILURE_LIMIT`` wrong passwords
in a row, signing is refused, even with the right password, until ``ASSBTRACK_SIGNING_COOLOFF_MIN``
minutes have passed since the last wrong one; a right password before that resets the count.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


def _key(user_id: int) -> str:
    return f"signing-failures:user-{user_id}"


def _cooloff_s() -> int:
    return max(1, int(settings.ASSBTRACK_SIGNING_COOLOFF_MIN * 60))


def signing_locked(user_id: int) -> bool:
    return int(cache.get(_key(user_id), 0)) >= settings.ASSBTRACK_SIGNING_FAILURE_LIMIT


def signing_failure_record(user_id: int) -> int:
    """Count one wrong password; the cool-off starts again from this one."""
    key = _key(user_id)
    cache.add(key, 0, timeout=_cooloff_s())
    try:
        count = cache.incr(key)
    except ValueError:
        cache.add(key, 1, timeout=_cooloff_s())
        count = 1
    cache.touch(key, timeout=_cooloff_s())
    return count


def signing_failures_reset(user_id: int) -> None:
    cache.delete(_key(user_id))


def signing_locked_message() -> str:
    minutes = settings.ASSBTRACK_SIGNING_COOLOFF_MIN
    return (f"too many wrong passwords: signing is locked for {minutes:g} minutes; "
            "try again later or ask an administrator")
