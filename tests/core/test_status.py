"""Status: draft → released → consumed, quarantine and reject as holds, release checks, the event log."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assbtrack.tracing.choices import ItemKind, ItemStatus
from assbtrack.tracing.models import StatusEvent, TracedItem
from assbtrack.tracing.registry import kind_info, register_release_check
from assbtrack.tracing.selectors import held_ancestors_for
from assbtrack.tracing.services import item_create, item_quarantine, item_reject, item_release
from tests.utils.factories import PASSWORD, release_checks_set_aside, traced_item, use

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _core_release_rules_only():
    """These tests release bare items: the domain apps' QC checks (which need a domain record) are set aside."""
    with release_checks_set_aside():
        yield


def refusal(call, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return caught.value.message_dict


def events(item) -> list[tuple[str, str, str]]:
    return [(e.from_status, e.to_status, e.reason) for e in StatusEvent.objects.filter(item=item).order_by("id")]


def test_release_then_consumed_when_the_last_gram_is_used(project, tech, sci):
    lot = traced_item(project=project, user=tech, quantity="2", unit="g")
    assert lot.status == ItemStatus.DRAFT
    item_release(item=lot, user=sci)
    lot.refresh_from_db()
    assert lot.status == ItemStatus.RELEASED

    first = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    second = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    use(lot, first, user=tech, amount="1.5", unit="g")
    lot.refresh_from_db()
    assert lot.status == ItemStatus.RELEASED  # 0.5 g left
    use(lot, second, user=tech, amount="500", unit="mg")
    lot.refresh_from_db()
    assert (lot.status, lot.quantity_remaining) == (ItemStatus.CONSUMED, 0)
    assert events(lot) == [
        (ItemStatus.DRAFT, ItemStatus.RELEASED, "released"),
        (ItemStatus.RELEASED, ItemStatus.CONSUMED, f"used up by {second.code}"),
    ]
    assert StatusEvent.objects.filter(item=lot).latest("id").user == tech

    # a consumed item is not released again
    assert "only draft or quarantined" in refusal(item_release, item=lot, user=sci)["status"][0]


def test_quarantine_needs_a_reason_and_marks_downstream_affected(client, project, tech, sci):
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    film = traced_item(project=project, user=tech, kind=ItemKind.SEPARATOR_FILM)
    cell = traced_item(project=project, user=tech, kind=ItemKind.CELL, quantity="1", unit="pcs")
    use(batch, film, user=tech, amount="5")
    use(film, cell, user=tech, amount="2")

    for blank in ("", "   "):
        assert "needs a reason" in refusal(item_quarantine, item=batch, user=sci, reason=blank)["reason"][0]
    batch.refresh_from_db()
    assert batch.status == ItemStatus.DRAFT and not events(batch)

    item_quarantine(item=batch, user=sci, reason="  conductivity 0.2 mS/cm below spec ")
    batch.refresh_from_db()
    assert (batch.status, batch.status_reason) == (ItemStatus.QUARANTINED, "conductivity 0.2 mS/cm below spec")
    assert events(batch) == [(ItemStatus.DRAFT, ItemStatus.QUARANTINED, "conductivity 0.2 mS/cm below spec")]

    # affected is computed from lineage, not copied onto the downstream rows
    film.refresh_from_db()
    cell.refresh_from_db()
    assert film.status == cell.status == ItemStatus.DRAFT
    found = held_ancestors_for([film.pk, cell.pk])
    assert {pk: [(a.code, a.status) for a in ancestors] for pk, ancestors in found.items()} == {
        film.pk: [(batch.code, ItemStatus.QUARANTINED)],
        cell.pk: [(batch.code, ItemStatus.QUARANTINED)],
    }

    client.force_login(tech)
    page = client.get(reverse("tracing:item", args=[cell.code])).content.decode()
    assert "Affected:" in page
    banner = page.split('class="banner affected"')[1].split("</div>")[0]
    assert batch.code in banner and "quarantined" in banner and "conductivity 0.2 mS/cm below spec" in banner
    unaffected = traced_item(project=project, user=tech)
    assert "Affected" not in client.get(reverse("tracing:item", args=[unaffected.code])).content.decode()


def test_release_from_quarantine_needs_a_reason(project, tech, sci):
    lot = traced_item(project=project, user=tech)
    item_quarantine(item=lot, user=sci, reason="bag found open")
    assert "say why" in refusal(item_release, item=lot, user=sci, reason=" ")["reason"][0]
    lot.refresh_from_db()
    assert lot.status == ItemStatus.QUARANTINED

    item_release(item=lot, user=sci, reason="Karl Fischer: 12 ppm water, fine")
    lot.refresh_from_db()
    assert (lot.status, lot.status_reason) == (ItemStatus.RELEASED, "Karl Fischer: 12 ppm water, fine")
    assert events(lot)[-1] == (ItemStatus.QUARANTINED, ItemStatus.RELEASED, "Karl Fischer: 12 ppm water, fine")


def test_quarantine_twice_is_one_event_and_reject_is_final(project, tech, sci):
    lot = traced_item(project=project, user=tech)
    item_release(item=lot, user=sci)
    item_quarantine(item=lot, user=sci, reason="first suspicion")
    item_quarantine(item=lot, user=sci, reason="second look")
    assert [to for _, to, _ in events(lot)] == [ItemStatus.RELEASED, ItemStatus.QUARANTINED]

    assert "needs a reason" in refusal(item_reject, item=lot, user=sci, reason="")["reason"][0]
    item_reject(item=lot, user=sci, reason="Li2S impurity confirmed")
    lot.refresh_from_db()
    assert (lot.status, lot.status_reason) == (ItemStatus.REJECTED, "Li2S impurity confirmed")
    assert "rejected already" in refusal(item_reject, item=lot, user=sci, reason="again")["status"][0]
    assert "rejected already" in refusal(item_quarantine, item=lot, user=sci, reason="again")["status"][0]
    assert "only draft or quarantined" in refusal(item_release, item=lot, user=sci, reason="oops")["status"][0]
    assert [to for _, to, _ in events(lot)] == [ItemStatus.RELEASED, ItemStatus.QUARANTINED, ItemStatus.REJECTED]
    assert all(event.user == sci for event in StatusEvent.objects.filter(item=lot))


def test_quarantine_of_an_item_rejected_meanwhile_is_refused(project, tech, sci):
    lot = traced_item(project=project, user=tech)
    on_another_page = TracedItem.objects.get(pk=lot.pk)  # loaded before the rejection, as a request would
    item_reject(item=lot, user=sci, reason="Li2S impurity confirmed")

    errors = refusal(item_quarantine, item=on_another_page, user=sci, reason="late suspicion")
    assert "rejected already" in errors["status"][0]
    lot.refresh_from_db()
    assert (lot.status, lot.status_reason) == (ItemStatus.REJECTED, "Li2S impurity confirmed")


@pytest.fixture
def conductivity_spec_check():
    """The only QC check on SSE batches for the length of one test (the domain apps' own checks are set aside)."""
    calls = []

    def below_spec(item) -> list[str]:
        calls.append(item.code)
        return [] if "passes QC" in item.notes else [f"{item.code}: conductivity below the project's 2 mS/cm spec"]

    info = kind_info(ItemKind.SSE_BATCH)
    saved, info.release_checks = info.release_checks, []
    register_release_check(ItemKind.SSE_BATCH, below_spec)
    register_release_check(ItemKind.SSE_BATCH, below_spec)  # registering twice keeps one
    yield calls
    info.release_checks = saved


def test_registered_release_check_blocks_release_with_its_reason(client, project, tech, sci, conductivity_spec_check):
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    errors = refusal(item_release, item=batch, user=sci)
    assert errors["status"] == [f"{batch.code}: conductivity below the project's 2 mS/cm spec"]
    batch.refresh_from_db()
    assert batch.status == ItemStatus.DRAFT and not events(batch)

    client.force_login(sci)
    page = client.get(reverse("tracing:item", args=[batch.code])).content.decode()
    assert "Not releasable yet" in page and "below the project&#x27;s 2 mS/cm spec" in page
    action = reverse("tracing:status-action", args=[batch.code, "release"])
    response = client.post(action, {"reason": "", "password": PASSWORD}, follow=True)
    assert "Release refused (status)" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ItemStatus.DRAFT

    # a check is per kind: a lot is not held back by it
    lot = traced_item(project=project, user=tech)
    item_release(item=lot, user=sci)
    assert set(conductivity_spec_check) == {batch.code}

    passing = item_create(
        kind=ItemKind.SSE_BATCH, project=project, user=tech, quantity="10", unit="g", notes="passes QC at 3.1 mS/cm"
    )
    item_release(item=passing, user=sci)
    passing.refresh_from_db()
    assert passing.status == ItemStatus.RELEASED


def test_status_action_views_write_signed_events_for_a_scientist(client, project, tech, sci):
    lot = traced_item(project=project, user=tech)
    client.force_login(sci)
    url = lambda action: reverse("tracing:status-action", args=[lot.code, action])  # noqa: E731

    response = client.post(url("quarantine"), {"reason": "", "password": PASSWORD}, follow=True)
    assert "Quarantine refused (reason): a quarantine needs a reason" in response.content.decode()
    response = client.post(url("quarantine"), {"reason": "seal broken", "password": "not my password"}, follow=True)
    assert "Quarantine refused (password)" in response.content.decode()
    assert not events(lot)

    response = client.post(url("quarantine"), {"reason": "seal broken", "password": PASSWORD}, follow=True)
    assert f"{lot.code} quarantined." in response.content.decode()
    response = client.post(url("release"), {"reason": "resealed and re-tested", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == lot.get_absolute_url()
    client.post(url("reject"), {"reason": "failed again", "password": PASSWORD})
    assert client.post(url("explode"), {"reason": "x", "password": PASSWORD}).status_code == 404
    assert client.get(url("release")).status_code == 405
    assert events(lot) == [
        (ItemStatus.DRAFT, ItemStatus.QUARANTINED, "seal broken"),
        (ItemStatus.QUARANTINED, ItemStatus.RELEASED, "resealed and re-tested"),
        (ItemStatus.RELEASED, ItemStatus.REJECTED, "failed again"),
    ]
    made_on_the_web = StatusEvent.objects.filter(item=lot)
    assert all(event.signed and event.signature_valid and event.user == sci for event in made_on_the_web)
