"""Journey 6: a partner logs in, creates a token, and cannot see a project not shared with them."""

from __future__ import annotations

import pytest

from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.services import item_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_partner_creates_a_token_and_sees_only_shared_projects(journey, demo):
    hidden = item_create(kind="material_lot", project=demo.other_project, user=demo.users["scientist"],
                         quantity=5, unit="g")
    shared = TracedItem.objects.filter(project=demo.project).order_by("pk").first() or item_create(
        kind="material_lot", project=demo.project, user=demo.users["scientist"], quantity=5, unit="g"
    )
    tab = journey("partner")
    tab.login("partner", "demo-partner-pw")
    tab.shot("dashboard")

    page = tab.go("/accounts/tokens/")
    page.fill("#id_name", "nightly export")
    page.fill("#id_lifetime_days", "30")
    page.click("text=Create token")
    key = page.inner_text("#new-token").strip()
    assert key.startswith("asb_")
    tab.shot("token-created")

    # the token works on the API for the shared project, and the other project does not exist for it
    api = tab.context.request
    headers = {"Authorization": f"Token {key}"}
    assert api.get(f"/api/v1/items/{shared.code}/", headers=headers).status == 200
    assert api.get(f"/api/v1/items/{hidden.code}/", headers=headers).status == 404
    listed = api.get("/api/v1/items/?page_size=500", headers=headers).json()["results"]
    assert hidden.code not in {row["code"] for row in listed}

    # by the pages too: the hidden item's page is "not found", searching its code finds nothing
    response = page.goto(f"/items/{hidden.code}/")
    assert response.status == 404
    tab.go(f"/search/?q={hidden.code}")
    assert "Nothing matches" in page.inner_text("main")
    assert page.locator(f"a[href='/items/{hidden.code}/']").count() == 0
    tab.shot("hidden-not-found")


def test_bad_input_shows_the_message_beside_the_field_and_keyboard_works(journey, demo):
    tab = journey("token-form")
    tab.login("partner", "demo-partner-pw")
    page = tab.go("/accounts/tokens/")
    # keyboard only: focus the name field, tab to the lifetime, type, submit with Enter
    page.focus("#id_name")
    page.keyboard.type("too long")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("4000")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    # the server's message, beside the field; what was typed is kept
    error = page.locator(".field.has-error .error")
    assert "Valid for must be at most 365 days" in error.inner_text()
    assert page.input_value("#id_name") == "too long"
    tab.shot("error-beside-field")
