"""What the lineage and item services refuse, with a message that names the field, and the database backing them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from assbtrack.tracing.choices import ItemKind, LineageRole
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.services import item_create, item_quarantine, item_reject
from tests.utils.factories import traced_item, use

pytestmark = pytest.mark.django_db


def refusal(call, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value.message_dict


def assert_nothing_written(parent: TracedItem, edges_before: int, used_before: Decimal) -> None:
    parent.refresh_from_db()
    assert LineageEdge.objects.count() == edges_before
    assert parent.quantity_used == used_before


def test_self_use_is_refused(project, tech):
    lot = traced_item(project=project, user=tech)
    errors = refusal(use, lot, lot, user=tech, amount="1")
    assert "cannot be used in itself" in " ".join(errors["parent"])
    assert lot.code in errors["parent"][0]
    assert_nothing_written(lot, 0, Decimal("0"))


def test_a_use_closing_a_cycle_is_refused(project, tech):
    a = traced_item(project=project, user=tech)
    b = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    c = traced_item(project=project, user=tech, kind=ItemKind.CATHODE_FILM)
    use(a, b, user=tech, amount="1")  # b used a
    use(b, c, user=tech, amount="1")  # c used b

    errors = refusal(use, c, a, user=tech, amount="1")  # a would use c: a → b → c → a
    assert "cycle" in errors["parent"][0]
    assert a.code in errors["parent"][0] and c.code in errors["parent"][0]
    errors = refusal(use, b, a, user=tech, amount="1")
    assert "cycle" in errors["parent"][0]
    assert_nothing_written(c, 2, Decimal("0"))


def test_amount_beyond_what_is_left_is_refused(project, tech):
    lot = traced_item(project=project, user=tech, quantity="2", unit="g")
    first = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    second = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    use(lot, first, user=tech, amount="1.5", unit="g")

    errors = refusal(use, lot, second, user=tech, amount="0.6", unit="g")
    message = errors["amount"][0]
    assert "only 0.5 g left" in message and "0.6 g asked" in message
    assert_nothing_written(lot, 1, Decimal("1.5"))

    use(lot, second, user=tech, amount="0.5", unit="g")  # exactly what is left is fine
    lot.refresh_from_db()
    assert lot.quantity_remaining == Decimal("0")


def test_amounts_in_another_mass_unit_are_converted_to_the_stock_unit(project, tech):
    lot = traced_item(project=project, user=tech, quantity="2", unit="g")
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    film = traced_item(project=project, user=tech, kind=ItemKind.CATHODE_FILM)

    edge = use(lot, batch, user=tech, amount="1500", unit="mg", role=LineageRole.PRECURSOR)
    assert (edge.amount, edge.unit) == (Decimal("1.5"), "g")
    lot.refresh_from_db()
    assert lot.quantity_used == Decimal("1.5")

    errors = refusal(use, lot, film, user=tech, amount="600", unit="mg")
    assert "only 0.5 g left; 0.6 g asked" in errors["amount"][0]

    kilo_lot = traced_item(project=project, user=tech, quantity="1", unit="kg")
    edge = use(kilo_lot, film, user=tech, amount="250", unit="g")
    assert (edge.amount, edge.unit) == (Decimal("0.25"), "kg")


@pytest.mark.parametrize(("stock_unit", "asked_unit"), [("g", "pcs"), ("pcs", "g"), ("g", "cm2"), ("cm2", "mg")])
def test_amount_in_an_incompatible_unit_is_refused(project, tech, stock_unit, asked_unit):
    stock = traced_item(project=project, user=tech, quantity="10", unit=stock_unit)
    child = traced_item(project=project, user=tech, kind=ItemKind.CELL, quantity="1", unit="pcs")
    errors = refusal(use, stock, child, user=tech, amount="1", unit=asked_unit)
    assert f"cannot use an amount in {asked_unit} from a stock counted in {stock_unit}" in errors["unit"][0]
    assert_nothing_written(stock, 0, Decimal("0"))


@pytest.mark.parametrize(
    ("amount", "fragment"),
    [("0", "greater than zero"), ("-1", "greater than zero"), ("abc", "must be a number"), ("NaN", "finite")],
)
def test_amount_must_be_a_positive_number(project, tech, amount, fragment):
    lot = traced_item(project=project, user=tech)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    assert fragment in refusal(use, lot, batch, user=tech, amount=amount)["amount"][0]
    assert_nothing_written(lot, 0, Decimal("0"))


def test_amount_is_required_from_a_stock_and_impossible_without_one(project, tech):
    lot = traced_item(project=project, user=tech)
    countless = traced_item(project=project, user=tech, quantity=None)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    assert "say how much" in refusal(use, lot, batch, user=tech)["amount"][0]
    assert "no recorded quantity" in refusal(use, countless, batch, user=tech, amount="1")["amount"][0]
    edge = use(countless, batch, user=tech)
    assert (edge.amount, edge.unit) == (None, "")


def test_unknown_role_and_repeated_use_are_refused(project, tech):
    lot = traced_item(project=project, user=tech)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    assert "unknown role" in refusal(use, lot, batch, user=tech, amount="1", role="glue")["role"][0]
    use(lot, batch, user=tech, amount="1", role=LineageRole.PRECURSOR)
    assert "already uses" in refusal(use, lot, batch, user=tech, amount="1", role=LineageRole.PRECURSOR)["parent"][0]
    assert_nothing_written(lot, 1, Decimal("1"))


@pytest.mark.parametrize("hold", ["quarantine", "reject"])
def test_no_new_use_of_a_held_parent(project, tech, sci, hold):
    lot = traced_item(project=project, user=tech)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    service = item_quarantine if hold == "quarantine" else item_reject
    service(item=lot, user=sci, reason="moisture above 1 ppm")

    message = refusal(use, lot, batch, user=tech, amount="1")["parent"][0]
    assert message == f"{lot.code} is {'quarantined' if hold == 'quarantine' else 'rejected'}: moisture above 1 ppm"
    assert_nothing_written(lot, 0, Decimal("0"))


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"quantity": "-1", "unit": "g"}, "quantity", "cannot be negative"),
        ({"quantity": "5", "unit": ""}, "unit", "needs a unit"),
        ({"quantity": "five", "unit": "g"}, "quantity", "must be a number"),
        ({"quantity": "1", "unit": "lb"}, "unit", "not a valid choice"),
        ({"kind": "gizmo"}, "kind", "unknown kind"),
    ],
)
def test_item_create_refuses_bad_input_and_writes_nothing(project, tech, kwargs, field, fragment):
    arguments = {"kind": ItemKind.MATERIAL_LOT, "project": project, "user": tech, **kwargs}
    errors = refusal(item_create, **arguments)
    assert fragment in " ".join(errors[field])
    assert not TracedItem.objects.exists()


def refused_by_database(update) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        update()


def test_database_backs_up_mass_balance_and_quantities(project, tech):
    lot = traced_item(project=project, user=tech, quantity="2", unit="g")
    rows = TracedItem.objects.filter(pk=lot.pk)

    refused_by_database(lambda: rows.update(quantity_used=F("quantity") + 1))
    refused_by_database(lambda: rows.update(quantity_used=-1))
    refused_by_database(lambda: rows.update(quantity=-1))
    refused_by_database(lambda: rows.update(quantity=Decimal("1"), quantity_used=Decimal("1.5")))
    refused_by_database(lambda: rows.update(unit=""))
    lot.refresh_from_db()
    assert (lot.quantity, lot.quantity_used, lot.unit) == (Decimal("2"), Decimal("0"), "g")
    rows.update(quantity=None, unit="")  # an item without a quantity needs no unit


def test_database_backs_up_the_edge_rules(project, tech):
    lot = traced_item(project=project, user=tech)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    edge = use(lot, batch, user=tech, amount="1", role=LineageRole.PRECURSOR)
    rows = LineageEdge.objects.filter(pk=edge.pk)

    refused_by_database(lambda: rows.update(child=lot))  # self-use
    refused_by_database(lambda: rows.update(amount=0))
    refused_by_database(lambda: rows.update(amount=-2))
    refused_by_database(
        lambda: LineageEdge.objects.create(parent=lot, child=batch, role=LineageRole.PRECURSOR, created_by=tech)
    )
    edge.refresh_from_db()
    assert (edge.parent_id, edge.child_id, edge.amount) == (lot.pk, batch.pk, Decimal("1"))
