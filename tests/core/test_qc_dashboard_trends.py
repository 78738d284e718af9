"""Issue 7, the QC dashboard: conductivity and capacity retention over time with the specification lines,
drawn on the worker from real records and shown on the dashboard in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from assbtrack.domain.inputs import ModelInputError
from assbtrack.jobs.handlers import JobContext, job_handler
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import job_start, job_succeed
from cells.choices import JOB_RETENTION_TREND
from cells.demo import cycling_csv
from cells.selectors import retention_trend_inputs
from cells.services import cycling_test_create, cycling_test_import, retention_spec_set
from materials.choices import CONDUCTIVITY_TREND
from materials.selectors import conductivity_trend_inputs
from materials.services import conductivity_spec_set, conductivity_trend_submit
from tests.conftest import wait_for
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories import ProjectFactory
from tests.utils.factories_cells import make_cell
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

PNG_SIGNATURE = b"\x89PNG"


def run(kind: str, inputs: dict):
    return job_handler(kind).run(JobContext(job_id=0, inputs=inputs, subject_id=None, report_progress=lambda *a: None))


def measured_batch(project, user, sigma: float, *, days_ago: float, composition: str = "Li6PS5Cl", lot=None):
    lot = lot or make_lot(project, user, mass_g=500)
    batch = make_batch(project, user, precursors=[(lot.item, 5.0)], composition=composition)
    make_measurement(batch, user, conductivity_ms_per_cm=sigma,
                     measured_at=timezone.now() - timedelta(days=days_ago))
    return batch


def cycled_cell(project, user, *, fade: float, days_ago: int, cycles: int = 120):
    cell = make_cell(project, user)
    test = cycling_test_create(
        cell=cell, user=user, data_file=ContentFile(cycling_csv(5.0, cycles=cycles, fade=fade).encode(), name="t.csv"),
        cycler="test cycler", started_at=timezone.now() - timedelta(days=days_ago), submit=False,
        column_map={"cycle": "cycle", "voltage_v": "voltage_v", "current_ma": "current_ma", "time_s": "time_s"},
    )
    return cell, cycling_test_import(test=test)


def succeed(job: Job) -> Job:
    """Store the drawing as the worker does (the handler's real output), for the page tests."""
    job_start(job_id=job.pk)
    job_succeed(job_id=job.pk, output=run(job.kind, job.inputs))
    return Job.objects.get(pk=job.pk)


# ---------------------------------------------------------------------------------- conductivity trend


@pytest.mark.django_db
def test_conductivity_trend_groups_compositions_each_with_its_own_spec(project, tech, sci):
    lot = make_lot(project, tech, mass_g=500)
    low = measured_batch(project, tech, 1.5, days_ago=30, lot=lot)
    good = measured_batch(project, tech, 3.0, days_ago=10, lot=lot)
    bromide = measured_batch(project, tech, 1.0, days_ago=20, composition="Li6PS5Br", lot=lot)
    make_batch(project, tech, precursors=[(lot.item, 5.0)])  # not measured: not on the plot
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)

    inputs = conductivity_trend_inputs(project)
    assert inputs["specs"] == {"Li6PS5Cl": 2.0}
    # oldest first, each batch once, with its composition and room-temperature conductivity
    assert [(p["label"], p["composition"], p["conductivity_ms_per_cm"]) for p in inputs["points"]] == [
        (low.item.code, "Li6PS5Cl", pytest.approx(1.5)),
        (bromide.item.code, "Li6PS5Br", pytest.approx(1.0)),
        (good.item.code, "Li6PS5Cl", pytest.approx(3.0)),
    ]
    output = run(CONDUCTIVITY_TREND, inputs)
    # the bromide batch is lower still, but it has no specification: it is named, not counted below
    assert output.result["below_spec"] == [low.item.code]
    assert output.result["without_spec"] == ["Li6PS5Br"] and output.result["compositions"] == 2
    assert output.files["conductivity_trend.png"].startswith(PNG_SIGNATURE)
    assert b"spec" in output.files["conductivity_trend.svg"]  # the specification line is in the legend


@pytest.mark.django_db
def test_conductivity_trend_is_redrawn_only_when_the_data_change(project, tech, sci):
    lot = make_lot(project, tech, mass_g=500)
    measured_batch(project, tech, 2.5, days_ago=3, lot=lot)
    first = conductivity_trend_submit(project=project, user=sci)
    assert conductivity_trend_submit(project=project, user=sci) == first
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    second = conductivity_trend_submit(project=project, user=sci)
    assert second.pk != first.pk and second.inputs["specs"] == {"Li6PS5Cl": 2.0}
    assert conductivity_trend_submit(project=ProjectFactory(), user=sci) is None  # nothing measured there


