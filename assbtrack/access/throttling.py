"""API rate limit per token (per user for session requests), so one leaked token cannot starve the rest.

The count lives in the shared cache (Redis, ``CACHES``), so the limit holds across gunicorn workers and
hosts, and it is counted with an atomic increment: two processes answering at the same moment cannot both
take the last request of a window (DRF's own throttle reads, appends and writes back a list, which loses
counts between processes). The window is fixed: at most ``num_requests`` per ``duration`` seconds starting
at a multiple of ``duration``.
"""

from __future__ import annotations

import time

from rest_framework.throttling import SimpleRateThrottle

from .client_ip import client_ip
from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_ident(self, request) -> str:
        return client_ip(request)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        window_key = f"{key}:{window}"
        # add() creates the counter only if absent; incr() is atomic in Redis
        self.cache.add(window_key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(window_key)
        except ValueError:  # the counter expired between add() and incr()
            self.cache.add(window_key, 1, timeout=self.duration + 1)
            count = 1
        self.now = now
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(0.0, self.window_ends_at - self.now)
