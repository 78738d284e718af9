"""Every page and endpoint, walked from the URL resolver, with each role; and CSRF on every form.

The URL parameters are filled with one real record per kind (a batch, a film, a cell, a module, a housing
design, a pressure scan, a token) in the project the partner is granted, so that a partner's
refusal on a technician page is a refusal of the role, not of the project. Parameters of kinds not built
here (instrument, calibration, import run, cycling test, job) get an id that does not exist: the role checks
run before the record is looked up, which the anonymous and partner cases show.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from assbtrack.access.services import api_token_create
from assbtrack.tracing.choices import ItemStatus
from assbtrack.tracing.models import TracedItem
from tests.utils.checks import client_for
from tests.utils.factories import PASSWORD
from tests.utils.factories_electrodes import make_film, make_sheets
from tests.utils.factories_materials import make_batch
from tests.utils.factories_modules import make_module, make_scan

pytestmark = pytest.mark.django_db

MISSING_ID = "987654"
PARAM = re.compile(r"<(?:(?P<converter>[^:>]+):)?(?P<name>[^>]+)>")
# pages anybody may open: the login form, the API's own description (the API answers 401/403 on data)
PUBLIC = {"login", "api-schema", "api-docs", "api-redoc", "api:api-root"}
# pages a partner legitimately uses: the dashboard, search, the shared item pages (read-only), jobs on
# their items, their API tokens, and the read-only API
PARTNER_PAGES = {
    "tracing:home", "tracing:search", "tracing:labels", "tracing:item", "tracing:impact", "tracing:lineage-csv",
    "tracing:composition", "jobs:list", "jobs:detail", "jobs:status", "jobs:file",
    "access:api-tokens", "logout", "login",
    # the modules app shows partners the modules, designs and pressure maps of their projects, read-only
    "modules:list", "modules:designs", "modules:design", "modules:pressure-maps", "modules:scan",
    "modules:scan-image", "modules:scan-heatmap",
}
# actions only a scientist may take on an item
SCIENTIST_ACTIONS = {"tracing:status-action", "tracing:recall", "materials:batch-status"}


def walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or "")


@pytest.fixture
def records(project, tech, sci):
    batch = make_batch(project, tech)
    film = make_film(project, tech)
    make_sheets(film, tech, count=1)
    module = make_module(project, tech, cell_count=1)
    scan = make_scan(tech, design=module.housing_design)
    token, _ = api_token_create(user=tech, name="walk", lifetime_days=5)
    return {"batch": batch, "film": film, "module": module, "scan": scan, "token": token, "project": project}


def fill(path: str, name: str, records: dict) -> str | None:
    """A concrete path for a resolver pattern; None for the API's regex routes (walked by their list URLs)."""
    if path.startswith("api/v1/^") or "(?P<" in path or "drf_format_suffix" in path:
        return None
    cell_code = _cell_code(records)

    def value(match: re.Match) -> str:
        key = match.group("name")
        if key == "code":
            if name.startswith("electrodes:"):
                return records["film"].item.code
            if name.startswith("cells:"):
                return cell_code
            if name.startswith("modules:"):
                return records["module"].item.code
            return records["batch"].item.code
        if key == "action":
            return "release"
        if key == "design_id":
            return str(records["module"].housing_design_id)
        if key == "scan_id":
            return str(records["scan"].pk)
        if key == "token_id":
            return str(records["token"].pk)
        if key == "project":
            return records["project"].code
        if key == "composition":
            return records["batch"].composition
        if key == "kind":
            return "material-lots"
        if key == "file_format":
            return "csv"
        if key == "name":
            return "plot.png"
        return MISSING_ID

    return "/" + PARAM.sub(value, path)


def _cell_code(records: dict) -> str:
    code = (
        TracedItem.objects.filter(kind="cell", project=records["project"]).order_by("pk")
        .values_list("code", flat=True).first()
    )
    return code or "CELL-000001"


