"""Roles and scoping: who may change a status, and who sees which items, by every route."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from assbtrack.access.roles import PARTNER, SCIENTIST, TECHNICIAN
from assbtrack.jobs.services import job_submit
from assbtrack.tracing.choices import ItemKind, ItemStatus
from assbtrack.tracing.services import item_quarantine, item_reject, item_release
from tests.utils.factories import (
    PASSWORD,
    release_checks_set_aside,
    traced_item,
    use,
    use_across_projects,
    user_without_role,
)

pytestmark = pytest.mark.django_db

CONDUCTIVITY_INPUTS = {"thickness_mm": 1.0, "diameter_mm": 10, "resistance_ohm": 40}


@pytest.fixture(autouse=True)
def _core_release_rules_only():
    """These tests release bare items: the domain apps' QC checks (which need a domain record) are set aside."""
    with release_checks_set_aside():
        yield


def permissions_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_role_groups_exist_after_migrate_with_their_permissions():
    assert {TECHNICIAN, SCIENTIST, PARTNER} <= set(Group.objects.values_list("name", flat=True))

    technician = permissions_of(TECHNICIAN)
    assert {"tracing.view_traceditem", "tracing.view_lineageedge", "tracing.add_lineageedge", "jobs.add_job",
            "jobs.view_job", "access.view_project"} <= technician
    assert not technician & {"tracing.release_item", "tracing.quarantine_item", "tracing.change_traceditem",
                             "tracing.delete_traceditem", "access.view_apitoken"}

    scientist = permissions_of(SCIENTIST)
    assert {"tracing.release_item", "tracing.quarantine_item", "tracing.view_traceditem", "jobs.add_job",
            "access.view_apitoken"} <= scientist
    assert not scientist & {"tracing.delete_traceditem", "tracing.change_lineageedge", "tracing.delete_lineageedge"}

    assert permissions_of(PARTNER) == set()


def test_technician_may_not_release_quarantine_or_reject_but_a_scientist_may(project, tech, sci):
    lot = traced_item(project=project, user=tech)
    for service, kwargs in (
        (item_release, {}),
        (item_quarantine, {"reason": "suspect"}),
        (item_reject, {"reason": "bad"}),
    ):
        with pytest.raises(ValidationError) as caught:
            service(item=lot, user=tech, **kwargs)
        assert f"{tech.username} may not" in caught.value.message_dict["user"][0]
    lot.refresh_from_db()
    assert lot.status == ItemStatus.DRAFT

    item_release(item=lot, user=sci)
    lot.refresh_from_db()
    assert lot.status == ItemStatus.RELEASED


@pytest.mark.parametrize("action", ["release", "quarantine", "reject"])
def test_status_action_views_refuse_a_technician(client, project, tech, action):
    lot = traced_item(project=project, user=tech)
    client.force_login(tech)
    page = client.get(reverse("tracing:item", args=[lot.code])).content.decode()
    assert "Your role cannot change the status." in page
    assert reverse("tracing:status-action", args=[lot.code, action]) not in page

    response = client.post(
        reverse("tracing:status-action", args=[lot.code, action]), {"reason": "why not", "password": PASSWORD},
        follow=True,
    )
    assert f"{action.capitalize()} refused (user)" in response.content.decode()
    lot.refresh_from_db()
    assert lot.status == ItemStatus.DRAFT
    assert not lot.status_events.exists()


