"""Signatures of status changes, through ``django.core.signing``: an HMAC-SHA256 of the event's content
under ``SECRET_KEY`` with a salt of its own, checked in constant time, and still valid after the key is
rotated as long as the old key is in ``SECRET_KEY_FALLBACKS``.

Events signed before this module used ``django.core.signing`` carry a 64-character hex HMAC under a key
derived from ``SECRET_KEY`` (``sha256("assbtrack.status-signature:" + key)``). They are not rewritten —
status events are append-only and the signature is the evidence — but still verify: ``signature_verifies``
recognises the old form and checks it against the current key and every fallback, in constant time too.
New events are always signed in the new form (base64, 43 characters).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.core import signing

SALT = "assbtrack.tracing.status-event"
_LEGACY = re.compile(r"[0-9a-f]{64}")


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, algorithm="sha256")


def status_signature(event) -> str:
    return _signer().signature(event.signed_content())


def _legacy_signature(content: str, secret: str) -> str:
    key = hashlib.sha256(f"assbtrack.status-signature:{secret}".encode()).digest()
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()


def signature_verifies(event) -> bool:
    signature = event.signature or ""
    if not signature:
        return False
    content = event.signed_content()
    if _LEGACY.fullmatch(signature):
        return any(
            hmac.compare_digest(signature, _legacy_signature(content, secret))
            for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        )
    try:
        _signer().unsign(f"{content}{signing.Signer().sep}{signature}")
    except signing.BadSignature:
        return False
    return True
