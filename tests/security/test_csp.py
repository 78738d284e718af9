"""Every HTML page sends a Content-Security-Policy whose scripts come from files only, and no page carries
an inline script that the policy would block (the walk is the resolver's, as in test_roles_and_csrf)."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.sites import site as admin_site
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.utils.checks import client_for

from .test_roles_and_csrf import records, urls  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def check_page(url: str, response) -> bool:
    """True if ``response`` is an HTML page (and then it has been checked)."""
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return False
    header = response.get("Content-Security-Policy")
    assert header, f"{url} sends no Content-Security-Policy"
    policy = directives(header)
    assert policy.get("script-src") == ["'self'"], (url, header)
    assert policy.get("object-src") == ["'none'"], (url, header)
    body = response.content.decode()
    for attributes, content in SCRIPT.findall(body):
        if "src=" in attributes or "application/json" in attributes:
            continue
        assert not content.strip(), f"{url} has an inline script the policy blocks: {content.strip()[:120]!r}"
    assert not INLINE_HANDLER.search(body), f"{url} has an inline event handler the policy blocks"
    return True


def test_every_page_sends_a_policy_without_inline_scripts(records, sci, partner):  # noqa: F811
    checked = set()
    for user in (sci, partner):
        client = client_for(user)
        for url, name in urls(records):
            if check_page(url, client.get(url)):
                checked.add(name)
    anonymous = Client(HTTP_HOST="127.0.0.1")
    for name in ("login", "api-docs", "api-redoc"):
        url = reverse(name)
        assert check_page(url, anonymous.get(url)), url
        checked.add(name)
    for name in ("tracing:home", "tracing:item", "materials:lot-new", "cells:new", "modules:list", "jobs:list"):
        assert name in checked or not name, name
    assert len(checked) > 40, sorted(checked)


def test_the_api_docs_start_from_a_script_file(client):
    page = client.get(reverse("api-docs"), HTTP_HOST="127.0.0.1").content.decode()
    script = re.search(r'<script src="([^"]*\?script[^"]*)"', page)
    assert script, "the docs page names its start-up script"
    answer = client.get(script.group(1).replace("&amp;", "&"), HTTP_HOST="127.0.0.1")
    assert answer.status_code == 200 and "javascript" in answer["Content-Type"]


def test_every_admin_list_and_form_sends_the_policy(db):
    root = User.objects.create_superuser("csp-admin", "admin@example.org", "admin-pw-123")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(root)
    pages = ["/admin/"]
    for model, model_admin in admin_site._registry.items():
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(type("R", (), {"user": root, "method": "GET"})()):
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    checked = [url for url in pages if check_page(url, client.get(url))]
    assert len(checked) > 20
