"""Hostile input answers 4xx with a message, never 500: forged cursors, integers beyond any id, numbers of
hundreds of digits and JSON nested thousands deep, ids that are not numbers in the admin."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from django.contrib.admin.sites import site as admin_site
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.utils.factories_modules import make_scan, map_scan_quickly

from .helpers import make_chain, token_client

pytestmark = pytest.mark.django_db
HUGE = "9" * 40


def refused(response, status: int = 400) -> str:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.content.decode()
    assert body.strip(), "a refusal must say why"
    return body


def forged_cursor(position: str) -> str:
    return base64.b64encode(urlencode({"o": "0", "r": "0", "p": position}).encode()).decode()


@pytest.mark.parametrize("position", ["not-a-number", HUGE, "-" + HUGE, "1e400"])
def test_a_forged_cursor_is_refused(partner, position):
    body = refused(token_client(partner).get("/api/v1/items/", {"cursor": forged_cursor(position)}), 404)
    assert "cursor" in body.lower()


def test_an_integer_filter_beyond_any_id_is_refused_with_the_filter_named(project, sci, partner):
    make_chain(project, sci, cells=1)
    client = token_client(partner)
    for url in ("/api/v1/modules/", "/api/v1/pressure-maps/"):
        body = refused(client.get(url, {"housing_design": HUGE}))
        assert "housing_design" in body
        assert "whole number" in refused(client.get(url, {"housing_design": "1.5"}))
    # a small one still filters
    assert client.get("/api/v1/modules/", {"housing_design": "1"}).status_code == 200


def test_a_path_id_beyond_any_id_is_not_found(project, sci, partner):
    chain = make_chain(project, sci, cells=1)
    scan_map = map_scan_quickly(make_scan(sci, design=chain["module"].housing_design, module=chain["module"]))
    client = token_client(partner)
    for url in (f"/api/v1/pressure-maps/{HUGE}/", f"/api/v1/housing-designs/{HUGE}/",
                f"/api/v1/conductivity-measurements/{HUGE}/", f"/api/v1/jobs/{HUGE}/"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/api/v1/pressure-maps/{scan_map.pk}/").status_code == 200
    staff = Client(HTTP_HOST="127.0.0.1")
    staff.force_login(sci)
    for url in (f"/jobs/{HUGE}/", f"/modules/designs/{HUGE}/", f"/modules/scans/{HUGE}/", f"/imports/{HUGE}/",
                f"/cells/cycling/{HUGE}/"):
        assert staff.get(url).status_code == 404, url


def post_job(client, body: str):
    return client.post("/api/v1/jobs/", body, content_type="application/json")


def test_a_number_of_hundreds_of_digits_is_refused(sci):
    client = token_client(sci)
    for number in ("9" * 400, "1" + "0" * 400 + ".5", "1e999999"):
        inputs = '{"thickness_mm": ' + number + ', "diameter_mm": 10, "resistance_ohm": 40}'
        body = post_job(client, '{"kind": "conductivity", "inputs": ' + inputs + "}")
        text = refused(body)
        assert "number" in text.lower()


def test_json_nested_thousands_deep_is_refused(sci):
    client = token_client(sci)
    deep = '{"kind": "conductivity", "inputs": ' + "[" * 5000 + "]" * 5000 + "}"
    assert "deep" in refused(post_job(client, deep)).lower()
    fairly_deep = '{"kind": "conductivity", "inputs": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}"
    assert "deep" in refused(post_job(client, fairly_deep)).lower()


def test_malformed_json_is_refused(sci):
    assert "JSON" in refused(post_job(token_client(sci), '{"kind": '))


def test_admin_history_of_an_id_that_is_not_a_number_is_not_found(db):
    admin_user = User.objects.create_superuser("hostile-admin", "admin@example.org", "admin-pw-123")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin_user)
    checked = 0
    for model in admin_site._registry:
        opts = model._meta
        for object_id in ("abc", HUGE, "1%20or%201"):
            for view in ("history", "change", "delete"):
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=["0"]).replace("/0/",
                                                                                                      f"/{object_id}/")
                answer = client.get(url)
                assert answer.status_code == 302 or 400 <= answer.status_code < 500, (url, answer.status_code)
                checked += 1
    assert checked > 30
