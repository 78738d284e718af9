"""Pages and API of the modules app: a fixed number of queries whatever the rows, and partner scoping (the lists
of each model: the generated tests in test_generated.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from modules.models import HousingDesign
from modules.services import pressure_reading_create
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_modules import (
    centre_heavy_density,
    make_cell_films,
    make_design,
    make_module,
    make_scan,
    map_scan_quickly,
)


@pytest.fixture
def films(project, tech):
    return make_cell_films(project, tech)


def mapped_scan(user, **kwargs):
    scan = make_scan(user, **kwargs)
    map_scan_quickly(scan)
    return scan


# --- pages ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_module_item_page_query_count_is_fixed_in_readings_and_scans(project, tech, films):
    module = make_module(project, tech, cell_count=2, films=films)

    def add_rows(n):
        for index in range(n):
            pressure_reading_create(module=module, user=tech, kind="measured", pressure_mpa=4.0 + index / 100,
                                    measured_at=timezone.now())
            mapped_scan(tech, module=module, label=f"film {index}")

    count = assert_fixed_queries(client_for(tech), module.item.get_absolute_url(), add_rows=add_rows)
    assert count < 60


@pytest.mark.django_db
def test_module_item_page_query_count_is_fixed_in_cells(project, tech, films):
    design = make_design(project, tech)
    latest = {}

    def add_rows(n):
        latest["module"] = make_module(project, tech, cell_count=n, design=design, films=films)

    assert_fixed_queries(client_for(tech), lambda: latest["module"].item.get_absolute_url(), add_rows=add_rows)


@pytest.mark.django_db
def test_pressure_map_page_query_count_is_fixed(project, tech):
    designs = [make_design(project, tech, name="springs and gaskets", spring_count=4, spring_constant_n_per_mm=300,
                           gasket_material="silicone", gasket_thickness_mm=1.0),
               make_design(project, tech, name="neither")]

    def add_rows(n):
        for index in range(n):
            mapped_scan(tech, design=designs[index % 2], density=centre_heavy_density())

    url = reverse("modules:pressure-maps") + f"?design={designs[0].pk}&design={designs[1].pk}"
    assert_fixed_queries(client_for(tech), url, add_rows=add_rows)
    page = client_for(tech).get(url).content.decode()
    assert "springs and gaskets" in page and "neither" in page and page.count("<figure") == 30


@pytest.mark.django_db
def test_scan_page_query_count_is_fixed(project, tech):
    design = make_design(project, tech)
    scan = mapped_scan(tech, design=design)
    assert_fixed_queries(client_for(tech), scan.get_absolute_url(),
                         add_rows=lambda n: [make_scan(tech, design=design) for _ in range(n)])


@pytest.mark.django_db
def test_dashboard_panel_query_count_is_fixed(project, tech, films):
    design = make_design(project, tech, plate_thickness_mm=2.0)  # too thin: listed among plates to check
    assert_fixed_queries(
        client_for(tech), reverse("tracing:home"),
        add_rows=lambda n: [make_module(project, tech, cell_count=1, design=design, films=films) for _ in range(n)],
    )
    page = client_for(tech).get(reverse("tracing:home")).content.decode()
    assert "Plates to check" in page and design.name in page


@pytest.mark.django_db
def test_side_by_side_plot_is_queued_from_the_page(project, tech, django_capture_on_commit_callbacks):
    design = make_design(project, tech)
    scans = [mapped_scan(tech, design=design, label=f"film {index}") for index in range(2)]
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(tech).post(reverse("modules:pressure-maps-plot"),
                                         {"scan": [str(scan.pk) for scan in scans]})
    from assbtrack.jobs.models import Job

    job = Job.objects.get(kind="pressure_maps_side_by_side")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert sorted(job.inputs["scan_ids"]) == sorted(scan.pk for scan in scans)
    assert job.queue == "plots"


@pytest.mark.django_db
def test_admin_lists_render(project, sci, films):
    from django.contrib.auth.models import User

    admin_user = User.objects.create_superuser("root", "root@example.org", "pw")
    module = make_module(project, sci, cell_count=2, films=films)
    mapped_scan(sci, module=module)
    client = client_for(admin_user)
    for name in ("housingdesign", "module", "pressurereading", "pressurescan", "pressuremapresult"):
        response = client.get(reverse(f"admin:modules_{name}_changelist"))
        assert response.status_code == 200, name
    filtered = client.get(
        reverse("admin:modules_module_changelist") + "?system_energy_kwh=lt0.1&applied_stack_pressure_mpa=1-10"
    )
    assert module.item.code in filtered.content.decode()
    assert client.get(reverse("admin:modules_module_change", args=[module.pk])).status_code == 200


# --- API ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_module_api_list_query_count_is_fixed(project, tech, partner, films):
    design = make_design(project, tech)

    def add_rows(n):
        for _ in range(n):
            module = make_module(project, tech, cell_count=1, design=design, films=films)
            pressure_reading_create(module=module, user=tech, kind="measured", pressure_mpa=4.5,
                                    measured_at=timezone.now())

    assert assert_fixed_queries(client_for(partner), "/api/v1/modules/", add_rows=add_rows) < 15


@pytest.mark.django_db
def test_a_partner_reads_the_details_and_gets_404_for_the_files_of_another_project(
        project, other_project, tech, partner, films):
    ours = make_module(project, tech, cell_count=2, films=films)
    theirs = make_module(other_project, tech, cell_count=1)
    our_scan = mapped_scan(tech, module=ours)
    their_scan = mapped_scan(tech, module=theirs)
    client = client_for(partner)

    # The files follow the scoping of the API (its lists: the generated tests in test_generated.py).
    assert client.get(reverse("modules:scan-heatmap", args=[their_scan.pk])).status_code == 404
    assert client.get(reverse("modules:design", args=[theirs.housing_design_id])).status_code == 404

    detail = client.get(f"/api/v1/modules/{ours.item.code}/").json()
    assert detail["arrangement"] == "2S1P" and [cell["position"] for cell in detail["cells"]] == [1, 2]
    assert detail["system_energy_kwh"] == pytest.approx(2 * 0.00384 * 3.8 / 1000)
    assert detail["pressure_readings"][0]["pressure_mpa"] == 5.0
    design = client.get(f"/api/v1/housing-designs/{ours.housing_design_id}/").json()
    assert design["plate_check"]["ok"] is True and design["compliance"] == "neither"
    pressure_map = client.get(f"/api/v1/pressure-maps/{our_scan.pk}/").json()
    assert pressure_map["module"] == ours.item.code and pressure_map["mean_mpa"] == pytest.approx(5.0)
    assert pressure_map["heatmap_url"].endswith(f"/modules/scans/{our_scan.pk}/heatmap.png")


@pytest.mark.django_db
def test_api_filters(project, tech, sci, films):
    small = make_design(project, tech, name="low", target_stack_pressure_mpa=2.0)
    high = make_design(project, tech, name="high", target_stack_pressure_mpa=20.0, spring_count=4,
                       spring_constant_n_per_mm=500)
    low_module = make_module(project, tech, cell_count=1, design=small, pressure_mpa=2.0, films=films)
    high_module = make_module(project, tech, cell_count=2, design=high, pressure_mpa=20.0, films=films)
    client = client_for(sci)

    def codes(url, key="code"):
        return {row[key] for row in client.get(url).json()["results"]}

    assert codes("/api/v1/modules/?applied_stack_pressure_mpa_min=10") == {high_module.item.code}
    assert codes(f"/api/v1/modules/?housing_design={small.pk}") == {low_module.item.code}
    assert codes("/api/v1/modules/?system_energy_kwh_min=0.00002") == {high_module.item.code}
    assert codes("/api/v1/housing-designs/?has_springs=true", "id") == {high.pk}
    assert codes("/api/v1/housing-designs/?target_stack_pressure_mpa_max=5", "id") == {small.pk}
    assert HousingDesign.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["modules:assemble", "modules:scan-upload", "modules:design-create"])
def test_form_pages_query_count_is_fixed(project, tech, name):
    assert_fixed_queries(client_for(tech), reverse(name),
                         add_rows=lambda n: [make_design(project, tech) for _ in range(n)])


@pytest.mark.django_db
def test_reading_form_query_count_is_fixed(project, tech):
    module = make_module(project, tech, cell_count=1)
    assert_fixed_queries(
        client_for(tech), reverse("modules:pressure-reading", args=[module.item.code]),
        add_rows=lambda n: [pressure_reading_create(module=module, user=tech, kind="measured", pressure_mpa=4.0,
                                                    measured_at=timezone.now()) for _ in range(n)],
    )
