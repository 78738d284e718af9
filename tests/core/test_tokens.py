"""Personal API tokens: created once, used as ``Authorization: Token <key>``, refused once expired or revoked."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assbtrack.access.models import ApiToken
from assbtrack.access.services import api_token_create, api_token_revoke
from tests.utils.factories import traced_item

pytestmark = pytest.mark.django_db


def auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def test_token_key_authenticates_and_is_scoped(client, project, other_project, tech, partner):
    shared = traced_item(project=project, user=tech)
    traced_item(project=other_project, user=tech)
    token, key = api_token_create(user=partner, name="pilot line export", lifetime_days=30)

    assert token.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {token.name, token.prefix, token.key_sha256} and key.startswith(token.prefix)
    assert timedelta(days=30) - timedelta(seconds=5) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert token.last_used_at is None

    response = client.get("/api/v1/items/", **auth(key))
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == [shared.code]
    token.refresh_from_db()
    assert token.last_used_at is not None

    assert client.get("/api/v1/items/", **auth(key + "x")).status_code == 401
    assert client.get("/api/v1/items/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code in (401, 403)


def test_expired_token_is_refused(client, partner, monkeypatch):
    long_ago = timezone.now() - timedelta(days=10)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: long_ago)
        _, key = api_token_create(user=partner, name="old", lifetime_days=1)  # expired 9 days ago
    response = client.get("/api/v1/items/", **auth(key))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Token")


def test_revoked_token_is_refused(client, partner):
    token, key = api_token_create(user=partner, name="to revoke")
    assert client.get("/api/v1/items/", **auth(key)).status_code == 200
    api_token_revoke(token=token, user=partner)
    response = client.get("/api/v1/items/", **auth(key))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_token_of_an_inactive_user_is_refused(client, partner):
    _, key = api_token_create(user=partner, name="leaver")
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert client.get("/api/v1/items/", **auth(key)).status_code == 401


def test_only_the_owner_revokes_and_bad_tokens_are_not_made(partner, outsider):
    token, _ = api_token_create(user=partner, name="mine")
    with pytest.raises(ValidationError) as caught:
        api_token_revoke(token=token, user=outsider)
    assert "owner" in caught.value.message_dict["token"][0]
    token.refresh_from_db()
    assert token.revoked_at is None

    for kwargs, field in (({"name": "  "}, "name"), ({"name": "x", "lifetime_days": 0}, "lifetime_days"),
                          ({"name": "x", "lifetime_days": 366}, "lifetime_days")):
        with pytest.raises(ValidationError) as caught:
            api_token_create(user=partner, **kwargs)
        assert field in caught.value.message_dict
    assert ApiToken.objects.filter(user=partner).count() == 1


def test_tokens_page_creates_shows_the_key_once_and_revokes(client, partner, outsider):
    client.force_login(partner)
    page = reverse("access:api-tokens")
    response = client.post(page, {"name": "nightly sync", "lifetime_days": 7})
    assert response.status_code == 200
    key = re.search(r'<code id="new-token">([^<]+)</code>', response.content.decode()).group(1)
    token = ApiToken.objects.get(user=partner)
    assert (token.name, token.key_sha256) == ("nightly sync", hashlib.sha256(key.encode()).hexdigest())
    api = Client()  # no session: only the token speaks
    assert api.get("/api/v1/items/", **auth(key)).status_code == 200

    listing = client.get(page).content.decode()
    assert "nightly sync" in listing and key not in listing  # shown once only

    refused = client.post(page, {"name": "too long", "lifetime_days": 1000})
    assert "lifetime_days" in refused.context["form"].errors
    assert ApiToken.objects.filter(user=partner).count() == 1

    other_token, _ = api_token_create(user=outsider, name="not yours")
    assert client.post(reverse("access:api-token-revoke", args=[other_token.pk])).status_code == 404
    other_token.refresh_from_db()
    assert other_token.revoked_at is None

    response = client.post(reverse("access:api-token-revoke", args=[token.pk]))
    assert response.status_code == 302 and response["Location"] == page
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/v1/items/", **auth(key)).status_code == 401
    assert "revoked" in client.get(page).content.decode()
