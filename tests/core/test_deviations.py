"""Holds reach downstream: an affected item is refused until a scientist signs a deviation naming each hold;
a lifted hold clears it, a new hold blocks again; the deviation shows on the item page, the impact report,
the admin and the passport; status follows use (what is used up is consumed, draft or released)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from assbtrack.tracing.choices import ItemKind, ItemStatus
from assbtrack.tracing.models import Deviation, DeviationPurpose, StatusEvent, TracedItem
from assbtrack.tracing.selectors import held_ancestors_for
from assbtrack.tracing.services import (
    deviation_record,
    edges_bulk_create,
    item_quarantine,
    item_reject,
    item_release,
    item_release_problems,
)
from cells.models import Cell
from tests.api.helpers import token_client
from tests.cells.test_cells_pages import cell_post, foil_rows
from tests.utils.checks import client_for
from tests.utils.factories import PASSWORD, partner_for, release_checks_set_aside, traced_item, use, use_across_projects
from tests.utils.factories_cells import make_cell, make_cell_films
from tests.utils.factories_electrodes import make_film, make_sheets
from tests.utils.factories_modules import make_module

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _bare_items_release():
    """Bare items have no detail record: the domain QC checks are set aside (holds are core rules)."""
    with release_checks_set_aside():
        yield


def today() -> str:
    now = timezone.localtime()
    return f"{now.day} {now:%b %Y}"


def refusal(service, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        service(**kwargs)
    return caught.value.message_dict


@pytest.fixture
def chain(project, tech):
    """lot A (100 g) and lot B (100 g) → batch (50 g) → film (50 g) → child; A and B are the holds to come."""
    lot_a = traced_item(project=project, user=tech)
    lot_b = traced_item(project=project, user=tech)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH, quantity="50")
    film = traced_item(project=project, user=tech, kind=ItemKind.CATHODE_FILM, quantity="50")
    use(lot_a, batch, user=tech, amount="20", unit="g")
    use(lot_b, batch, user=tech, amount="20", unit="g")
    use(batch, film, user=tech, amount="10", unit="g")
    return {"a": lot_a, "b": lot_b, "batch": batch, "film": film}


def record(item, user, *held, purpose=DeviationPurpose.USE, password=PASSWORD, reason="retest passed"):
    return deviation_record(item=item, user=user, purpose=purpose, reason=reason, password=password,
                            held_item_ids=[h.pk for h in held])


# ------------------------------------------------------------------------------------------------ refusals


def test_an_affected_item_is_refused_far_downstream_naming_the_hold(project, tech, sci, chain):
    item_quarantine(item=chain["a"], user=sci, reason="moisture in the jar")
    child = traced_item(project=project, user=tech, kind=ItemKind.SHEET)
    errors = refusal(use, parent=chain["film"], child=child, user=tech, amount="1", unit="g")
    assert errors == {"parent": [f"{chain['film'].code} is affected: it comes from {chain['a'].code}, "
                                 f"quarantined on {today()} by {sci.username} (moisture in the jar)"]}
    problems = item_release_problems(TracedItem.objects.get(pk=chain["film"].pk))
    assert problems == [f"{chain['film'].code} is affected: it comes from {chain['a'].code}, "
                        f"quarantined on {today()} by {sci.username} (moisture in the jar)"]
    assert refusal(item_release, item=chain["film"], user=sci)["status"] == problems
    assert TracedItem.objects.get(pk=chain["film"].pk).status == ItemStatus.DRAFT


def test_a_rejected_ancestor_is_named_as_rejected(project, tech, sci, chain):
    item_reject(item=chain["b"], user=sci, reason="wrong phase in XRD")
    message = item_release_problems(chain["batch"])[0]
    assert message == (f"{chain['batch'].code} is affected: it comes from {chain['b'].code}, rejected on {today()} "
                       f"by {sci.username} (wrong phase in XRD)")


def test_the_bulk_path_names_the_row_and_the_hold(project, tech, sci, chain):
    item_quarantine(item=chain["a"], user=sci, reason="moisture")
    fresh = traced_item(project=project, user=tech)
    child = traced_item(project=project, user=tech, kind=ItemKind.SHEET)
    errors = refusal(edges_bulk_create, edges=[(fresh.pk, child.pk, "1", "g", "other"),
                                               (chain["film"].pk, child.pk, "1", "g", "other")], user=tech)
    assert errors["parent"] == [f"row 2: {chain['film'].code} is affected: it comes from {chain['a'].code}, "
                                f"quarantined on {today()} by {sci.username} (moisture)"]
    assert not child.edges_in.exists()


# ---------------------------------------------------------------------------------------------- deviations


def test_a_deviation_overrides_only_the_holds_it_names(project, tech, sci, chain):
    item_quarantine(item=chain["a"], user=sci, reason="moisture")
    item_quarantine(item=chain["b"], user=sci, reason="bag open")
    assert len(item_release_problems(chain["film"])) == 2
    record(chain["film"], sci, chain["a"], purpose=DeviationPurpose.RELEASE)
    [left] = item_release_problems(chain["film"])
    assert chain["b"].code in left and chain["a"].code not in left
    record(chain["film"], sci, chain["b"], purpose=DeviationPurpose.RELEASE)
    released = item_release(item=chain["film"], user=sci, password=PASSWORD)
    assert released.status == ItemStatus.RELEASED
    # released under a deviation for release; it may still not be used without one for use
    child = traced_item(project=project, user=tech, kind=ItemKind.SHEET)
    errors = refusal(use, parent=chain["film"], child=child, user=tech, amount="1", unit="g")
    assert "is affected" in errors["parent"][0]


def test_a_new_hold_after_the_deviation_blocks_again_and_a_lift_clears_affected(project, tech, sci, chain):
    item_quarantine(item=chain["a"], user=sci, reason="moisture")
    [deviation] = record(chain["film"], sci, chain["a"])
    child = traced_item(project=project, user=tech, kind=ItemKind.SHEET)
    use(chain["film"], child, user=tech, amount="1", unit="g")  # under the deviation

    # the hold is lifted after a retest: nothing is affected any more, no deviation needed
    item_release(item=chain["a"], user=sci, reason="retest passed")
    assert held_ancestors_for([chain["film"].pk, child.pk]) == {}
    assert item_release_problems(chain["film"]) == []
    second = traced_item(project=project, user=tech, kind=ItemKind.SHEET)
    use(chain["film"], second, user=tech, amount="1", unit="g")

    # placed again: a new hold, which the old deviation does not name
    item_quarantine(item=chain["a"], user=sci, reason="second suspicion")
    third = traced_item(project=project, user=tech, kind=ItemKind.SHEET)
    errors = refusal(use, parent=chain["film"], child=third, user=tech, amount="1", unit="g")
    assert "second suspicion" in errors["parent"][0]
    assert deviation.hold_event.reason == "moisture"
    # a quarantine turned into a rejection is a new hold too
    record(chain["film"], sci, chain["a"])
    use(chain["film"], third, user=tech, amount="1", unit="g")
    item_reject(item=chain["a"], user=sci, reason="confirmed wet")
    fourth = traced_item(project=project, user=tech, kind=ItemKind.SHEET)
    assert "rejected" in refusal(use, parent=chain["film"], child=fourth, user=tech, amount="1", unit="g")["parent"][0]


def test_deviation_refusals_write_nothing(project, tech, sci, chain):
    item_quarantine(item=chain["a"], user=sci, reason="moisture")
    film, batch = chain["film"], chain["batch"]
    fresh = traced_item(project=project, user=tech)
    cases = [
        ({"item": film, "user": tech, "held": [chain["a"]]}, "user", "may not record deviations"),
        ({"item": film, "user": sci, "held": [chain["a"]], "password": "wrong"}, "password", "not correct"),
        ({"item": film, "user": sci, "held": [chain["a"]], "password": None}, "password", "re-enter your password"),
        ({"item": film, "user": sci, "held": [chain["a"]], "reason": "  "}, "reason", "needs a reason"),
        ({"item": film, "user": sci, "held": [chain["a"]], "purpose": "ship"}, "purpose", "choose one of"),
        ({"item": film, "user": sci, "held": []}, "holds", "name the hold"),
        ({"item": film, "user": sci, "held": [chain["b"]]}, "holds", "is not a hold upstream"),
        ({"item": fresh, "user": sci, "held": [chain["a"]]}, "holds", "is not affected"),
        ({"item": chain["a"], "user": sci, "held": [chain["a"]]}, "status", "lift its own hold instead"),
    ]
    for case, field, fragment in cases:
        errors = refusal(
            deviation_record, item=case["item"], user=case["user"], purpose=case.get("purpose", "use"),
            reason=case.get("reason", "retest"), password=case.get("password", PASSWORD),
            held_item_ids=[h.pk for h in case["held"]],
        )
        assert fragment in " ".join(errors[field]), (case, errors)
    assert not Deviation.objects.exists()
    record(batch, sci, chain["a"])
    again = refusal(deviation_record, item=batch, user=sci, purpose="use", reason="again", password=PASSWORD,
                    held_item_ids=[chain["a"].pk])
    assert "already overrides" in again["holds"][0]
    assert Deviation.objects.count() == 1


def test_deviations_are_signed_and_append_only(project, tech, sci, chain):
    item_quarantine(item=chain["a"], user=sci, reason="moisture")
    [deviation] = record(chain["film"], sci, chain["a"], reason="retest at 25 °C passed")
    assert (deviation.user, deviation.held_item, deviation.purpose) == (sci, chain["a"], "use")
    assert deviation.hold_event == StatusEvent.objects.get(item=chain["a"], to_status=ItemStatus.QUARANTINED)
    assert deviation.signature_valid
    with pytest.raises(ValueError, match="append-only"):
        deviation.save()
    with pytest.raises(ValueError, match="append-only"):
        deviation.delete()
    Deviation.objects.filter(pk=deviation.pk).update(reason="no reason at all")  # behind the application's back
    assert not Deviation.objects.get(pk=deviation.pk).signature_valid


# ------------------------------------------------------------------------------------------- status and use


def test_status_follows_use_for_drafts_too(project, tech, sci):
    films = make_cell_films(project, tech)
    cell = make_cell(project, tech, films=films)
    sheets = [layer.cathode.item for layer in cell.layers.all()] + [layer.separator.item for layer in cell.layers.all()]
    for sheet in TracedItem.objects.filter(pk__in=[s.pk for s in sheets]):
        assert sheet.status == ItemStatus.CONSUMED, sheet.code
        assert sheet.status_events.get().reason == f"used up by {cell.item.code}"
    module = make_module(project, tech, cells=[cell])
    assert TracedItem.objects.get(pk=cell.pk).status == ItemStatus.CONSUMED
    assert TracedItem.objects.get(pk=module.pk).status == ItemStatus.DRAFT
    # a film cut to its last cm² is consumed; a lot drawn to its last gram likewise
    film = make_film(project, tech)
    make_sheets(film, tech, count=2, area_cm2=float(film.item.quantity) / 2)
    assert TracedItem.objects.get(pk=film.pk).status == ItemStatus.CONSUMED
    lot = traced_item(project=project, user=tech, quantity="3")
    child = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    use(lot, child, user=tech, amount="3000", unit="mg")
    assert TracedItem.objects.get(pk=lot.pk).status == ItemStatus.CONSUMED
    assert lot.history.first().status == ItemStatus.CONSUMED


def test_bulk_uses_consume_drafts_in_aggregate(project, tech):
    lots = [traced_item(project=project, user=tech, quantity="2") for _ in range(3)]
    child = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    edges_bulk_create(edges=[(lots[0].pk, child.pk, "2", "g", "precursor"), (lots[1].pk, child.pk, "1", "g",
                                                                              "precursor")], user=tech)
    statuses = dict(TracedItem.objects.filter(pk__in=[lot.pk for lot in lots]).values_list("pk", "status"))
    assert statuses == {lots[0].pk: "consumed", lots[1].pk: "draft", lots[2].pk: "draft"}
    event = StatusEvent.objects.get(item=lots[0])
    assert (event.from_status, event.to_status) == ("draft", "consumed")
    assert event.reason == f"used up by {child.code} (bulk)"
    assert lots[0].history.first().status == "consumed"


# -------------------------------------------------------------------------------------- pages, admin, passport


def test_item_page_refuses_the_release_and_a_scientist_records_a_deviation(client, project, tech, sci, chain):
    item_quarantine(item=chain["a"], user=sci, reason="moisture")
    film = chain["film"]
    page = client_for(sci).get(reverse("tracing:item", args=[film.code])).content.decode()
    assert f"{film.code} is affected: it comes from {chain['a'].code}" in page  # "Not releasable yet"
    assert 'id="deviation-form"' in page
    # a technician sees the refusal but no form, and may not post one
    technician = client_for(tech)
    assert 'id="deviation-form"' not in technician.get(reverse("tracing:item", args=[film.code])).content.decode()
    data = {"purpose": "use", "holds": [str(chain["a"].pk)], "reason": "retest passed", "password": PASSWORD}
    assert technician.post(reverse("tracing:deviation", args=[film.code]), data).status_code == 403
    # a scientist with the wrong password: beside the password field, nothing written
    scientist = client_for(sci)
    response = scientist.post(reverse("tracing:deviation", args=[film.code]), {**data, "password": "nope"})
    assert response.status_code == 400
    assert "not correct" in " ".join(response.context["form"].errors["password"])
    assert not Deviation.objects.exists()
    response = scientist.post(reverse("tracing:deviation", args=[film.code]), data, follow=True)
    assert "Deviation recorded" in response.content.decode()
    deviations = response.context["deviations"]
    assert [(d.held_item, d.purpose, d.in_force) for d in deviations] == [(chain["a"], "use", True)]
    assert "signed by" in response.content.decode() and "retest passed" in response.content.decode()
    # the impact report of the held lot lists it; the admin shows it, read-only
    impact = scientist.get(reverse("tracing:impact", args=[chain["a"].code])).content.decode()
    assert "Deviations downstream (1)" in impact and film.code in impact
    sci.is_staff = True
    sci.save()
    admin = client_for(sci)
    listing = admin.get(reverse("admin:tracing_deviation_changelist"))
    assert listing.status_code == 200 and film.code in listing.content.decode()
    assert admin.get(reverse("admin:tracing_deviation_add")).status_code == 403
    # once lifted, the deviation is shown as no longer in force
    item_release(item=chain["a"], user=sci, reason="retest passed")
    response = scientist.get(reverse("tracing:item", args=[film.code]))
    assert [d.in_force for d in response.context["deviations"]] == [False]


def test_the_build_form_puts_the_refusal_beside_the_sheet(project, tech, sci):
    films = make_cell_films(project, tech)
    rows = foil_rows(films, tech, 1)
    batch = films["cathode"].components.get(role="electrolyte").source
    item_quarantine(item=batch, user=sci, reason="conductivity below specification")
    data = cell_post(project, rows, cell_format="single_layer_pouch", stacking="single_sheet")
    response = client_for(tech).post(reverse("cells:new"), data)
    assert response.status_code == 200
    errors = response.context["formset"].forms[0].errors["cathode"]
    assert errors == [f"{rows[0]['cathode']} is affected: it comes from {batch.code}, quarantined on {today()} by "
                      f"{sci.username} (conductivity below specification)"]
    assert 'id="id_layers-0-cathode-error"' in response.content.decode()
    assert not Cell.objects.exists()


def test_the_passport_lists_the_deviations_upstream(project, tech, sci):
    films = make_cell_films(project, tech)
    sheet_rows = foil_rows(films, tech, 1)
    batch = films["cathode"].components.get(role="electrolyte").source
    item_quarantine(item=batch, user=sci, reason="low conductivity")
    sheet = TracedItem.objects.get(code=sheet_rows[0]["cathode"])
    record(sheet, sci, batch, reason="used for a failure study only")
    response = client_for(tech).post(reverse("cells:new"), cell_post(
        project, sheet_rows, cell_format="single_layer_pouch", stacking="single_sheet"))
    assert response.status_code == 302
    cell = Cell.objects.get()
    partner = partner_for(project)
    document = token_client(partner).get(f"/api/v1/cells/{cell.item.code}/passport/").json()
    [entry] = document["deviations"]
    assert entry["code"] == sheet.code and entry["heldItem"] == batch.code and entry["purpose"] == "use"
    assert entry["reason"] == "used for a failure study only" and entry["inForce"] and entry["signatureValid"]


def test_a_partner_sees_the_deviation_but_not_a_held_item_outside_their_projects(project, other_project, tech, sci):
    hidden = traced_item(project=other_project, user=tech)
    shared = traced_item(project=project, user=tech)
    use_across_projects(hidden, shared, user=tech, amount="5", unit="g")
    item_quarantine(item=hidden, user=sci, reason="supplier recall")
    record(shared, sci, hidden, reason="supplier confirmed our lot is clean")
    partner = partner_for(project)
    response = client_for(partner).get(reverse("tracing:item", args=[shared.code]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "supplier confirmed our lot is clean" in page and "withheld" in page
    assert hidden.code not in page and "supplier recall" not in page
    # lab staff see the held item and the hold
    page = client_for(sci).get(reverse("tracing:item", args=[shared.code])).content.decode()
    assert hidden.code in page and "supplier recall" in page


def test_the_batch_status_page_says_beforehand_that_the_batch_is_affected(project, tech, sci):
    from tests.utils.factories_materials import make_batch, make_lot

    root, lot = make_lot(project, tech).item, make_lot(project, tech).item
    use(root, lot, user=tech, amount="1", unit="g")
    batch = make_batch(project, tech, precursors=[(lot, 5.0)])
    item_quarantine(item=root, user=sci, reason="moisture")
    page = client_for(sci).get(reverse("materials:batch-status", args=[batch.item.code])).content.decode()
    assert f"{batch.item.code} is affected: it comes from {root.code}, quarantined on {today()}" in page
