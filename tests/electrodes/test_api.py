"""The partner API of films and sheets: content with units and filters (roles, scoping and query counts: the
generated tests in test_generated.py)."""

from __future__ import annotations

import pytest

from assbtrack.tracing.choices import ItemKind
from tests.utils.checks import client_for
from tests.utils.factories_electrodes import make_film, make_sheets

pytestmark = pytest.mark.django_db

FILMS = "/api/v1/films/"
SHEETS = "/api/v1/sheets/"


def test_film_detail_has_components_passes_and_metrics(project, partner, tech):
    film = make_film(project, tech)
    response = client_for(partner).get(f"{FILMS}{film.code}/")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == film.code and body["kind"] == ItemKind.CATHODE_FILM and body["process"] == "dry"
    assert body["areal_capacity_mah_per_cm2"] == pytest.approx(3.84)
    assert body["areal_loading_mg_per_cm2"] == pytest.approx(24.0)
    assert body["porosity"] == pytest.approx(0.154843, abs=1e-5)
    assert body["binder_fraction"] == pytest.approx(0.005)
    assert float(body["area_remaining_cm2"]) == 80
    assert [c["weight_fraction"] for c in body["components"]] == pytest.approx([0.8, 0.185, 0.01, 0.005])
    assert [c["role"] for c in body["components"]] == ["active_material", "electrolyte", "conductive_additive",
                                                       "binder"]
    assert body["components"][1]["source_kind"] == ItemKind.SSE_BATCH
    assert [p["thickness_um"] for p in body["passes"]] == [400.0, 250.0, 150.0, 100.0, 82.0]


def test_a_sheet_carries_the_film_metrics(project, partner, tech):
    mine = make_sheets(make_film(project, tech), tech, count=2, area_cm2=5.0)
    body = client_for(partner).get(f"{SHEETS}{mine[0].code}/").json()
    assert body["film"] == mine[0].film.code and body["position"] == "r1c1" and body["area_cm2"] == 5.0
    assert body["areal_capacity_mah_per_cm2"] == pytest.approx(3.84)
    assert body["capacity_mah"] == pytest.approx(19.2)
    assert body["thickness_um"] == 82.0


def test_film_filters(project, tech, partner, add_films):
    dense, loose = add_films(1)[-1], add_films(1, passes=[300.0, 100.0], process="slurry")[-1]
    separator = make_film(project, tech, ItemKind.SEPARATOR_FILM)
    client = client_for(partner)

    def codes(query: str) -> set[str]:
        response = client.get(f"{FILMS}?{query}")
        assert response.status_code == 200, response.content
        return {row["code"] for row in response.json()["results"]}

    assert codes("kind=separator_film") == {separator.code}
    assert codes("process=slurry") == {loose.code}
    assert codes("porosity_min=0.1&porosity_max=0.2") == {dense.code, separator.code}
    assert codes("areal_capacity_mah_per_cm2_min=3&kind=cathode_film") == {dense.code, loose.code}
    assert codes("thickness_um_max=50") == {separator.code}
    uses = dense.components.get(role="active_material").source.code
    assert codes(f"uses={uses}") == {dense.code, loose.code}  # both made from the shared NCM811 lot
    assert client.get(f"{FILMS}?porosity_min=abc").status_code == 400


def test_schema_documents_the_endpoints(sci):
    response = client_for(sci).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/films/" in text and "/api/v1/sheets/" in text and "areal_capacity_mah_per_cm2" in text