def urls(records: dict) -> list[tuple[str, str]]:
    found = []
    for path, name in walk(get_resolver().url_patterns):
        if path.startswith("admin/"):
            continue
        url = fill(path, name, records)
        if url is not None:
            found.append((url, name))
    api = ["/api/v1/items/", "/api/v1/material-lots/", "/api/v1/sse-batches/", "/api/v1/films/",
           "/api/v1/cells/", "/api/v1/modules/", "/api/v1/jobs/", "/api/v1/housing-designs/",
           f"/api/v1/items/{records['batch'].item.code}/"]
    return found + [(url, "api:data") for url in api]


ADMIN_URLS = ["/admin/", "/admin/auth/user/", "/admin/materials/", "/admin/tracing/traceditem/"]


def test_the_walk_covers_every_app(records):
    names = {name.split(":")[0] for _, name in urls(records)}
    for app in ("tracing", "jobs", "materials", "electrodes", "cells", "modules", "instruments", "imports", "access"):
        assert app in names


def test_anonymous_users_are_sent_to_the_login_or_refused(client, records):
    for url, name in urls(records):
        response = client.get(url)
        if name in PUBLIC:
            assert response.status_code in (200, 302, 401, 403), (url, response.status_code)
            continue
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), (url, response["Location"])
        else:
            assert response.status_code in (401, 403, 405), (url, response.status_code)
    for url in ADMIN_URLS:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_partners_are_refused_the_technician_pages_and_the_admin(partner, records):
    client = client_for(partner)
    statuses_before = dict(TracedItem.objects.values_list("code", "status"))
    let_through = []
    for url, name in urls(records):
        if name in PARTNER_PAGES or name in PUBLIC or name.startswith("api:"):
            continue
        for method in (client.get, client.post):
            status = method(url).status_code
            # the status actions refuse a partner inside the service (no change, the message on the item page)
            refused = (403, 404, 405) + ((302, 400) if name in SCIENTIST_ACTIONS else ())
            if status not in refused:
                let_through.append((method.__name__, url, status))
    assert let_through == [], "\n".join(map(str, let_through))
    for url in ADMIN_URLS:
        response = client.get(url)
        assert response.status_code in (302, 403) and response.get("Location", "/login/").find("/login/") >= 0, url
    # the data of the shared project stays untouched by all those POSTs
    assert dict(TracedItem.objects.values_list("code", "status")) == statuses_before


def test_technicians_cannot_take_scientist_actions_nor_open_the_admin(tech, records):
    """The services refuse the role; the page says so (refused beside the form, or a 403) and nothing changes."""
    client = client_for(tech)
    batch = records["batch"].item
    statuses_before = dict(TracedItem.objects.values_list("code", "status"))
    signed = {"reason": "contaminated jar", "password": PASSWORD, "include_item": "on"}
    for action in ("release", "quarantine", "reject"):
        response = client.post(f"/items/{batch.code}/{action}/", signed, follow=True)
        assert response.status_code == 403 or f"{action.capitalize()} refused (user)" in response.content.decode()
    response = client.post(f"/items/{batch.code}/recall/", signed)
    assert response.status_code in (400, 403)
    for action in ("release", "quarantine"):
        response = client.post(f"/materials/batches/{batch.code}/status/", {"action": action, **signed})
        assert response.status_code in (200, 403)
        assert response.status_code == 403 or "may not" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ItemStatus.DRAFT
    assert dict(TracedItem.objects.values_list("code", "status")) == statuses_before
    for url in ADMIN_URLS:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "/admin/login/" in response["Location"], url


def test_every_form_refuses_a_post_without_the_csrf_token(tech, records):
    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    client.force_login(tech)
    posted = 0
    for url, name in urls(records):
        if name.startswith("api") or name in {"api-schema", "api-docs", "api-redoc"}:
            continue
        response = client.post(url, {"reason": "x", "project": records["project"].pk})
        assert response.status_code == 403, (url, name, response.status_code)
        posted += 1
    for url in ["/admin/login/", "/admin/materials/materiallot/add/"]:
        assert client.post(url, {}).status_code == 403
    assert posted > 50
    # with the token the same client gets through the middleware (to the form's own validation)
    page = client.get("/materials/lots/new/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    response = client.post("/materials/lots/new/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
