"""Every materials page, admin list and API list costs the same number of queries with 3 rows as with 30."""

from __future__ import annotations

import itertools

import pytest

from materials.services import conductivity_spec_set, exposure_add, step_add
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

pytestmark = pytest.mark.django_db

_milling_times = itertools.cycle([0.25, 0.5, 1.0, 2.0, 4.0])


def add_batches(project, user, *, composition="Li6PS5Cl"):
    def add(n: int) -> None:
        lot = make_lot(project, user, mass_g=10_000)
        for index in range(n):
            batch = make_batch(project, user, precursors=[(lot.item, 10.0)], composition=composition,
                               milling_time_h=next(_milling_times))
            make_measurement(batch, user, conductivity_ms_per_cm=1.0 + index % 5)
            make_measurement(batch, user, conductivity_ms_per_cm=3.0 + index % 5, temperature_c=60)

    return add


def add_batch_rows(batch, user):
    """n more of each row the batch page lists: measurements, conditioning steps, exposure studies."""

    def add(n: int) -> None:
        for _ in range(n):
            before = make_measurement(batch, user, conductivity_ms_per_cm=3.0)
            after = make_measurement(batch, user, conductivity_ms_per_cm=2.5)
            exposure_add(batch=batch, user=user, dew_point_c=-40, duration_h=2, measurement_before=before,
                         measurement_after=after)
            step_add(batch=batch, user=user, kind="sieving", mesh_um=20, recovered_mass_g=batch.batch_mass_g * 0.1,
                     mass_in_g=batch.batch_mass_g * 0.1)
            make_measurement(batch, user, conductivity_ms_per_cm=4.0, temperature_c=40)

    return add


def test_lists_and_index(project, tech):
    add = add_batches(project, tech)
    for url in ("/materials/", "/materials/batches/", "/materials/batches/?route=mechanochemical&q=Li6",
                "/materials/compositions/", "/"):
        assert_fixed_queries(client_for(tech), url, add_rows=add)


def test_lot_list(project, tech):
    assert_fixed_queries(client_for(tech), "/materials/lots/", add_rows=lambda n: [
        make_lot(project, tech) for _ in range(n)
    ])
    assert_fixed_queries(client_for(tech), "/materials/lots/?q=Li2S&role=precursor", add_rows=lambda n: [
        make_lot(project, tech) for _ in range(n)
    ])


def test_batch_page_and_item_page(project, tech, sci):
    batch = make_batch(project, tech, batch_mass_g=9.5)
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    add = add_batch_rows(batch, tech)
    for url in (f"/materials/batches/{batch.item.code}/", f"/items/{batch.item.code}/",
                f"/materials/batches/{batch.item.code}/exposures/new/",
                f"/materials/batches/{batch.item.code}/measurements/new/",
                f"/materials/batches/{batch.item.code}/status/", f"/materials/batches/{batch.item.code}/correct/"):
        assert_fixed_queries(client_for(sci), url, add_rows=add, sizes=(1, 4))


def test_correction_pages_cost_fixed_queries(project, tech):
    from materials.services import batch_correct

    batch = make_batch(project, tech, batch_mass_g=9.5)
    rows = add_batch_rows(batch, tech)

    def add(n: int) -> None:  # the rows of the page, and as many corrections in the batch's history
        rows(n)
        for index in range(n):
            batch_correct(batch=batch, user=tech, milling_time_h=1.0 + index, change_reason="")

    def corrects() -> str:
        oldest = batch.measurements.filter(superseded_by__isnull=True).order_by("pk").first()
        return f"/materials/batches/{batch.item.code}/measurements/new/?corrects={oldest.pk}"

    for url in (f"/materials/batches/{batch.item.code}/correct/", corrects, f"/materials/batches/{batch.item.code}/",
                f"/items/{batch.item.code}/"):
        assert_fixed_queries(client_for(tech), url, add_rows=add, sizes=(1, 4))


def test_new_batch_form_lists_lots_in_fixed_queries(project, tech):
    assert_fixed_queries(client_for(tech), "/materials/batches/new/", add_rows=lambda n: [
        make_lot(project, tech) for _ in range(n)
    ])


def test_composition_page(project, tech, sci):
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    assert_fixed_queries(client_for(tech), f"/materials/compositions/{project.code}/Li6PS5Cl/",
                         add_rows=add_batches(project, tech))


ADMIN_LISTS = (
    "/admin/materials/materiallot/",
    "/admin/materials/synthesisbatch/",
    "/admin/materials/synthesisbatch/?q=Li6PS5Cl&conductivity=1-3&milling_time=1-3&route=mechanochemical",
    "/admin/materials/conductivitymeasurement/",
    "/admin/materials/conductivitymeasurement/?current=yes&conductivity=3-10",
    "/admin/materials/conditioningstep/",
    "/admin/materials/dryroomexposure/",
    "/admin/materials/conductivityspec/",
)


def test_admin_lists(project, tech, sci):
    batch = make_batch(project, tech, batch_mass_g=9.5)
    add_rows = add_batches(project, tech)
    add_details = add_batch_rows(batch, tech)
    compositions = itertools.count()

    def add(n: int) -> None:
        add_rows(n)
        add_details(n)
        for _ in range(n):
            conductivity_spec_set(project=project, composition=f"Li6PS5Cl-{next(compositions)}",
                                  minimum_ms_per_cm=2.0, user=sci)

    for url in ADMIN_LISTS:
        assert_fixed_queries(client_for(sci), url, add_rows=add)


def test_admin_batch_change_page_with_inlines(project, tech, sci):
    batch = make_batch(project, tech, batch_mass_g=9.5)
    assert_fixed_queries(client_for(sci), f"/admin/materials/synthesisbatch/{batch.pk}/change/",
                         add_rows=add_batch_rows(batch, tech), sizes=(1, 4))


def test_admin_search_by_supplier_lot(project, tech, sci):
    lot = make_lot(project, tech, supplier_lot="ACME-7781", mass_g=50)
    found = make_batch(project, tech, precursors=[(lot.item, 5.0)])
    other = make_batch(project, tech)
    page = client_for(sci).get("/admin/materials/synthesisbatch/?q=ACME-7781").content.decode()
    assert found.item.code in page and other.item.code not in page


def test_api_lists(project, tech, sci):
    batch = make_batch(project, tech, batch_mass_g=9.5)
    add_rows = add_batches(project, tech)
    add_details = add_batch_rows(batch, tech)

    def add(n: int) -> None:
        add_rows(n)
        add_details(n)

    for url in ("/api/v1/material-lots/", "/api/v1/sse-batches/", "/api/v1/conductivity-measurements/",
                "/api/v1/sse-batches/?composition=Li6PS5Cl&conductivity_min_ms_per_cm=1",
                f"/api/v1/sse-batches/{batch.item.code}/"):
        assert_fixed_queries(client_for(sci), url, add_rows=add)