def test_trend_inputs_are_checked_naming_the_field():
    base = {"title": "t", "project": "P", "specs": {"Li6PS5Cl": -1.0},
            "points": [{"measured_at": "2026-01-01T00:00:00", "conductivity_ms_per_cm": 1.0,
                        "composition": "Li6PS5Cl", "label": "SSE-1"}]}
    with pytest.raises(ModelInputError) as error:
        job_handler(CONDUCTIVITY_TREND).validate(base)
    assert error.value.field == "specs.Li6PS5Cl"
    with pytest.raises(ModelInputError) as error:
        job_handler(CONDUCTIVITY_TREND).validate({**base, "specs": {}, "points": [{**base["points"][0],
                                                                                     "measured_at": "yesterday"}]})
    assert error.value.field == "points[0].measured_at"


# ------------------------------------------------------------------------------------- retention trend


@pytest.mark.django_db
def test_retention_trend_reads_the_spec_cycle_and_rings_the_cells_below(project, tech, sci):
    retention_spec_set(project=project, minimum_percent=80.0, at_cycle=100, user=sci)
    steady, steady_test = cycled_cell(project, tech, fade=0.0009, days_ago=40)
    fading, fading_test = cycled_cell(project, tech, fade=0.0025, days_ago=20)
    young, _ = cycled_cell(project, tech, fade=0.0009, days_ago=2, cycles=30)  # not at cycle 100 yet

    inputs = retention_trend_inputs(project)
    assert inputs["at_cycle"] == 100 and inputs["minimum_percent"] == 80.0 and inputs["short_of_cycle"] == 1
    by_cell = {p["label"]: p["retention_percent"] for p in inputs["points"]}
    assert set(by_cell) == {steady.item.code, fading.item.code}
    assert by_cell[steady.item.code] == pytest.approx(steady_test.retention_at_100 * 100)
    assert by_cell[fading.item.code] == pytest.approx(fading_test.retention_at_100 * 100)
    assert by_cell[fading.item.code] < 80.0 < by_cell[steady.item.code]

    output = run(JOB_RETENTION_TREND, inputs)
    assert output.result["below_spec"] == [fading.item.code]
    assert output.files["retention_trend.png"].startswith(PNG_SIGNATURE)
    summary = job_handler(JOB_RETENTION_TREND).summary(output.result)
    assert f"below 80 %: {fading.item.code}" in summary and "1 more not yet at cycle 100" in summary

    # another cycle in the specification moves the points: at cycle 50 both cells are above 80 %
    retention_spec_set(project=project, minimum_percent=80.0, at_cycle=50, user=sci)
    assert run(JOB_RETENTION_TREND, retention_trend_inputs(project)).result["below_spec"] == []


@pytest.mark.django_db
def test_retention_spec_refuses_bad_values_naming_the_field(project, sci):
    for values, field in (
        ({"minimum_percent": 120}, "minimum_percent"), ({"minimum_percent": "nan"}, "minimum_percent"),
        ({"minimum_percent": 80, "at_cycle": 0}, "at_cycle"), ({"minimum_percent": 80, "at_cycle": 10.5}, "at_cycle"),
    ):
        with pytest.raises(ValidationError) as error:
            retention_spec_set(project=project, user=sci, **values)
        assert field in error.value.message_dict
    assert not project.__class__.objects.filter(pk=project.pk, retention_spec__isnull=False).exists()


# ------------------------------------------------------------------------------------------- dashboard


@pytest.mark.django_db
def test_dashboard_shows_both_trends_with_their_summaries(project, tech, sci):
    lot = make_lot(project, tech, mass_g=500)
    low = measured_batch(project, tech, 1.5, days_ago=5, lot=lot)
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    retention_spec_set(project=project, minimum_percent=80.0, user=sci)
    fading, _ = cycled_cell(project, tech, fade=0.0025, days_ago=3)
    client = client_for(sci)

    page = client.get("/").content.decode()
    assert "Conductivity over time" in page and "Capacity retention over time" in page
    assert page.count("No trend drawn yet.") == 2

    conductivity = succeed(conductivity_trend_submit(project=project, user=sci))
    response = client.post("/cells/trends/redraw/", follow=True)
    assert "1 plot(s) queued" in response.content.decode()
    retention = succeed(Job.objects.get(kind=JOB_RETENTION_TREND))
    page = client.get("/").content.decode()
    assert f'src="/jobs/{conductivity.pk}/files/conductivity_trend.png"' in page
    assert f'src="/jobs/{retention.pk}/files/retention_trend.png"' in page
    assert f"below the specification: {low.item.code}" in page
    assert f"below 80 %: {fading.item.code}" in page
    assert client.get(f"/jobs/{retention.pk}/files/retention_trend.png").status_code == 200