def test_status_actions_of_a_partner_on_a_shared_item_are_refused(client, project, tech, partner):
    lot = traced_item(project=project, user=tech)
    client.force_login(partner)
    response = client.post(
        reverse("tracing:status-action", args=[lot.code, "quarantine"]), {"reason": "x", "password": PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    assert "Quarantine refused (user)" in response.content.decode()
    lot.refresh_from_db()
    assert lot.status == ItemStatus.DRAFT


@pytest.fixture
def shared_and_hidden(project, other_project, tech):
    """A film of the shared project that used a batch of another project, and that batch."""
    film = traced_item(project=project, user=tech, kind=ItemKind.CATHODE_FILM)
    hidden = traced_item(project=other_project, user=tech, kind=ItemKind.SSE_BATCH)
    cell = traced_item(project=project, user=tech, kind=ItemKind.CELL, quantity="1", unit="pcs")
    use_across_projects(hidden, film, user=tech, amount="1")
    use(film, cell, user=tech, amount="1")
    return {"film": film, "hidden": hidden, "cell": cell}


def test_partner_pages_show_only_shared_projects(client, partner, shared_and_hidden):
    film, hidden = shared_and_hidden["film"], shared_and_hidden["hidden"]
    client.force_login(partner)

    assert client.get(reverse("tracing:item", args=[hidden.code])).status_code == 404
    assert client.get(reverse("tracing:impact", args=[hidden.code])).status_code == 404
    page = client.get(reverse("tracing:item", args=[film.code]))
    assert page.status_code == 200
    assert hidden.code not in page.content.decode()
    assert shared_and_hidden["cell"].code in page.content.decode()

    home = client.get(reverse("tracing:home")).content.decode()
    assert film.code in home and hidden.code not in home
    search = client.get(reverse("tracing:search"), {"q": hidden.code})
    assert search.status_code == 200  # no redirect to the item: it does not exist for this partner
    assert reverse("tracing:item", args=[hidden.code]) not in search.content.decode()
    search = client.get(reverse("tracing:search"), {"q": "-0000"}).content.decode()
    assert reverse("tracing:item", args=[film.code]) in search
    assert reverse("tracing:item", args=[hidden.code]) not in search


def test_partner_api_lists_and_reads_only_shared_projects(client, partner, shared_and_hidden):
    film, hidden, cell = shared_and_hidden["film"], shared_and_hidden["hidden"], shared_and_hidden["cell"]
    client.force_login(partner)

    listed = client.get("/api/v1/items/")
    assert listed.status_code == 200
    assert {row["code"] for row in listed.json()["results"]} == {film.code, cell.code}
    assert client.get(f"/api/v1/items/?code={hidden.code}").json()["results"] == []

    assert client.get(f"/api/v1/items/{film.code}/").json()["code"] == film.code
    for suffix in ("", "upstream/", "downstream/", "impact/"):
        assert client.get(f"/api/v1/items/{hidden.code}/{suffix}").status_code == 404, suffix

    upstream = client.get(f"/api/v1/items/{cell.code}/upstream/").json()
    assert [node["code"] for node in upstream["nodes"]] == [film.code]
    assert hidden.code not in str(upstream)


def test_outsider_sees_nothing_of_a_project_not_granted(client, outsider, shared_and_hidden):
    film, hidden = shared_and_hidden["film"], shared_and_hidden["hidden"]
    client.force_login(outsider)
    assert client.get(reverse("tracing:item", args=[film.code])).status_code == 404
    assert client.get(f"/api/v1/items/{film.code}/upstream/").status_code == 404
    assert {row["code"] for row in client.get("/api/v1/items/").json()["results"]} == {hidden.code}
    # the outsider's batch went into the shared film, but the film is not theirs to see
    assert client.get(f"/api/v1/items/{hidden.code}/downstream/").json()["nodes"] == []


def test_partner_sees_jobs_of_shared_items_only(client, project, other_project, tech, sci, partner):
    shared = traced_item(project=project, user=tech)
    hidden = traced_item(project=other_project, user=tech)
    visible_job = job_submit(kind="conductivity", inputs=CONDUCTIVITY_INPUTS, user=sci, subject=shared)
    hidden_job = job_submit(kind="conductivity", inputs=CONDUCTIVITY_INPUTS, user=sci, subject=hidden)
    unattached_job = job_submit(kind="conductivity", inputs={**CONDUCTIVITY_INPUTS, "resistance_ohm": 41}, user=sci)

    client.force_login(partner)
    assert {row["id"] for row in client.get("/api/v1/jobs/").json()["results"]} == {visible_job.pk}
    assert client.get(f"/api/v1/jobs/{hidden_job.pk}/").status_code == 404
    assert client.get(reverse("jobs:detail", args=[hidden_job.pk])).status_code == 404
    assert client.get(reverse("jobs:status", args=[unattached_job.pk])).status_code == 404
    assert client.get(reverse("jobs:detail", args=[visible_job.pk])).status_code == 200


def test_anonymous_is_sent_to_login_and_refused_by_the_api(client, project, tech):
    lot = traced_item(project=project, user=tech)
    login = reverse("login")
    for url in (reverse("tracing:home"), reverse("tracing:item", args=[lot.code]), reverse("tracing:search"),
                reverse("jobs:list"), reverse("access:api-tokens")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"{login}?next="), url
    response = client.post(reverse("tracing:status-action", args=[lot.code, "release"]), {"reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith(login)
    lot.refresh_from_db()
    assert lot.status == ItemStatus.DRAFT

    for url in ("/api/v1/items/", f"/api/v1/items/{lot.code}/", f"/api/v1/items/{lot.code}/upstream/",
                "/api/v1/jobs/"):
        assert client.get(url).status_code in (401, 403), url
    assert client.post("/api/v1/jobs/", {"kind": "conductivity", "inputs": CONDUCTIVITY_INPUTS},
                       content_type="application/json").status_code in (401, 403)


def test_a_user_without_a_role_sees_nothing(client, project, tech):
    lot = traced_item(project=project, user=tech)
    nobody = user_without_role()
    client.force_login(nobody)

    home = client.get(reverse("tracing:home"))
    assert home.status_code == 200 and lot.code not in home.content.decode()
    assert client.get(reverse("tracing:item", args=[lot.code])).status_code == 404
    search = client.get(reverse("tracing:search"), {"q": "LOT"}).content.decode()
    assert reverse("tracing:item", args=[lot.code]) not in search
    assert client.get(reverse("tracing:search"), {"q": lot.code}).status_code == 200  # not a redirect to it
    assert client.get("/api/v1/items/").status_code == 403
    assert client.get(f"/api/v1/items/{lot.code}/").status_code == 403
    with pytest.raises(ValidationError) as caught:
        item_release(item=lot, user=nobody)
    assert "user" in caught.value.message_dict
