"""The materials API: what batches, lots and measurements carry, filters, units in names (roles and partner
scoping: the generated tests in test_generated.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from materials.services import exposure_add, step_add
from tests.utils.checks import client_for
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_and_hidden(project, other_project, tech):
    shared_lot = make_lot(project, tech, mass_g=50)
    shared = make_batch(project, tech, precursors=[(shared_lot.item, 10.0)], batch_mass_g=9.0)
    hidden_lot = make_lot(other_project, tech, mass_g=50)
    hidden = make_batch(other_project, tech, precursors=[(hidden_lot.item, 10.0)], composition="Li2ZrCl6",
                        sse_class="halide")
    shared_measurement = make_measurement(shared, tech, conductivity_ms_per_cm=3.0)
    hidden_measurement = make_measurement(hidden, tech, conductivity_ms_per_cm=0.5)
    return {
        "shared_lot": shared_lot, "shared": shared, "shared_measurement": shared_measurement,
        "hidden_lot": hidden_lot, "hidden": hidden, "hidden_measurement": hidden_measurement,
    }


def test_batch_detail_carries_precursors_steps_measurements_and_exposures(partner, project, tech,
                                                                           shared_and_hidden):
    batch = shared_and_hidden["shared"]
    step_add(batch=batch, user=tech, kind="sieving", mesh_um=20, recovered_mass_g=8.5)
    after = make_measurement(batch, tech, conductivity_ms_per_cm=2.4)
    exposure_add(batch=batch, user=tech, dew_point_c=-40, duration_h=4,
                 measurement_before=shared_and_hidden["shared_measurement"], measurement_after=after)
    data = client_for(partner).get(f"/api/v1/sse-batches/{batch.item.code}/").json()
    assert data["composition"] == "Li6PS5Cl" and data["project"] == project.code
    assert data["precursors"] == [{"lot": shared_and_hidden["shared_lot"].item.code, "mass_g": "10.000000"}]
    assert data["precursor_mass_g"] == 10.0 and data["batch_mass_g"] == 9.0 and data["yield_percent"] == 90.0
    assert data["mass_remaining_g"] == "8.500000"  # 0.5 g lost in sieving
    assert data["conductivity_ms_per_cm"] == pytest.approx(3.0)
    assert [step["kind"] for step in data["steps"]] == ["sieving"]
    assert len(data["measurements"]) == 2
    assert data["exposures"][0]["retention_percent"] == pytest.approx(80.0)
    assert data["exposures"][0]["conductivity_after_ms_per_cm"] == pytest.approx(2.4)
    unitless = [key for key in data if key.endswith(("_mass", "_time", "_temperature", "_speed"))]
    assert not unitless


def codes(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return {row["code"] for row in response.json()["results"]}


def test_batch_filters(project, tech, sci):
    slow = make_batch(project, tech, milling_time_h=4.0)
    fast = make_batch(project, tech, milling_time_h=0.25)
    halide = make_batch(project, tech, composition="Li2ZrCl6", sse_class="halide", milling_time_h=3.0)
    make_measurement(slow, tech, conductivity_ms_per_cm=3.2)
    make_measurement(fast, tech, conductivity_ms_per_cm=1.1)
    make_measurement(halide, tech, conductivity_ms_per_cm=0.4)
    client = client_for(sci)
    assert codes(client, "/api/v1/sse-batches/?composition=li6ps5cl") == {slow.item.code, fast.item.code}
    assert codes(client, "/api/v1/sse-batches/?sse_class=halide") == {halide.item.code}
    assert codes(client, "/api/v1/sse-batches/?conductivity_min_ms_per_cm=1&conductivity_max_ms_per_cm=2") == {
        fast.item.code}
    assert codes(client, "/api/v1/sse-batches/?milling_time_min_h=3") == {slow.item.code, halide.item.code}
    assert codes(client, "/api/v1/sse-batches/?route=melt_quench") == set()
    assert codes(client, "/api/v1/sse-batches/?status=draft") == {slow.item.code, fast.item.code, halide.item.code}
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert codes(client, f"/api/v1/sse-batches/?created_after={tomorrow}") == set()
    assert client.get("/api/v1/sse-batches/?route=teleportation").status_code == 400


def test_measurement_filters(project, tech, sci):
    batch = make_batch(project, tech)
    cold = make_measurement(batch, tech, conductivity_ms_per_cm=3.0, temperature_c=25)
    hot = make_measurement(batch, tech, conductivity_ms_per_cm=9.0, temperature_c=60)
    corrected = make_measurement(batch, tech, conductivity_ms_per_cm=3.1, supersedes=cold,
                                 correction_reason="re-fit")
    client = client_for(sci)

    def ids(url: str) -> set[int]:
        return {row["id"] for row in client.get(url).json()["results"]}

    assert ids(f"/api/v1/conductivity-measurements/?batch={batch.item.code}") == {cold.pk, hot.pk, corrected.pk}
    assert ids("/api/v1/conductivity-measurements/?current=true") == {hot.pk, corrected.pk}
    assert ids("/api/v1/conductivity-measurements/?temperature_min_c=50") == {hot.pk}
    assert ids("/api/v1/conductivity-measurements/?conductivity_max_ms_per_cm=5&current=true") == {corrected.pk}


def test_lot_filters_and_mass_left(project, tech, sci):
    lot = make_lot(project, tech, supplier_lot="SC-0001", mass_g=20)
    make_lot(project, tech, supplier_lot="SC-0002", role="binder")
    make_batch(project, tech, precursors=[(lot.item, 7.5)])
    rows = client_for(sci).get("/api/v1/material-lots/?supplier_lot=SC-0001").json()["results"]
    assert [row["code"] for row in rows] == [lot.item.code]
    assert rows[0]["mass_g"] == "20.000000" and rows[0]["mass_remaining_g"] == "12.500000"
    assert {row["role"] for row in client_for(sci).get("/api/v1/material-lots/?role=binder").json()["results"]} == {
        "binder"}
