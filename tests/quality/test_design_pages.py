"""Design-space runs from the lab's records: the records used, honest caveats, proposals in bounds, planning one."""

from __future__ import annotations

import math

import pytest

from assbtrack.jobs.models import Job
from assbtrack.quality.design import DESIGN_SPACE, planned_experiment_create
from assbtrack.quality.models import PlannedExperiment
from tests.quality.test_spc_charts import run_in_process
from tests.utils.checks import client_for
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

pytestmark = pytest.mark.django_db


def milling_batches(project, user, settings_list):
    lots = [(make_lot(project, user, formula=f, mass_g=500.0).item, 1.0) for f in ("Li2S", "P2S5")]
    batches = []
    for speed_rpm, time_h, bpr, ht_c in settings_list:
        batch = make_batch(project, user, precursors=lots, batch_mass_g=1.9, speed_rpm=speed_rpm,
                           milling_time_h=time_h, ball_to_powder_ratio=bpr,
                           heat_treatment_temperature_c=ht_c, heat_treatment_time_h=5.0 if ht_c else None)
        sigma = 1.0 + 3.0 * (1 - math.exp(-time_h)) * math.exp(-((speed_rpm - 550) / 200) ** 2)
        make_measurement(batch, user, conductivity_ms_per_cm=sigma)
        batches.append(batch)
    return batches


VARIED = [(400, 0.5, 20, 550), (500, 1.0, 25, 550), (600, 2.0, 30, None), (700, 4.0, 20, 500), (450, 3.0, 25, 550),
          (550, 1.5, 30, 500), (650, 0.8, 25, None), (500, 5.0, 20, 550), (600, 2.5, 30, 550), (350, 1.2, 25, 500),
          (750, 3.5, 20, 550), (550, 4.5, 30, None)]


def submit(client, project, count=3, bounds=""):
    return client.post("/quality/design/", {"target": "milling:conductivity_ms_per_cm", "project": project.pk,
                                            "count": count, "bounds": bounds, "objective": ""})


def test_a_run_trains_on_the_records_lists_them_and_a_proposal_becomes_a_linked_plan(project, sci):
    batches = milling_batches(project, sci, VARIED)
    client = client_for(sci)
    response = submit(client, project, bounds="milling_time_h 0.25 6")
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(kind=DESIGN_SPACE)
    assert job.inputs["records"] == [b.item.code for b in batches]
    bounds = {p["name"]: (p["low"], p["high"]) for p in job.inputs["parameters"]}
    assert bounds["milling_time_h"] == (0.25, 6.0)
    # the others: the records' range widened by a tenth: speed 350…750 → 310…790
    assert bounds["speed_rpm"] == pytest.approx((310.0, 790.0))
    job = run_in_process(job)
    for proposal in job.result["suggestions"]:
        for name, value in proposal["x"].items():
            assert bounds[name][0] <= value <= bounds[name][1], name
    assert len(job.result["suggestions"]) == 3
    page = client.get(f"/quality/design/runs/{job.pk}/").content.decode()
    assert "Leave-one-out cross-validated error" in page and batches[0].item.code in page
    assert "design_slices.png" in page
    assert client.post(f"/quality/design/runs/{job.pk}/plan/", {"index": "1"}).status_code == 302
    plan = PlannedExperiment.objects.get()
    assert (plan.job_id, plan.suggestion_index, plan.step, plan.project_id) == (job.pk, 1, "milling", project.pk)
    assert plan.parameters == job.result["suggestions"][1]["x"]
    assert f"planned #{plan.pk}" in client.get(f"/quality/design/runs/{job.pk}/").content.decode()
    assert f"run #{job.pk}" in client.get("/quality/design/").content.decode()
    # the same proposal twice, or one that does not exist: refused, nothing written
    for index in ("1", "9", "x"):
        client.post(f"/quality/design/runs/{job.pk}/plan/", {"index": index})
    assert PlannedExperiment.objects.count() == 1
    # the same records give the same run: its result is reused
    submit(client, project, bounds="milling_time_h 0.25 6")
    assert Job.objects.filter(kind=DESIGN_SPACE).order_by("-id").first().reused_from_id == job.pk


def test_few_records_or_a_constant_parameter_are_said_and_no_map_is_drawn(project, sci):
    milling_batches(project, sci, [(500, 0.5, 25, 550), (500, 1.0, 25, 550), (500, 2.0, 25, 550),
                                   (500, 4.0, 25, 550)])
    submit(client_for(sci), project)
    job = run_in_process(Job.objects.get(kind=DESIGN_SPACE))
    assert set(job.result["parameters_not_varied"]) == {"speed_rpm", "ball_to_powder_ratio",
                                                        "heat_treatment_temperature_c", "heat_treatment_time_h"}
    assert {f.name for f in job.files.all()} == {"design_slices.png", "design_slices.svg"}
    page = client_for(sci).get(f"/quality/design/runs/{job.pk}/").content.decode()
    assert "never vary speed_rpm" in page and "only 4 records" in page and "No 2-D map" in page


def test_bad_requests_name_the_field_and_write_nothing(project, other_project, sci, tech):
    milling_batches(project, sci, VARIED[:2])
    client = client_for(sci)
    cases = [
        (submit(client, project), "needs at least 3"),  # two records only
        (submit(client, project, bounds="colour 1 2"), "not a parameter"),
        (submit(client, project, bounds="milling_time_h 3 1"), "high must be greater"),
        (submit(client, project, count=50), "Ensure this value"),
    ]
    for response, fragment in cases:
        assert response.status_code == 200 and fragment in response.content.decode(), fragment
    milling_batches(project, sci, VARIED[2:5])
    response = submit(client, project, bounds="milling_time_h 1 2")  # records at 0.5 h lie outside
    assert "the bounds must hold them" in response.content.decode()
    assert not Job.objects.filter(kind=DESIGN_SPACE).exists()
    job = Job.objects.create(kind="diagnostic", queue="models", inputs={}, inputs_sha256="0" * 64)
    with pytest.raises(Exception, match="only a finished design-space run"):
        planned_experiment_create(job=job, index=0, user=sci)
    assert client_for(tech).get("/quality/design/").status_code == 200


