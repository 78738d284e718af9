"""A refused signature keeps the reason the scientist typed: on the item page and on the batch's status page."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from assbtrack.tracing.choices import ItemStatus
from tests.utils.factories import traced_item
from tests.utils.factories_materials import make_batch

REASON = "Glovebox O2 rose to 40 ppm during milling; hold until XRD"


def _reason_box(page: str) -> str:
    start = page.index('name="reason"')
    return page[start:page.index("</textarea>", start)]


def test_a_wrong_password_on_the_item_page_keeps_the_reason(project, tech, sci):
    lot = traced_item(project=project, user=tech)
    client = Client()
    client.force_login(sci)
    response = client.post(reverse("tracing:status-action", args=[lot.code, "quarantine"]),
                           {"reason": REASON, "password": "not my password"}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert any("password" in message.message for message in response.context["messages"])
    assert REASON in _reason_box(page)
    lot.refresh_from_db()
    assert lot.status == ItemStatus.DRAFT
    # shown once: the next visit starts from an empty reason
    assert REASON not in _reason_box(client.get(reverse("tracing:item", args=[lot.code])).content.decode())


def test_a_missing_password_on_the_item_page_keeps_the_reason(project, tech, sci):
    lot = traced_item(project=project, user=tech)
    client = Client()
    client.force_login(sci)
    response = client.post(reverse("tracing:status-action", args=[lot.code, "quarantine"]), {"reason": REASON},
                           follow=True)
    assert REASON in _reason_box(response.content.decode())


def test_a_wrong_password_on_the_batch_status_page_keeps_the_reason(project, tech, sci):
    batch = make_batch(project, tech)
    client = Client()
    client.force_login(sci)
    response = client.post(reverse("materials:batch-status", args=[batch.item.code]),
                           {"action": "quarantine", "reason": REASON, "password": "not my password"})
    assert response.status_code == 200
    page = response.content.decode()
    assert REASON in _reason_box(page)
    assert "password" in " ".join(response.context["form"].errors.get("password", []))
    batch.item.refresh_from_db()
    assert batch.item.status == ItemStatus.DRAFT
