"""Audit: history rows with who and why, shown on the item page; nothing used downstream can be deleted."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.urls import reverse

from assbtrack.jobs.services import job_submit
from assbtrack.tracing.choices import ItemKind, ItemStatus
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.services import item_quarantine, item_release, record_change_check
from tests.utils.factories import PASSWORD, release_checks_set_aside, traced_item, use

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _core_release_rules_only():
    """These tests release bare items: the domain apps' QC checks (which need a domain record) are set aside."""
    with release_checks_set_aside():
        yield


def test_status_change_through_the_page_is_in_the_history_with_user_and_reason(client, project, tech, sci):
    lot = traced_item(project=project, user=tech)
    client.force_login(sci)
    client.post(
        reverse("tracing:status-action", args=[lot.code, "release"]),
        {"reason": "XRD phase-pure, 2.4 mS/cm", "password": PASSWORD},
    )

    rows = list(lot.history.order_by("history_date", "history_id"))
    assert [row.history_type for row in rows] == ["+", "~"]
    created, released = rows
    assert created.status == ItemStatus.DRAFT and created.history_user is None  # made by a service, not a page
    assert released.status == ItemStatus.RELEASED
    assert released.history_change_reason == "XRD phase-pure, 2.4 mS/cm"
    assert released.history_user == sci

    page = client.get(reverse("tracing:item", args=[lot.code])).content.decode()
    history = page.split("<h2>History</h2>")[1]
    assert "status: draft → released" in history
    assert "XRD phase-pure, 2.4 mS/cm" in history
    assert sci.username in history


def test_quarantine_through_the_page_records_its_reason_in_the_history(client, project, tech, sci):
    lot = traced_item(project=project, user=tech)
    client.force_login(sci)
    client.post(
        reverse("tracing:status-action", args=[lot.code, "quarantine"]),
        {"reason": "glovebox O2 spiked to 40 ppm", "password": PASSWORD},
    )
    latest = lot.history.latest()
    assert (latest.status, latest.status_reason) == (ItemStatus.QUARANTINED, "glovebox O2 spiked to 40 ppm")
    assert (latest.history_change_reason, latest.history_user) == ("glovebox O2 spiked to 40 ppm", sci)


def test_an_edge_is_kept_in_the_history(project, tech):
    lot = traced_item(project=project, user=tech)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    edge = use(lot, batch, user=tech, amount="2")
    rows = edge.history.all()
    assert [(row.parent_id, row.child_id, row.amount, row.history_type) for row in rows] == [(lot.pk, batch.pk, 2, "+")]


def test_nothing_with_downstream_use_can_be_deleted(project, tech, sci):
    lot = traced_item(project=project, user=tech)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    use(lot, batch, user=tech, amount="1")
    for item in (lot, batch):
        with pytest.raises(ProtectedError):
            item.delete()
    assert TracedItem.objects.filter(pk__in=[lot.pk, batch.pk]).count() == 2
    assert LineageEdge.objects.filter(parent=lot, child=batch).exists()

    measured = traced_item(project=project, user=tech)
    job_submit(kind="conductivity", inputs={"thickness_mm": 1.0, "area_cm2": 0.8, "resistance_ohm": 40}, user=sci,
               subject=measured)
    with pytest.raises(ProtectedError):
        measured.delete()

    held = traced_item(project=project, user=tech)
    item_quarantine(item=held, user=sci, reason="status events keep it")
    with pytest.raises(ProtectedError):
        held.delete()


def test_record_change_needs_a_reason_once_not_a_draft(project, tech, sci):
    lot = traced_item(project=project, user=tech)
    assert record_change_check(item=lot, reason="") == ""
    assert record_change_check(item=lot, reason=" typo ") == "typo"

    item_release(item=lot, user=sci)
    lot.refresh_from_db()
    for blank in ("", "   ", None):
        with pytest.raises(ValidationError) as caught:
            record_change_check(item=lot, reason=blank)
        assert f"{lot.code} is released: say why" in caught.value.message_dict["change_reason"][0]
    assert record_change_check(item=lot, reason=" supplier corrected the purity ") == "supplier corrected the purity"
