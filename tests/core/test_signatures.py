"""Status signatures survive a key rotation (SECRET_KEY_FALLBACKS), old stored signatures still verify, and
an edit behind the application's back never does."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

from assbtrack.tracing.models import StatusEvent
from assbtrack.tracing.services import item_quarantine
from tests.utils.factories import PASSWORD, traced_item

OLD_KEY = "old-key-" + "o" * 50
NEW_KEY = "new-key-" + "n" * 50
ROOT = Path(__file__).resolve().parent.parent.parent


def quarantined_event(project, sci) -> StatusEvent:
    item = traced_item(project=project, user=sci)
    item_quarantine(item=item, user=sci, reason="moisture", password=PASSWORD)
    return StatusEvent.objects.get(item=item)


def test_a_signature_made_with_an_old_key_verifies_after_rotation(settings, project, sci):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    event = quarantined_event(project, sci)
    assert event.signed and event.signature_valid

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert StatusEvent.objects.get(pk=event.pk).signature_valid
    # once the old key is dropped from the fallbacks, nothing signed with it verifies
    settings.SECRET_KEY_FALLBACKS = []
    assert not StatusEvent.objects.get(pk=event.pk).signature_valid


def test_new_signatures_are_made_with_the_current_key_not_a_fallback(settings, project, sci):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    event = quarantined_event(project, sci)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    assert not StatusEvent.objects.get(pk=event.pk).signature_valid


def test_signatures_stored_before_django_signing_still_verify(settings, project, sci):
    """The earlier form: a hex HMAC-SHA256 under sha256("assbtrack.status-signature:" + SECRET_KEY)."""
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    event = quarantined_event(project, sci)
    content = "|".join([str(event.item_id), event.from_status, event.to_status, event.reason, str(event.user_id),
                        event.created_at.isoformat()])
    key = hashlib.sha256(f"assbtrack.status-signature:{OLD_KEY}".encode()).digest()
    legacy = hmac.new(key, content.encode(), hashlib.sha256).hexdigest()
    StatusEvent.objects.filter(pk=event.pk).update(signature=legacy)
    assert StatusEvent.objects.get(pk=event.pk).signature_valid
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert StatusEvent.objects.get(pk=event.pk).signature_valid  # rotated: checked against the fallback
    # a forged hex signature, or the right one on an edited row, does not verify
    StatusEvent.objects.filter(pk=event.pk).update(signature="0" * 64)
    assert not StatusEvent.objects.get(pk=event.pk).signature_valid
    StatusEvent.objects.filter(pk=event.pk).update(signature=legacy, reason="nothing happened")
    assert not StatusEvent.objects.get(pk=event.pk).signature_valid


def test_an_edited_event_does_not_verify_under_any_key(settings, project, sci):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    event = quarantined_event(project, sci)
    StatusEvent.objects.filter(pk=event.pk).update(to_status="released")
    assert not StatusEvent.objects.get(pk=event.pk).signature_valid


def test_secret_key_fallbacks_come_from_the_environment():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "assbtrack.settings.dev",
           "SECRET_KEY_FALLBACKS": f"{OLD_KEY}, second-old-key"}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.SECRET_KEY_FALLBACKS)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert out.stdout.strip() == str([OLD_KEY, "second-old-key"]), out.stderr[-2000:]
