"""The client's address behind a known number of trusted proxies, for the API throttle and the log-in lockout.

``ASSBTRACK_TRUSTED_PROXIES`` (setting ``ASSBTRACK_TRUSTED_PROXIES``) says how many proxies in front of
assbtrack append to ``X-Forwarded-For``. Each appends the address it received the request from, so the
N-th address from the right is the one the outermost trusted proxy saw: the client. Anything left of it
was written by the client and is not believed. With 0 (the default) the header is ignored and the
address is ``REMOTE_ADDR``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR", "") or ""
    trusted = int(getattr(settings, "ASSBTRACK_TRUSTED_PROXIES", 0))
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < trusted:
        # fewer hops than proxies configured: the request did not come through all of them
        return forwarded[0] if forwarded else remote
    return forwarded[-trusted]
