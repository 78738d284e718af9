"""The lineage endpoints' JSON: amounts as numbers, nodes nearest first, held items named in affected_by."""

from __future__ import annotations

import pytest

from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.services import items_quarantine
from tests.utils.checks import client_for
from tests.utils.factories import PASSWORD, traced_item, use

pytestmark = pytest.mark.django_db


def test_upstream_downstream_and_impact_payloads(project, sci):
    lot = traced_item(project=project, user=sci, quantity="10")
    other = traced_item(project=project, user=sci, quantity="5")
    batch = traced_item(project=project, user=sci, kind=ItemKind.SSE_BATCH, quantity="4")
    film = traced_item(project=project, user=sci, kind=ItemKind.SEPARATOR_FILM, quantity=None)
    use(lot, batch, user=sci, amount="2.5", unit="g")
    use(other, batch, user=sci, amount="0.125", unit="g")
    use(batch, film, user=sci, amount="3", unit="g")
    items_quarantine(items=[lot], user=sci, reason="moisture", password=PASSWORD)
    client = client_for(sci)

    up = client.get(f"/api/v1/items/{film.code}/upstream/").json()
    assert up["root"] == film.code and up["direction"] == "upstream"
    assert [(node["code"], node["depth"]) for node in up["nodes"]] == [
        (batch.code, 1), *sorted([(lot.code, 2), (other.code, 2)])
    ]
    amounts = {(link["parent"], link["child"]): link["amount"] for link in up["links"]}
    assert amounts == {(batch.code, film.code): 3.0, (lot.code, batch.code): 2.5, (other.code, batch.code): 0.125}
    assert all(isinstance(value, float) for value in amounts.values())
    assert up["affected_by"] == [lot.code]  # the quarantined lot, and only it

    down = client.get(f"/api/v1/items/{lot.code}/downstream/").json()
    assert [(node["code"], node["depth"]) for node in down["nodes"]] == [(batch.code, 1), (film.code, 2)]
    assert [(link["parent"], link["child"], link["amount"]) for link in down["links"]] == [
        (lot.code, batch.code, 2.5), (batch.code, film.code, 3.0)
    ]
    assert down["affected_by"] == []
    assert client.get(f"/api/v1/items/{lot.code}/impact/").json()["affected_by"] == [lot.code]
    assert client.get(f"/api/v1/items/{other.code}/impact/").json()["affected_by"] == []
