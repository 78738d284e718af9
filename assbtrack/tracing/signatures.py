"""Signatures of status changes: an HMAC of the event under a key derived from SECRET_KEY."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def status_signature(event) -> str:
    key = hashlib.sha256(f"assbtrack.status-signature:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, event.signed_content().encode(), hashlib.sha256).hexdigest()
