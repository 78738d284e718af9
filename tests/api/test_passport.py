"""Passports of cells and modules: contents of a full chain, JSON-LD, confidential fields, scope, query count."""

from __future__ import annotations

import pytest

from tests.utils.checks import assert_fixed_queries

from .helpers import FOIL_MASS_G, SHEET_AREA_CM2, make_chain, token_client

pytestmark = pytest.mark.django_db


def _amounts(document: dict) -> dict[tuple[str, str], float]:
    return {(row["code"], row["usedIn"]): row["amount"] for row in document["materialComposition"]["components"]}


def test_module_passport_holds_the_whole_chain_with_amounts(project, sci, partner):
    chain = make_chain(project, sci, cells=2)
    module, batch, films = chain["module"], chain["batch"], chain["films"]
    response = token_client(partner).get(f"/api/v1/modules/{module.item.code}/passport/")
    assert response.status_code == 200
    document = response.json()

    general = document["generalProductInformation"]
    assert general["batteryIdentifier"] == module.item.code
    assert general["project"] == project.code
    assert document["performanceAndDurability"]["nominalVoltage"]["value"] == pytest.approx(module.nominal_voltage_v)

    amounts = _amounts(document)
    batch_code = batch.item.code
    # Precursors into the batch: 0.4, 0.4 and 0.2 of the 50 g stock.
    precursor_amounts = sorted(amount for (code, used_in), amount in amounts.items() if used_in == batch_code)
    assert precursor_amounts == pytest.approx([10.0, 20.0, 20.0])
    # The batch into the films: 0.370 g (cathode recipe) and 0.4975 g (separator recipe).
    assert amounts[(batch_code, films["cathode"].item.code)] == pytest.approx(0.370)
    assert amounts[(batch_code, films["separator"].item.code)] == pytest.approx(0.4975)
    for cell in chain["cells"]:
        assert amounts[(films["foil"].item.code, cell.item.code)] == pytest.approx(FOIL_MASS_G)
        assert (cell.item.code, module.item.code) in amounts
    rows = document["materialComposition"]["components"]
    first_cell = chain["cells"][0].item.code
    sheets_in = [row for row in rows if row["kind"] == "sheet" and row["usedIn"] == first_cell]
    assert [(row["amount"], row["unit"]) for row in sheets_in] == [(1.0, "pcs"), (1.0, "pcs")]  # cathode, separator
    cut = {row["usedIn"]: (row["amount"], row["unit"]) for row in rows if row["kind"] in ("cathode_film",
                                                                                          "separator_film")}
    assert [cut[row["code"]] for row in sheets_in] == [(pytest.approx(SHEET_AREA_CM2), "cm2")] * 2

    process_codes = {row["code"] for row in document["processParameters"]}
    assert {module.item.code, batch_code, films["cathode"].item.code} <= process_codes
    qc_codes = {row["code"] for row in document["qualityControl"]}
    assert {cell.item.code for cell in chain["cells"]} <= qc_codes
    assert "Li6PS5Cl" in document["materialComposition"]["batteryChemistry"] or batch.composition in (
        document["materialComposition"]["batteryChemistry"])