@pytest.mark.django_db
def test_dashboard_queries_do_not_grow_with_projects_and_drawings(tech, sci):
    lot_project = ProjectFactory()
    lot = make_lot(lot_project, tech, mass_g=5000)

    def add_projects(count: int) -> None:
        for _ in range(count):
            project = ProjectFactory()
            measured_batch(project, tech, 2.0, days_ago=1, lot=make_lot(project, tech, mass_g=50))
            succeed(conductivity_trend_submit(project=project, user=sci))
        measured_batch(lot_project, tech, 2.5, days_ago=1, lot=lot)
        succeed(conductivity_trend_submit(project=lot_project, user=sci))  # one more drawing of one project

    assert_fixed_queries(client_for(sci), "/", add_rows=add_projects, sizes=(2, 6))


@pytest.mark.django_db
def test_only_lab_staff_redraw_and_partners_see_no_trends(project, tech, partner):
    measured_batch(project, tech, 2.0, days_ago=1)
    client = client_for(partner)
    for url in ("/materials/trends/redraw/", "/cells/trends/redraw/"):
        assert client.post(url).status_code in (302, 403, 404)
    assert not Job.objects.exists()
    assert "Conductivity over time" not in client.get("/").content.decode()
    assert client_for(tech).get("/materials/trends/redraw/").status_code == 405  # a GET changes nothing


# ---------------------------------------------------------------------------------------- on the worker


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_measurement_typed_on_the_page_redraws_the_dashboard_trend(celery_worker_process, settings, project,
                                                                   tech, sci):
    settings.MEDIA_ROOT = celery_worker_process["media"]
    conductivity_spec_set(project=project, composition="Li6PS5Cl", minimum_ms_per_cm=2.0, user=sci)
    batch = make_batch(project, tech)
    response = client_for(tech).post(f"/materials/batches/{batch.item.code}/measurements/new/", {
        "temperature_c": "25", "thickness_mm": "1", "diameter_mm": "10", "resistance_ohm": "100"})
    assert response.status_code == 302

    def drawn():
        job = Job.objects.filter(kind=CONDUCTIVITY_TREND).first()
        return job if job is not None and job.is_finished else None

    job = wait_for(drawn, timeout_s=90, message="the conductivity trend drawn by the worker")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["below_spec"] == [batch.item.code]  # 1 mm / (100 Ω · 0.785 cm²) ≈ 0.13 mS/cm
    page = client_for(sci).get("/").content.decode()
    assert f'src="/jobs/{job.pk}/files/conductivity_trend.png"' in page
    image = client_for(sci).get(f"/jobs/{job.pk}/files/conductivity_trend.png")
    assert image.status_code == 200 and b"".join(image.streaming_content).startswith(PNG_SIGNATURE)


@pytest.mark.django_db
def test_admin_sets_a_retention_spec_and_refuses_bad_values_beside_the_field(project, sci):
    from cells.models import RetentionSpec

    client = client_for(sci)
    for values, field in (({"minimum_percent": "120", "at_cycle": "100"}, "minimum_percent"),
                          ({"minimum_percent": "80", "at_cycle": "0"}, "at_cycle"),
                          ({"minimum_percent": "nan", "at_cycle": "100"}, "minimum_percent")):
        response = client.post("/admin/cells/retentionspec/add/", {"project": project.pk, **values})
        assert response.status_code == 200, values
        errors = response.context["adminform"].form.errors
        assert errors, values
        assert field in errors or "__all__" in errors, (values, errors)
    assert not RetentionSpec.objects.exists()
    response = client.post("/admin/cells/retentionspec/add/",
                           {"project": project.pk, "minimum_percent": "80", "at_cycle": "100"})
    assert response.status_code == 302
    spec = RetentionSpec.objects.get()
    assert (spec.minimum_percent, spec.at_cycle, spec.set_by) == (80.0, 100, sci)
    assert client.post("/admin/cells/retentionspec/", {"action": "delete_selected", "_selected_action": [spec.pk],
                                                       "post": "yes"}).status_code in (200, 302)
    assert RetentionSpec.objects.filter(pk=spec.pk).exists()  # specifications are changed, never deleted