def test_dry_films_give_their_binder_passes_roll_temperature_and_line_force(project, sci):
    """make_film rolls 5 passes: 80 °C then 100 °C ×4 (mean 96 °C), line force 50·n N/mm (highest 250); PTFE is
    0.010 of 2.000 g (0.005); porosity 0.154843 (tests/utils/factories_electrodes.py works it out)."""
    from assbtrack.quality.registry import design_step
    from tests.utils.factories_electrodes import make_film

    film = make_film(project, sci)
    [record] = design_step("dry_film").records(project, "porosity")
    assert record.code == film.item.code
    assert record.x == {"binder_fraction": pytest.approx(0.005), "roll_temperature_c": pytest.approx(96.0),
                        "pass_count": 5.0, "line_force_n_per_mm": 250.0}
    assert record.y == pytest.approx(0.154843, abs=1e-6)


def test_a_planned_milling_proposal_opens_the_batch_form_and_the_batch_made_joins_the_next_run(project, sci):
    from materials.models import SynthesisBatch
    from tests.materials.test_materials_forms import batch_data

    milling_batches(project, sci, VARIED)
    client = client_for(sci)
    submit(client, project)
    job = run_in_process(Job.objects.get(kind=DESIGN_SPACE))
    plan = planned_experiment_create(job=job, index=0, user=sci)
    x = job.result["suggestions"][0]["x"]
    run_page = client.get(f"/quality/design/runs/{job.pk}/").content.decode()
    assert f"/materials/batches/new/?plan={plan.pk}" in run_page
    form = client.get(f"/materials/batches/new/?plan={plan.pk}").context["form"]
    assert form.initial["speed_rpm"] == round(x["speed_rpm"]) and form.initial["project"] == project.pk
    assert form.initial["milling_time_h"] == round(x["milling_time_h"], 2)
    assert f"run #{job.pk}" in form.initial["notes"]
    # a plan of another step, or an unknown one, opens an ordinary form
    assert "speed_rpm" not in client.get("/materials/batches/new/?plan=999999").context["form"].initial

    lot = make_lot(project, sci, mass_g=50.0)
    data = batch_data(project, [(lot.item.code, "2")], batch_mass_g="1.9",
                      speed_rpm=str(form.initial["speed_rpm"]), milling_time_h=str(form.initial["milling_time_h"]),
                      ball_to_powder_ratio=str(form.initial["ball_to_powder_ratio"]))
    assert client.post(f"/materials/batches/new/?plan={plan.pk}", data).status_code == 302
    batch = SynthesisBatch.objects.order_by("-item_id").first()
    plan.refresh_from_db()
    assert plan.record == batch and plan.record_label.startswith(batch.item.code)
    assert plan.record_url == batch.item.get_absolute_url()
    assert batch.item.code in client.get("/quality/design/").content.decode()
    # made once: the form opened from it again is an ordinary one, and a second batch is not linked
    assert "speed_rpm" not in client.get(f"/materials/batches/new/?plan={plan.pk}").context["form"].initial
    # measured, the batch is one of the records the next run trains on
    assert batch.item.code not in submit_inputs(project)["records"]
    make_measurement(batch, sci, conductivity_ms_per_cm=2.5)
    assert submit_inputs(project)["records"][-1] == batch.item.code


def submit_inputs(project):
    from assbtrack.quality.design import design_inputs

    return design_inputs(step="milling", outcome="conductivity_ms_per_cm", project=project, bounds=None, count=3)


def test_a_planned_dry_film_opens_the_film_form_with_the_plan_and_the_film_made_is_linked(project, sci):
    from assbtrack.tracing.choices import ItemKind
    from electrodes.models import Film
    from tests.electrodes.test_views import film_post, recipe_rows
    from tests.utils.factories_electrodes import make_component_sources, make_film

    sources = make_component_sources(project, sci, ItemKind.CATHODE_FILM, stock_g=500.0)
    for count, mass in ((3, 1.70), (4, 1.78), (5, 1.86), (6, 1.93), (7, 2.0)):
        make_film(project, sci, components=sources, passes=[140.0 - 10 * n for n in range(count)], mass_g=mass)
    client = client_for(sci)
    response = client.post("/quality/design/", {"target": "dry_film:porosity", "project": project.pk, "count": 1,
                                                "bounds": "", "objective": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = run_in_process(Job.objects.get(kind=DESIGN_SPACE))
    plan = planned_experiment_create(job=job, index=0, user=sci)
    assert f"/electrodes/films/new/?plan={plan.pk}" in client.get(f"/quality/design/runs/{job.pk}/").content.decode()
    opened = client.get(f"/electrodes/films/new/?plan={plan.pk}")
    notes = opened.context["form"].initial["notes"]
    assert f"run #{job.pk}" in notes and "passes" in notes and opened.context["form"].initial["process"] == "dry"
    assert client.post(f"/electrodes/films/new/?plan={plan.pk}",
                       film_post(project, recipe_rows(sources), notes=notes)).status_code == 302
    film = Film.objects.order_by("-item_id").first()
    plan.refresh_from_db()
    assert plan.record == film and plan.record_url == film.item.get_absolute_url()
    # a film form opened from a milling plan, or a plan made already, is an ordinary form
    assert "notes" not in client.get(f"/electrodes/films/new/?plan={plan.pk}").context["form"].initial
