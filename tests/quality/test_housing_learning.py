"""Housings in process learning: the pressure-map CV of one design as a control chart, module efficiency as a
design-space outcome, and a proposal planned as a draft housing design that the next run trains on once mapped."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from assbtrack.jobs.models import Job
from assbtrack.quality.design import design_inputs, design_submit, planned_experiment_create
from assbtrack.quality.models import ControlFlag
from assbtrack.quality.services import SPC_CHART, control_charts_submit
from modules.models import HousingDesign, PressureMapResult
from modules.qc_series import housing_design_code
from modules.services import module_efficiency_submit
from tests.quality.test_spc_charts import run_in_process
from tests.utils.checks import client_for
from tests.utils.factories_modules import centre_heavy_density, make_design, make_module, make_scan, map_scan_quickly

pytestmark = pytest.mark.django_db

# (spring constant N/mm, gasket Shore A, plate thickness mm, plate modulus GPa, bolt torque N·m, set pressure MPa)
DESIGNS = [(50.0, 0.0, 16.0, 200.0, 10.0, 5.0), (120.0, 60.0, 20.0, 200.0, 14.0, 5.0),
           (0.0, 40.0, 24.0, 70.0, 8.0, 4.0), (80.0, 70.0, 18.0, 110.0, 12.0, 6.0),
           (150.0, 0.0, 22.0, 200.0, 16.0, 5.5)]


def designs_of(project, user, rows=DESIGNS):
    designs = []
    for spring, shore, thickness, modulus, torque, pressure in rows:
        designs.append(make_design(
            project, user, plate_thickness_mm=thickness, plate_modulus_gpa=modulus, bolt_torque_nm=torque,
            target_stack_pressure_mpa=pressure, spring_count=4 if spring else 0,
            spring_constant_n_per_mm=spring or None, gasket_material="silicone" if shore else "none",
            gasket_shore_a_hardness=shore or None, gasket_thickness_mm=1.5 if shore else None))
    return designs


def mapped(design, user, centre: float):
    return map_scan_quickly(make_scan(user, design=design, density=centre_heavy_density(edge=100.0, centre=centre)))


def test_pressure_map_cv_of_one_design_is_charted_and_an_uneven_scan_is_flagged(project, sci,
                                                                                 django_capture_on_commit_callbacks):
    design = make_design(project, sci)
    with django_capture_on_commit_callbacks(execute=True):  # the module and its cells commit first
        module = make_module(project, sci, design=design)
    with django_capture_on_commit_callbacks(execute=True):
        for centre in [110.0, 120.0] * 4:
            map_scan_quickly(make_scan(sci, design=design, module=module,
                                       density=centre_heavy_density(edge=100.0, centre=centre)))
        mapped(design, sci, 400.0)  # a scan of the bare design: no traced record to flag, not on the chart
        uneven = map_scan_quickly(make_scan(sci, design=design, module=module,
                                            density=centre_heavy_density(edge=100.0, centre=200.0)))
    # storing the maps sends the design's chart once they commit (as on the worker that maps a scan)
    [job] = Job.objects.filter(kind=SPC_CHART, inputs__series=f"modules.pressure_cv:{project.code}:{design.pk}")
    assert [p["value"] for p in job.inputs["points"]][-1] == pytest.approx(uneven.coefficient_of_variation)
    assert len(job.inputs["points"]) == 9 and {p["item_id"] for p in job.inputs["points"]} == {module.pk}
    run_in_process(job)
    # the baseline is all nine (fewer than 20): centre (4a + 4b + c) / 9, σ = (7|b − a| + |c − b|) / 8 / 1.128;
    # the uneven scan is beyond 3σ (WE1), and the eight even ones all lie below that centre (WE4 at the eighth)
    a, b, c = (p["value"] for p in job.inputs["points"][:2] + job.inputs["points"][-1:])
    centre, sigma = (4 * a + 4 * b + c) / 9, (7 * abs(b - a) + abs(c - b)) / 8 / 1.128
    flags = {(flag.rule, flag.position): flag for flag in ControlFlag.objects.all()}
    assert sorted(flags) == [("we1", 9), ("we4", 8)]
    assert {flag.item_id for flag in flags.values()} == {module.pk}
    assert flags["we1", 9].z == pytest.approx((c - centre) / sigma, abs=1e-3) and (c - centre) / sigma > 3
    assert flags["we1", 9].value == pytest.approx(uneven.coefficient_of_variation)
    assert "WE1" in client_for(sci).get(module.item.get_absolute_url()).content.decode()
    # a module of another design is another series
    other = make_module(project, sci, design=make_design(project, sci))
    assert [job.inputs["series"] for job in control_charts_submit(items=[other.item], user=sci)] == []


def test_module_efficiency_is_an_outcome_of_housing_designs(project, sci):
    designs = designs_of(project, sci, DESIGNS[:3])
    efficiency = {}
    for design in designs:
        module = make_module(project, sci, design=design)
        job = run_in_process(module_efficiency_submit(module=module, user=sci))
        efficiency[design.pk] = job.result["module_efficiency"]["gravimetric_efficiency"]
    make_design(project, sci, bolt_torque_nm=9.0)  # no module, no efficiency: not a record
    inputs = design_inputs(step="housing", outcome="gravimetric_efficiency", project=project, bounds=None, count=2)
    assert inputs["records"] == [housing_design_code(d.name, d.pk) for d in designs]
    assert [o["y"] for o in inputs["observations"]] == pytest.approx([efficiency[d.pk] for d in designs])
    assert inputs["objective"] == "maximize"
    assert 0.0 < min(efficiency.values()) < max(efficiency.values()) < 1.0


def test_a_proposal_becomes_a_draft_housing_design_linked_to_its_run_and_trains_the_next_run(project, sci):
    designs = designs_of(project, sci)
    for design, centre in zip(designs, (150.0, 110.0, 130.0, 115.0, 170.0), strict=True):
        mapped(design, sci, centre)
    job = run_in_process(design_submit(user=sci, step="housing", outcome="pressure_map_cv", project=project,
                                       bounds=None, count=2))
    bounds = {p["name"]: (p["low"], p["high"]) for p in job.inputs["parameters"]}
    for proposal in job.result["suggestions"]:
        assert all(bounds[name][0] <= value <= bounds[name][1] for name, value in proposal["x"].items())
    plan = planned_experiment_create(job=job, index=0, user=sci)
    planned = HousingDesign.objects.get(pk=plan.record_id)
    assert plan.record == planned and plan.job_id == job.pk
    proposal = job.result["suggestions"][0]["x"]
    assert planned.project_id == project.pk and planned.name.startswith("Planned: ")
    assert planned.plate_thickness_mm == pytest.approx(proposal["plate_thickness_mm"], abs=0.01)
    assert planned.bolt_torque_nm == pytest.approx(proposal["bolt_torque_nm"], abs=0.01)
    assert planned.target_stack_pressure_mpa == pytest.approx(proposal["target_stack_pressure_mpa"], abs=0.01)
    assert f"design-space run #{job.pk}, proposal 1" in planned.notes
    code = housing_design_code(planned.name, planned.pk)
    page = client_for(sci).get(f"/quality/design/runs/{job.pk}/").content.decode()
    assert planned.get_absolute_url() in page
    assert planned.get_absolute_url() in client_for(sci).get("/quality/design/").content.decode()
    # planned, not yet measured: not a record; once its scan is mapped, the next run trains on it
    assert code not in design_inputs(step="housing", outcome="pressure_map_cv", project=project, bounds=None,
                                     count=2)["records"]
    result = mapped(planned, sci, 105.0)
    after = design_submit(user=sci, step="housing", outcome="pressure_map_cv", project=project, bounds=None, count=2)
    assert after.inputs["records"][-1] == code and after.pk != job.pk and after.reused_from_id is None
    assert after.inputs["observations"][-1]["y"] == pytest.approx(
        PressureMapResult.objects.get(pk=result.pk).coefficient_of_variation)


def test_a_proposal_planned_twice_is_refused_and_makes_no_second_design(project, sci):
    designs = designs_of(project, sci)
    for design, centre in zip(designs, (150.0, 110.0, 130.0, 115.0, 170.0), strict=True):
        mapped(design, sci, centre)
    job = run_in_process(design_submit(user=sci, step="housing", outcome="pressure_map_cv", project=project,
                                       bounds=None, count=1))
    planned_experiment_create(job=job, index=0, user=sci)
    count = HousingDesign.objects.count()
    with pytest.raises(ValidationError, match="already planned"):
        planned_experiment_create(job=job, index=0, user=sci)
    assert HousingDesign.objects.count() == count
