"""A page or an API list costs a fixed number of queries, whatever the number of rows it shows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assbtrack.jobs.services import job_submit
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.services import item_create, item_quarantine, item_release
from tests.utils.factories import release_checks_set_aside, traced_item, use

pytestmark = pytest.mark.django_db

PARENT_KINDS = (ItemKind.MATERIAL_LOT, ItemKind.SSE_BATCH)
CHILD_KINDS = (ItemKind.SHEET, ItemKind.CELL)
NOTE = "sweep of milling speeds"


@pytest.fixture(autouse=True)
def _core_release_rules_only():
    """These tests release bare items: the domain apps' QC checks (which need a domain record) are set aside."""
    with release_checks_set_aside():
        yield


class World:
    """A film with n parents, n children, n jobs and 2n status changes; its n parents noted with NOTE."""

    def __init__(self, project, tech, sci):
        self.project, self.tech, self.sci = project, tech, sci
        self.film = item_create(kind=ItemKind.CATHODE_FILM, project=project, user=tech, quantity="1000", unit="g")
        self.n = 0

    def grow_to(self, n: int) -> None:
        for i in range(self.n, n):
            parent = item_create(kind=PARENT_KINDS[i % 2], project=self.project, user=self.tech, quantity="100",
                                 unit="g", notes=f"{NOTE} #{i}")
            use(parent, self.film, user=self.tech, amount="1")
            child = traced_item(project=self.project, user=self.tech, kind=CHILD_KINDS[i % 2])
            use(self.film, child, user=self.tech, amount="1")
            job_submit(kind="conductivity", user=self.sci, subject=self.film,
                       inputs={"thickness_mm": 1.0, "diameter_mm": 10, "resistance_ohm": 40 + i})
            item_quarantine(item=self.film, user=self.sci, reason=f"suspect #{i}")
            item_release(item=self.film, user=self.sci, reason=f"re-measured #{i}")
        self.n = n


@pytest.fixture
def world(project, tech, sci):
    return World(project, tech, sci)


def queries_for(client, url: str, params: dict | None = None) -> tuple[int, object]:
    client.get(url, params or {})  # first request of the test: warms per-process caches (content types, ...)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), response


def page_costs(client, world: World) -> dict[str, int]:
    code = world.film.code
    pages = {
        "home": (reverse("tracing:home"), None),
        "item": (reverse("tracing:item", args=[code]), None),
        "impact": (reverse("tracing:impact", args=[code]), None),
        "search": (reverse("tracing:search"), {"q": "milling speeds"}),
        "jobs": (reverse("jobs:list"), None),
        "api items": ("/api/v1/items/", {"page_size": 100}),
        "api upstream": (f"/api/v1/items/{code}/upstream/", None),
    }
    costs = {}
    for name, (url, params) in pages.items():
        costs[name], response = queries_for(client, url, params)
        if name == "api items":
            assert len(response.json()["results"]) == 1 + 2 * world.n
        elif name == "item":
            assert response.content.decode().count('class="lineage"') == 2
        elif name == "search":
            assert len(response.context["results"]) == world.n
        elif name == "jobs":
            assert len(response.context["jobs"]) == world.n
    return costs


def test_pages_cost_the_same_queries_at_3_and_30_rows(client, world, sci, partner):
    costs = {}
    for n in (3, 30):
        world.grow_to(n)
        for user in (sci, partner):  # lab staff see everything; a partner's every query is scoped
            client.force_login(user)
            costs[n, user.username] = page_costs(client, world)
    for user in (sci, partner):
        assert costs[3, user.username] == costs[30, user.username], user