def test_cell_passport_performance_and_jsonld(project, sci, partner):
    chain = make_chain(project, sci, cells=1)
    cell = chain["cells"][0]
    client = token_client(partner)
    document = client.get(f"/api/v1/cells/{cell.item.code}/passport/").json()
    performance = document["performanceAndDurability"]
    assert performance["ratedCapacity"] == {"value": pytest.approx(cell.nominal_capacity_ah), "unit": "Ah"}
    assert performance["ratedEnergy"]["value"] == pytest.approx(cell.nominal_capacity_ah * cell.nominal_voltage_v)
    assert performance["specificEnergy"]["value"] == pytest.approx(400.0)  # DEFAULT_ENERGY of the factory

    response = client.get(f"/api/v1/cells/{cell.item.code}/passport/", {"format": "jsonld"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    linked = response.json()
    assert linked["@context"]["batteryIdentifier"] == "schema:identifier"
    assert linked["@id"].endswith(f"/api/v1/cells/{cell.item.code}/passport/")
    general = {key: value for key, value in linked["generalProductInformation"].items()}
    general["batteryMass"] = {k: v for k, v in general["batteryMass"].items() if k != "@type"}
    assert general == document["generalProductInformation"]

    # Read back as RDF: the quantities are typed with the BattINFO (EMMO electrochemistry) classes, with the
    # values and units the plain passport has; the identifier is schema.org's.
    import json

    from rdflib import RDF, Graph, Literal, Namespace, URIRef

    graph = Graph().parse(data=json.dumps(linked), format="json-ld")
    schema = Namespace("https://schema.org/")
    rated_capacity = URIRef("https://w3id.org/emmo/domain/electrochemistry#"
                            "electrochemistry_9b3b4668_0795_4a35_9965_2af383497a26")
    nominal_voltage = URIRef("https://w3id.org/emmo/domain/electrochemistry#"
                             "electrochemistry_639b844a_e801_436b_985d_28926129ead6")
    for cls, key in ((rated_capacity, "ratedCapacity"), (nominal_voltage, "nominalVoltage")):
        [node] = list(graph.subjects(RDF.type, cls))
        assert float(graph.value(node, schema.value)) == pytest.approx(performance[key]["value"])
        assert graph.value(node, schema.unitText) == Literal(performance[key]["unit"])
    assert (None, schema.identifier, Literal(cell.item.code)) in graph
    # capacity fade (a percentage, not a rate) has no BattINFO type
    assert "@type" not in linked["performanceAndDurability"]["capacityFade"]


def test_confidential_fields_absent_for_partners_present_for_staff(project, sci, partner):
    chain = make_chain(project, sci, cells=1)
    project.confidential_fields = ["processParameters", "materialComposition.components"]
    project.save()
    url = f"/api/v1/cells/{chain['cells'][0].item.code}/passport/"
    for_partner = token_client(partner).get(url).json()
    assert "processParameters" not in for_partner
    assert "components" not in for_partner["materialComposition"]
    assert "batteryChemistry" in for_partner["materialComposition"]
    for_staff = token_client(sci).get(url).json()
    assert for_staff["processParameters"]
    assert for_staff["materialComposition"]["components"]


def test_passport_outside_the_partners_projects_is_404(project, other_project, sci, partner):
    chain = make_chain(other_project, sci, cells=1)
    client = token_client(partner)
    assert client.get(f"/api/v1/cells/{chain['cells'][0].item.code}/passport/").status_code == 404
    assert client.get(f"/api/v1/modules/{chain['module'].item.code}/passport/").status_code == 404
    assert client.get(f"/api/v1/cells/{chain['cells'][0].item.code}/passport/?format=jsonld").status_code == 404


def test_passport_of_a_cell_costs_the_same_queries_with_3_or_30_layers(project, sci, partner):
    from assbtrack.tracing.choices import ItemKind
    from tests.utils.factories_cells import make_cell, make_li_foil
    from tests.utils.factories_electrodes import make_film

    films = {"cathode": make_film(project, sci, ItemKind.CATHODE_FILM, area_cm2=1000.0),
             "separator": make_film(project, sci, ItemKind.SEPARATOR_FILM, area_cm2=1000.0),
             "foil": make_li_foil(project, sci, mass_g=10.0)}
    state = {"layers": 0, "code": ""}

    def add_rows(count: int) -> None:
        state["layers"] += count
        state["code"] = make_cell(project, sci, layers=state["layers"], films=films).item.code

    assert_fixed_queries(token_client(partner), lambda: f"/api/v1/cells/{state['code']}/passport/", add_rows=add_rows)


def test_cell_bundle_is_an_ro_crate_with_bdf_time_series(project, sci, partner):
    import csv as csv_module
    import io
    import json
    import zipfile

    from tests.cells.test_cells_api import imported
    from tests.cells.test_cells_cycling import csv_bytes

    chain = make_chain(project, sci, cells=1)
    cell = chain["cells"][0]
    test = imported(cell, sci)
    source = list(csv_module.DictReader(io.StringIO(csv_bytes().decode())))

    response = token_client(partner).get(f"/api/v1/cells/{cell.item.code}/passport/bundle/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {"ro-crate-metadata.json", "passport.json", f"cycling-test-{test.pk}.bdf.csv"} <= names
    metadata = json.loads(archive.read("ro-crate-metadata.json"))
    described = {entity["@id"] for entity in metadata["@graph"]}
    assert {"passport.json", f"cycling-test-{test.pk}.bdf.csv"} <= described
    passport = json.loads(archive.read("passport.json"))
    assert passport["generalProductInformation"]["batteryIdentifier"] == cell.item.code

    rows = list(csv_module.DictReader(io.StringIO(archive.read(f"cycling-test-{test.pk}.bdf.csv").decode())))
    assert len(rows) == len(source)
    for row, point in zip(rows, source, strict=True):
        assert float(row["Voltage / V"]) == pytest.approx(float(point["Voltage(V)"]))
        assert float(row["Current / A"]) == pytest.approx(float(point["Current(mA)"]) / 1000.0)
        assert float(row["Test Time / s"]) == pytest.approx(float(point["Test_Time(s)"]))
        assert int(row["Cycle Count / 1"]) == int(point["Cycle_Index"])


def test_bundle_outside_the_partners_projects_is_404(other_project, sci, partner):
    chain = make_chain(other_project, sci, cells=1)
    response = token_client(partner).get(f"/api/v1/cells/{chain['cells'][0].item.code}/passport/bundle/")
    assert response.status_code == 404


def test_expired_and_revoked_tokens_are_refused_on_passports_and_job_files(project, sci, partner, monkeypatch):
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from assbtrack.access.services import api_token_create, api_token_revoke
    from assbtrack.jobs.models import Job

    chain = make_chain(project, sci, cells=1)
    job = Job.objects.create(kind="api_export", queue="imports", inputs={}, inputs_sha256="2" * 64,
                             requested_by=partner, result={"rows": 0})
    long_ago = timezone.now() - timedelta(days=10)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: long_ago)
        _, expired = api_token_create(user=partner, name="old", lifetime_days=1)
    token, revoked = api_token_create(user=partner, name="to revoke")
    api_token_revoke(token=token, user=partner)
    urls = [f"/api/v1/cells/{chain['cells'][0].item.code}/passport/",
            f"/api/v1/cells/{chain['cells'][0].item.code}/passport/bundle/",
            f"/jobs/{job.pk}/files/api-v1-cells.csv"]
    for key, word in ((expired, "expired"), (revoked, "revoked")):
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")
        for url in urls:
            response = client.get(url)
            assert response.status_code == 401, (url, key)
            assert word in response.content.decode()


def test_passport_sections_keep_their_place_whoever_contributes_them(project, sci):
    """The core builds some sections and the apps contribute others (measurements, cycling summary) through the
    kind registry; the document reads the same either way."""
    chain = make_chain(project, sci, cells=1)
    client = token_client(sci)
    module_document = client.get(f"/api/v1/modules/{chain['module'].item.code}/passport/").json()
    cell_document = client.get(f"/api/v1/cells/{chain['cells'][0].item.code}/passport/").json()
    layout = ["generalProductInformation", "materialComposition", "performanceAndDurability", "processParameters",
              "measurements", "qualityControl", "deviations", "cyclingSummary", "modelResults"]
    assert list(module_document) == layout
    assert list(cell_document) == layout
    assert module_document["generalProductInformation"]["batteryCategory"] == "laboratory prototype module"
    assert cell_document["generalProductInformation"]["batteryCategory"] == "laboratory prototype cell"
    chemistry = f"all-solid-state, solid electrolyte {chain['batch'].composition}"
    assert module_document["materialComposition"]["batteryChemistry"] == chemistry
    assert cell_document["materialComposition"]["batteryChemistry"] == chemistry
    assert "capacityFade" in cell_document["performanceAndDurability"]
    assert "capacityFade" not in module_document["performanceAndDurability"]
