"""Issue 15: "affected" shows everywhere an item shows — web lists, admin change lists (column and filter), API
lists, details and exports, the dashboard — from ONE lineage query per page (or export block), the same count
with 3 rows as with 30, and a partner learns that an item is affected without learning the code of a held
ancestor outside the projects shared with them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from assbtrack.access.services import api_token_create
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.models import LineageEdge, TracedItem
from assbtrack.tracing.selectors import WITHHELD, affected_count, held_ancestors_for
from assbtrack.tracing.services import item_quarantine, item_release
from materials.services import conductivity_spec_set
from tests.api.helpers import make_chain, token_client
from tests.bench.test_query_budgets import GrowingLab, measure
from tests.utils.checks import client_for
from tests.utils.factories import partner_for, traced_item, use, use_across_projects
from tests.utils.factories_materials import make_measurement

pytestmark = pytest.mark.django_db

WEB_LISTS = ["/materials/", "/materials/lots/", "/materials/batches/", "/electrodes/", "/electrodes/sheets/",
             "/cells/", "/modules/"]
ADMIN_LISTS = ["tracing/traceditem", "materials/materiallot", "materials/synthesisbatch", "electrodes/film",
               "electrodes/sheet", "cells/cell", "modules/module"]
API_LISTS = ["items", "material-lots", "sse-batches", "films", "sheets", "cells", "modules"]
# the kinds downstream of a held precursor lot: every one of them must show as affected on its list
AFFECTED_ON = {"/materials/batches/": "SSE-", "/electrodes/": ("CAT-", "SEP-", "ANO-"), "/electrodes/sheets/": "SHT-",
               "/cells/": "CELL-", "/modules/": "MOD-"}


def quarantine_newest_precursor(lab: GrowingLab) -> TracedItem:
    """Hold the newest lot that went into a batch: everything made from that batch is affected."""
    edge = (LineageEdge.objects.filter(child__kind=ItemKind.SSE_BATCH, parent__kind=ItemKind.MATERIAL_LOT)
            .select_related("parent").order_by("-child_id", "-parent_id").first())
    item_quarantine(item=edge.parent, user=lab.lab.users["scientist"], reason="moisture in the bottle")
    return edge.parent


def affected_codes_in(page: str) -> set[str]:
    return {part.split('"', 1)[0] for part in page.split('data-affected="')[1:]}


def test_every_list_shows_affected_at_a_fixed_count_of_queries_3_and_30_rows():
    lab = GrowingLab()
    lab.grow_to(3)
    held_lot = quarantine_newest_precursor(lab)
    users = lab.lab.users
    tech, admin = client_for(users["technician"]), client_for(users["admin"])
    _token, key = api_token_create(user=users["scientist"], name="affected", lifetime_days=1)
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")
    _token, partner_key = api_token_create(user=users["partner"], name="affected", lifetime_days=1)
    partner = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {partner_key}")
    targets = (
        [(path, tech, lambda path=path: path) for path in WEB_LISTS]
        + [(f"admin {name}", admin, lambda name=name: f"/admin/{name}/") for name in ADMIN_LISTS]
        + [(f"admin {name} affected=yes", admin, lambda name=name: f"/admin/{name}/?affected=yes")
           for name in ADMIN_LISTS]
        + [(f"api {name}", api, lambda name=name: f"/api/v1/{name}/?page_size=100") for name in API_LISTS]
        + [(f"partner api {name}", partner, lambda name=name: f"/api/v1/{name}/?page_size=100")
           for name in API_LISTS]
    )

    def check_pages(held_lot: TracedItem) -> None:
        expected = set(TracedItem.objects.filter(pk__in=held_ancestors_for(
            TracedItem.objects.values_list("pk", flat=True))).values_list("code", flat=True))
        assert expected, "nothing is affected: the counts would prove nothing"
        for path, prefix in AFFECTED_ON.items():
            shown = affected_codes_in(tech.get(path).content.decode())
            assert shown and all(code.startswith(prefix) for code in shown), (path, shown)
            assert shown <= expected, (path, shown - expected)
        for name in API_LISTS:
            rows = api.get(f"/api/v1/{name}/?page_size=1000").json()["results"]
            flagged = {row["code"] for row in rows if row["affected"]}
            assert flagged == expected & {row["code"] for row in rows}, name
        changelist = admin.get("/admin/cells/cell/?affected=yes").content.decode()
        cells = {code for code in expected if code.startswith("CELL-")}
        assert cells and all(code in changelist for code in cells)
        assert not any(code in admin.get("/admin/cells/cell/?affected=no").content.decode() for code in cells)
        # the held lot itself is held, not affected
        row = f"/admin/tracing/traceditem/{held_lot.pk}/change/"
        assert row in admin.get(f"/admin/tracing/traceditem/?affected=no&q={held_lot.code}").content.decode()
        assert row not in admin.get(f"/admin/tracing/traceditem/?affected=yes&q={held_lot.code}").content.decode()

    small = measure(targets)
    check_pages(held_lot)
    lab.grow_to(30)
    held_lot = quarantine_newest_precursor(lab)
    large = measure(targets)
    check_pages(held_lot)
    assert {name for name, (_queries, status) in small.items() if status != 200} == set()
    grew = {name: (small[name][0], large[name][0]) for name in small if small[name][0] != large[name][0]}
    assert not grew, f"query counts that grow with the rows (3 cells → 30 cells): {grew}"


def test_held_item_is_held_not_affected_and_lifting_the_hold_clears_affected(project, sci):
    chain = make_chain(project, sci, cells=2)
    batch, cell, module = chain["batch"].item, chain["cells"][0].item, chain["module"].item
    item_quarantine(item=batch, user=sci, reason="conductivity below specification")
    held = held_ancestors_for([batch.pk, cell.pk, module.pk])
    assert batch.pk not in held  # the batch itself is held, not affected by itself
    assert [a.code for a in held[cell.pk]] == [a.code for a in held[module.pk]] == [batch.code]
    # cells, module, films and sheets of the chain: 2 cells, 1 module, 2 films, 2 sheets per cell (cathode, separator)
    downstream = TracedItem.objects.exclude(kind__in=(ItemKind.MATERIAL_LOT, ItemKind.SSE_BATCH)).filter(
        pk__in=held_ancestors_for(TracedItem.objects.values_list("pk", flat=True)))
    assert affected_count(sci) == downstream.count() >= 7

    client = token_client(sci)
    body = client.get(f"/api/v1/cells/{cell.code}/").json()
    assert (body["affected"], body["affected_by"]) == (True, [batch.code])
    assert client.get(f"/api/v1/sse-batches/{batch.code}/").json()["affected"] is False
    assert f'<b>{affected_count(sci)}</b> affected' in client_for(sci).get("/").content.decode()

    conductivity_spec_set(project=project, composition=chain["batch"].composition, minimum_ms_per_cm=2.0, user=sci)
    make_measurement(chain["batch"], sci, conductivity_ms_per_cm=3.1)
    item_release(item=batch, user=sci, reason="retest passed: 3.1 mS/cm")
    assert held_ancestors_for([cell.pk, module.pk]) == {}
    assert client.get(f"/api/v1/modules/{module.code}/").json()["affected"] is False
    assert affected_count(sci) == 0


def test_a_partner_sees_affected_but_not_the_code_of_a_hold_outside_their_projects(
        project, other_project, tech, sci):
    partner = partner_for(project)  # may read `project` only
    hidden_lot = traced_item(project=other_project, user=tech)
    shared_lot = traced_item(project=project, user=tech)
    batch = traced_item(project=project, user=tech, kind=ItemKind.SSE_BATCH)
    cell = traced_item(project=project, user=tech, kind=ItemKind.CELL, quantity="1", unit="pcs")
    use_across_projects(hidden_lot, batch, user=tech, amount="5", unit="g")
    use(shared_lot, batch, user=tech, amount="5", unit="g")
    use(batch, cell, user=tech, amount="1", unit="g")
    item_quarantine(item=hidden_lot, user=sci, reason="supplier recall")

    def seen_by(user, code=batch.code) -> tuple:
        body = token_client(user).get(f"/api/v1/items/{code}/").json()
        return body["affected"], body["affected_by"]

    assert seen_by(sci) == (True, [hidden_lot.code])
    assert seen_by(partner) == seen_by(partner, cell.code) == (True, [WITHHELD])

    item_quarantine(item=shared_lot, user=sci, reason="caked powder")  # a hold the partner may see
    assert seen_by(partner) == (True, [shared_lot.code, WITHHELD])
    assert seen_by(sci)[1] == sorted([hidden_lot.code, shared_lot.code])

    client = token_client(partner)
    listed = {row["code"]: (row["affected"], row["affected_by"])
              for row in client.get("/api/v1/items/").json()["results"]}
    assert listed[cell.code] == listed[batch.code] == (True, [shared_lot.code, WITHHELD])
    assert listed[shared_lot.code] == (False, [])
    for fmt in ("csv", "jsonl"):
        text = b"".join(client.get("/api/v1/items/", {"export": fmt}).streaming_content).decode()
        assert hidden_lot.code not in text and WITHHELD in text and shared_lot.code in text, fmt
    rows = list(csv.DictReader(io.StringIO(b"".join(
        client.get("/api/v1/items/", {"export": "csv"}).streaming_content).decode())))
    assert {row["code"]: (row["affected"], row["affected_by"]) for row in rows}[batch.code] == (
        "True", json.dumps([shared_lot.code, WITHHELD], separators=(",", ":")))
    page = client_for(partner).get(batch.get_absolute_url()).content.decode()
    assert "not shared with you" in page and hidden_lot.code not in page


def test_exports_write_affected_the_same_on_both_paths(project, sci, settings):
    chain = make_chain(project, sci, cells=2)
    item_quarantine(item=chain["films"]["separator"].item, user=sci, reason="pinholes")
    client = token_client(sci)
    for path in (f"/api/v1/{name}/" for name in API_LISTS):
        outputs = []
        for flat in (True, False):
            settings.ASSBTRACK_EXPORT_FLAT = flat
            outputs.append({fmt: b"".join(client.get(path, {"export": fmt}).streaming_content).decode()
                            for fmt in ("csv", "jsonl")})
        assert outputs[0] == outputs[1], path
    lines = [json.loads(line) for line in outputs[0]["jsonl"].splitlines()]  # the modules
    assert lines and all(line["affected"] and line["affected_by"] == [chain["films"]["separator"].item.code]
                         for line in lines)


def test_lineage_and_impact_csvs_say_what_is_affected(project, sci):
    chain = make_chain(project, sci, cells=1)
    separator, cell, module = chain["films"]["separator"].item, chain["cells"][0].item, chain["module"].item
    item_quarantine(item=separator, user=sci, reason="pinholes")
    client = client_for(sci)

    def table(url: str, **params) -> list[dict]:
        response = client.get(url, params)
        return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    rows = table(reverse("tracing:lineage-csv", args=[cell.code]), direction="upstream")
    state = {row["code"]: (row["affected"], row["affected_by"]) for row in rows}
    assert state[separator.code] == ("false", "")  # held, not affected
    assert state[chain["batch"].item.code] == ("false", "")
    sheets = [code for code in state if code.startswith("SHT-")]
    assert sheets and {state[code] for code in sheets if code != separator.code} >= {("true", separator.code)}
    rows = table(reverse("tracing:impact", args=[separator.code]), format="csv")
    assert {row["code"]: row["affected"] for row in rows if row["code"] in (cell.code, module.code)} == {
        cell.code: "true", module.code: "true"}
