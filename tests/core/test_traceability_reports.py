"""Issue 7: lineage graph, impact/recall, composition report, labels, signed status changes, search."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assbtrack.tracing.choices import ItemKind, ItemStatus
from assbtrack.tracing.models import StatusEvent, TracedItem
from assbtrack.tracing.services import item_quarantine
from tests.utils.checks import client_for
from tests.utils.factories import traced_item, use

pytestmark = pytest.mark.django_db


def build_chain(project, user, *, sheets: int):
    """Two lots feed two batches (a shared ancestor: lot_a feeds both), both batches feed one film, the
    film is cut into ``sheets`` sheets. Returns the pieces."""
    lot_a = traced_item(project=project, user=user, quantity="10")
    lot_b = traced_item(project=project, user=user, quantity="10")
    batch_1 = traced_item(project=project, user=user, kind=ItemKind.SSE_BATCH, quantity="5")
    batch_2 = traced_item(project=project, user=user, kind=ItemKind.SSE_BATCH, quantity="5")
    use(lot_a, batch_1, user=user, amount="2", unit="g", role="precursor")
    use(lot_a, batch_2, user=user, amount="1500", unit="mg", role="precursor")
    use(lot_b, batch_2, user=user, amount="3", unit="g", role="precursor")
    film = traced_item(project=project, user=user, kind=ItemKind.CATHODE_FILM, quantity="500", unit="cm2")
    use(batch_1, film, user=user, amount="1", unit="g", role="electrolyte")
    use(batch_2, film, user=user, amount="0.5", unit="g", role="electrolyte")
    cut = [
        traced_item(project=project, user=user, kind=ItemKind.SHEET, quantity="1", unit="pcs") for _ in range(sheets)
    ]
    for sheet in cut:
        use(film, sheet, user=user, amount="10", unit="cm2", role="cut_from")
    return {"lot_a": lot_a, "lot_b": lot_b, "batch_1": batch_1, "batch_2": batch_2, "film": film, "sheets": cut}


def test_composition_report_lists_each_ancestor_once_with_amounts(project, sci):
    chain = build_chain(project, sci, sheets=2)
    client = client_for(sci)
    response = client.get(reverse("tracing:composition", args=[chain["sheets"][0].code]))
    assert response.status_code == 200
    rows = response.context["rows"]
    # the shared ancestor lot_a appears once as a node, with one row per use (into batch_1 and batch_2)
    nodes = {row["node"].code for row in rows}
    assert nodes == {chain[k].code for k in ("lot_a", "lot_b", "batch_1", "batch_2", "film")}
    uses_of_a = sorted((row["other"], row["link"].amount) for row in rows if row["node"].code == chain["lot_a"].code)
    assert uses_of_a == sorted([(chain["batch_1"].code, Decimal("2")), (chain["batch_2"].code, Decimal("1.5"))])


def test_impact_report_query_count_does_not_grow_with_fan_out(project, sci):
    small = build_chain(project, sci, sheets=3)
    large = build_chain(project, sci, sheets=30)
    client = client_for(sci)
    counts = []
    for chain in (small, large):
        url = reverse("tracing:impact", args=[chain["lot_a"].code])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
        codes = [row.node.code for row in response.context["report"].rows]
        assert len(codes) == len(set(codes)), "an item appears twice in the impact report"
        assert set(codes) >= {sheet.code for sheet in chain["sheets"]}
    assert counts[0] == counts[1]


def test_impact_csv_and_pdf_downloads(project, sci):
    chain = build_chain(project, sci, sheets=4)
    client = client_for(sci)
    url = reverse("tracing:impact", args=[chain["batch_1"].code])
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0][0] == "code"
    assert {row[0] for row in table[1:]} == {chain["film"].code, *(s.code for s in chain["sheets"])}
    pdf = client.get(url, {"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_lineage_graph_draws_each_node_once_and_collapses_big_groups(project, sci):
    chain = build_chain(project, sci, sheets=12)
    client = client_for(sci)
    page = client.get(reverse("tracing:item", args=[chain["film"].code])).content.decode()
    # upstream nodes are drawn once each
    for key in ("lot_a", "lot_b", "batch_1", "batch_2"):
        assert page.count(f'data-code="{chain[key].code}"') == 1
    # twelve sheets downstream collapse into one group node that links to its expansion
    assert "12 × sheet" in page
    assert f'data-code="{chain["sheets"][0].code}"' not in page
    expanded = client.get(reverse("tracing:item", args=[chain["film"].code]), {"expand": "sheet"}).content.decode()
    assert all(f'data-code="{sheet.code}"' in expanded for sheet in chain["sheets"])


def test_lineage_csv_download(project, sci):
    chain = build_chain(project, sci, sheets=1)
    response = client_for(sci).get(reverse("tracing:lineage-csv", args=[chain["sheets"][0].code]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_pair = {(row["code"], row["linked_to"]): row for row in rows}
    assert by_pair[(chain["lot_b"].code, chain["batch_2"].code)]["amount"] == "3"
    assert by_pair[(chain["film"].code, chain["sheets"][0].code)]["unit"] == "cm2"


def test_recall_quarantines_the_whole_set_in_one_signed_transaction(project, sci):
    chain = build_chain(project, sci, sheets=5)
    client = client_for(sci)
    url = reverse("tracing:recall", args=[chain["batch_2"].code])
    response = client.post(
        url, {"reason": "H2S smell on opening", "password": "correct-horse-battery", "include_item": "on"}
    )
    assert response.status_code == 302
    downstream = [chain["film"], *chain["sheets"], chain["batch_2"]]
    statuses = set(TracedItem.objects.filter(pk__in=[i.pk for i in downstream]).values_list("status", flat=True))
    assert statuses == {ItemStatus.QUARANTINED}
    events = StatusEvent.objects.filter(item__in=downstream, to_status=ItemStatus.QUARANTINED)
    assert events.count() == len(downstream)
    assert all(event.signed and event.signature_valid and event.user == sci for event in events)
    # the audit history of each item records the reason
    film_history = chain["film"].history.first()
    assert film_history.history_change_reason == "H2S smell on opening"
    # batch_1 (upstream of the film, not downstream of batch_2) is untouched
    chain["batch_1"].refresh_from_db()
    assert chain["batch_1"].status == ItemStatus.DRAFT


def test_recall_with_a_wrong_password_changes_nothing(project, sci):
    chain = build_chain(project, sci, sheets=3)
    response = client_for(sci).post(
        reverse("tracing:recall", args=[chain["batch_1"].code]), {"reason": "suspect", "password": "wrong"}
    )
    assert response.status_code == 400
    assert "password is not correct" in response.content.decode()
    assert not TracedItem.objects.filter(status=ItemStatus.QUARANTINED).exists()
    assert not StatusEvent.objects.exists()


def test_recall_is_refused_to_a_technician(project, tech):
    chain = build_chain(project, tech, sheets=1)
    response = client_for(tech).post(
        reverse("tracing:recall", args=[chain["batch_1"].code]),
        {"reason": "suspect", "password": "correct-horse-battery"},
    )
    assert response.status_code == 400
    assert "may not quarantine" in response.content.decode()
    assert not TracedItem.objects.filter(status=ItemStatus.QUARANTINED).exists()


def test_signed_release_records_the_signer_and_refuses_a_wrong_password(project, sci):
    item = traced_item(project=project, user=sci)
    client = client_for(sci)
    url = reverse("tracing:status-action", args=[item.code, "release"])
    client.post(url, {"reason": "QC passed", "password": "not-my-password"})
    item.refresh_from_db()
    assert item.status == ItemStatus.DRAFT
    assert not StatusEvent.objects.filter(item=item).exists()
    client.post(url, {"reason": "QC passed", "password": "correct-horse-battery"})
    item.refresh_from_db()
    assert item.status == ItemStatus.RELEASED
    event = StatusEvent.objects.get(item=item)
    assert (event.user, event.reason, event.signed, event.signature_valid) == (sci, "QC passed", True, True)
    page = client.get(reverse("tracing:item", args=[item.code])).content.decode()
    assert f"signed by {sci.username}" in page


def test_a_status_signature_cannot_be_edited(project, sci):
    item = traced_item(project=project, user=sci)
    item_quarantine(item=item, user=sci, reason="moisture", password="correct-horse-battery")
    event = StatusEvent.objects.get(item=item)
    event.reason = "nothing happened"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    # an edit behind the application's back no longer verifies
    StatusEvent.objects.filter(pk=event.pk).update(reason="nothing happened")
    assert not StatusEvent.objects.get(pk=event.pk).signature_valid


@pytest.mark.parametrize("count", [1, 100])
def test_label_sheet_renders_one_qr_per_item(project, sci, count):
    items = [traced_item(project=project, user=sci, quantity=None) for _ in range(count)]
    client = client_for(sci)
    codes = ",".join(item.code for item in items)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("tracing:labels"), {"codes": codes, "layout": "a4-3x7"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="label"') == count
    assert page.count("<svg") == count
    assert "63.5mm" in page
    assert len(queries) < 10


def test_labels_leave_out_items_a_partner_may_not_see(project, other_project, sci, partner):
    mine = traced_item(project=project, user=sci)
    theirs = traced_item(project=other_project, user=sci)
    page = client_for(partner).get(reverse("tracing:labels"), {"codes": f"{mine.code},{theirs.code}"}).content.decode()
    assert f'data-code="{mine.code}"' in page
    assert f'data-code="{theirs.code}"' not in page


def test_search_finds_by_code_scan_and_notes(project, sci):
    item = traced_item(project=project, user=sci)
    noted = TracedItem.objects.get(pk=traced_item(project=project, user=sci).pk)
    TracedItem.objects.filter(pk=noted.pk).update(notes="jar cracked during milling")
    client = client_for(sci)
    # an exact code, in any case, goes straight to the item
    assert client.get(reverse("tracing:search"), {"q": item.code.lower()})["Location"].endswith(f"/{item.code}/")
    # what a scanner types from the QR label (code and address) also goes straight to the item
    scanned = f"{item.code} http://127.0.0.1:8000/items/{item.code}/"
    assert client.get(reverse("tracing:search"), {"q": scanned})["Location"].endswith(f"/{item.code}/")
    results = client.get(reverse("tracing:search"), {"q": "cracked"}).context["results"]
    assert [row["item"].code for row in results] == [noted.code]


def test_admin_change_form_draws_the_lineage_graph(project, sci):
    chain = build_chain(project, sci, sheets=2)
    client = client_for(sci)
    response = client.get(reverse("admin:tracing_traceditem_change", args=[chain["film"].pk]))
    assert response.status_code == 200
    page = response.content.decode()
    graph = page[page.index('id="lineage-graph"'):]
    graph = graph[:graph.index("</fieldset>")]
    assert graph.count("<svg") == 2  # upstream and downstream
    upstream, downstream = graph.split("Downstream (where it went)")
    for key in ("lot_a", "lot_b", "batch_1", "batch_2"):
        assert chain[key].code in upstream and chain[key].code not in downstream
    for sheet in chain["sheets"]:
        assert sheet.code in downstream and sheet.code not in upstream
    assert "Upstream: 4 items · downstream: 2 items" in " ".join(graph.split())


def test_admin_lineage_graph_query_count_does_not_grow_with_the_chain(project, sci):
    small = build_chain(project, sci, sheets=3)
    large = build_chain(project, sci, sheets=30)
    client = client_for(sci)
    counts = []
    for chain in (small, large):
        url = reverse("admin:tracing_traceditem_change", args=[chain["batch_1"].pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200 and "lineage-graph" in response.content.decode()
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
