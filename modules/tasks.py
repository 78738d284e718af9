"""Job kinds of the modules app: thin wrappers that load the records, call the domain, return result and files.

- ``pressure_scan_map`` (plots): a stored film scan → its pressure map, heat map and uniformity numbers.
- ``module_efficiency_for_module`` (models): the cell-to-module model on a real module, with the
  Figure 5d–f curves and the module's own point on them.
- ``module_efficiency_sweep_plot`` (plots): Figure 5d–f for any cells in a housing design.
- ``pressure_maps_side_by_side`` (plots): several maps on one colour scale.
- ``pressure_map`` (models): the catalogue model as a job. Its shell form reads ``image_path``; a job never
  reads a server path, so the job takes ``scan_id`` (a scan uploaded through the pages or the admin, which
  the requester may see) and, optionally, the calibration, grid and threshold to use instead of the scan's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from assbtrack.domain.inputs import Inputs, ModelInputError
from assbtrack.domain.plotting import figure_files
from assbtrack.domain.registry import MODELS
from assbtrack.jobs.handlers import (
    QUEUE_MODELS,
    QUEUE_PLOTS,
    JobContext,
    JobOutput,
    PermanentJobError,
    WaitForJobs,
    register_job_kind,
)
from assbtrack.jobs.models import Job, JobStatus

from .choices import JOB_EFFICIENCY_SWEEP_PLOT, JOB_MODULE_EFFICIENCY, JOB_PRESSURE_MAPS_SIDE_BY_SIDE, JOB_PRESSURE_SCAN
from .housing import (
    LI_ION_GRAVIMETRIC_EFFICIENCY,
    LI_ION_VOLUMETRIC_EFFICIENCY,
    MAX_SWEEP_SIZES,
    read_module_efficiency_inputs,
    read_module_efficiency_sweep_inputs,
    run_module_efficiency,
    run_module_efficiency_sweep,
)
from .models import Module, PressureMapResult, PressureScan
from .plots import efficiency_sweep_figure, pressure_maps_side_by_side_figure
from .pressure import (
    MAX_GRID_SIDE,
    MIN_GRID_SIDE,
    PressureCalibration,
    load_scan,
    pressure_map,
    pressure_map_summary,
    read_pressure_map_options,
)
from .selectors import module_efficiency_inputs, scan_get_for_user
from .services import pressure_map_payload, pressure_scan_process

# The keys of ``module_efficiency`` that describe the housing and the cells (everything but the two scalars).
_SWEEP_KEYS_DROPPED = ("system_energy_kwh", "stack_pressure_mpa")


# --- pressure_scan_map --------------------------------------------------------------------------------


def _validate_scan(inputs: Mapping[str, Any]) -> dict[str, Any]:
    checked = Inputs(inputs)
    scan_id = checked.integer("scan_id", minimum=1)
    checked.finish()
    return {"scan_id": scan_id}


def _run_scan(context: JobContext) -> JobOutput:
    try:
        result, files = pressure_scan_process(
            scan_id=context.inputs["scan_id"], job_id=context.job_id, progress=context.progress
        )
    except PressureScan.DoesNotExist:
        raise PermanentJobError(f"Scan {context.inputs['scan_id']} no longer exists.") from None
    return JobOutput(result=pressure_map_payload(result), files=files)


# --- pressure_map (the catalogue model, on a stored scan) ---------------------------------------------


def _validate_pressure_map(inputs: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(inputs, Mapping) and "image_path" in inputs:
        raise ModelInputError("image_path", "a job reads an uploaded scan, never a file on the server: give "
                                            "scan_id, the id of a pressure scan")
    checked = Inputs(inputs)
    scan_id = checked.integer("scan_id", minimum=1)
    overrides = {key: checked.raw(key) for key in ("calibration", "grid_rows", "grid_cols", "threshold_fraction")
                 if checked.has(key)}
    checked.finish()
    options = Inputs(overrides)  # each override checked as the model checks it; the scan gives the rest
    if "calibration" in overrides:
        PressureCalibration.from_mapping(options.raw("calibration"))
    options.integer("grid_rows", default=20, minimum=MIN_GRID_SIDE, maximum=MAX_GRID_SIDE)
    options.integer("grid_cols", default=20, minimum=MIN_GRID_SIDE, maximum=MAX_GRID_SIDE)
    options.number("threshold_fraction", default=0.1, minimum=0, less_than=1)
    if not PressureScan.objects.filter(pk=scan_id).exists():
        raise ModelInputError("scan_id", f"no pressure scan {scan_id}")
    return {"scan_id": scan_id, **overrides}


def _run_pressure_map(context: JobContext) -> JobOutput:
    user = get_user_model().objects.filter(pk=context.requested_by_id, is_active=True).first()
    scan = scan_get_for_user(context.inputs["scan_id"], user) if user is not None else None
    if scan is None:
        raise PermanentJobError(f"No pressure scan {context.inputs['scan_id']} that the person who asked may see.")
    context.progress(10, "reading the scan")
    with scan.image.open("rb") as handle:
        pixels = load_scan(handle.read())
    options = Inputs({"calibration": scan.calibration, "grid_rows": scan.grid_rows, "grid_cols": scan.grid_cols,
                      "threshold_fraction": scan.threshold_fraction,
                      **{key: value for key, value in context.inputs.items() if key != "scan_id"}})
    calibration, grid, threshold_fraction = read_pressure_map_options(options)
    context.progress(40, "computing the pressure map")
    result = pressure_map_summary(pressure_map(pixels, calibration, grid, threshold_fraction))
    return JobOutput(result={"scan_id": scan.pk, **result})


# --- module_efficiency_for_module --------------------------------------------------------------------


def _validate_module_efficiency(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Either ``model`` (the inputs read from the records) or ``cell_energy_jobs`` (the cells' energy jobs to
    wait for; the inputs are read from the records once they are done)."""
    checked = Inputs(inputs)
    code = checked.text("module", max_length=20)
    sizes = checked.numbers("system_sizes_kwh", max_items=MAX_SWEEP_SIZES, greater_than=0)
    if checked.has("cell_energy_jobs"):
        waited = checked.raw("cell_energy_jobs")
        if not isinstance(waited, list) or not waited or not all(
            isinstance(pk, int) and not isinstance(pk, bool) and pk > 0 for pk in waited
        ):
            raise ModelInputError("cell_energy_jobs", "must be a list of job ids")
        checked.finish()
        return {"module": code, "cell_energy_jobs": waited, "system_sizes_kwh": sizes}
    model = checked.raw("model")
    checked.finish()
    read_module_efficiency_inputs(model)  # checks the model's inputs, naming the field; computes nothing
    return {"module": code, "model": dict(model), "system_sizes_kwh": sizes}


def _model_after_cell_jobs(module, job_ids: list[int]) -> dict[str, Any]:
    """The module's model inputs once its cells' energy jobs are done; ``WaitForJobs`` while any is not."""
    jobs = list(Job.objects.select_related("subject").filter(pk__in=job_ids).order_by("pk"))
    pending = [job.pk for job in jobs if not job.is_finished]
    if pending:
        noun = "cell energy job" if len(pending) == 1 else "cell energy jobs"
        raise WaitForJobs(f"waiting for {len(pending)} {noun}", job_ids=pending)
    failed = [job for job in jobs if job.status == JobStatus.FAILED]
    if failed:
        raise PermanentJobError(" ".join(
            f"The energy of cell {job.subject.code if job.subject else '?'} could not be computed (job {job.pk}): "
            f"{job.error}" for job in failed))
    try:
        return module_efficiency_inputs(module)
    except ValidationError as error:
        raise PermanentJobError(" ".join(error.messages)) from None


def _run_module_efficiency(context: JobContext) -> JobOutput:
    code = context.inputs["module"]
    module = Module.objects.select_related("item", "housing_design").filter(item__code=code).first()
    if module is None:
        raise PermanentJobError(f"Module {code} no longer exists.")
    if "cell_energy_jobs" in context.inputs:
        model = _model_after_cell_jobs(module, context.inputs["cell_energy_jobs"])
        read_module_efficiency_inputs(model)
    else:
        model = context.inputs["model"]
    context.progress(10, f"cell-to-module efficiency of {code}")
    own = run_module_efficiency(model)
    own_size_kwh = float(model["system_energy_kwh"])
    sizes = sorted({float(size) for size in context.inputs["system_sizes_kwh"]} | {own_size_kwh})
    context.progress(40, "efficiency against stack pressure")
    housing = {key: value for key, value in model.items() if key not in _SWEEP_KEYS_DROPPED}
    sweep = run_module_efficiency_sweep({**housing, "system_sizes_kwh": sizes})
    context.progress(70, "drawing Figure 5d–f")
    point = {
        "label": code,
        "system_energy_kwh": own_size_kwh,
        "stack_pressure_mpa": float(model["stack_pressure_mpa"]),
        "gravimetric_efficiency": own["gravimetric_efficiency"],
        "volumetric_efficiency": own["volumetric_efficiency"],
    }
    figure = efficiency_sweep_figure(
        sweep["curves"],
        f"{code}: cell-to-module efficiency ({model['cell_specific_energy_wh_per_kg']:.0f} Wh/kg, "
        f"{model['cell_energy_density_wh_per_l']:.0f} Wh/L cells)",
        highlight_points=[point],
    )
    result = {
        "module": code,
        "model": model,
        "module_efficiency": own,
        "beats_li_ion_by_mass": own["gravimetric_efficiency"] > LI_ION_GRAVIMETRIC_EFFICIENCY,
        "beats_li_ion_by_volume": own["volumetric_efficiency"] > LI_ION_VOLUMETRIC_EFFICIENCY,
        "li_ion_reference": {"gravimetric_efficiency": LI_ION_GRAVIMETRIC_EFFICIENCY,
                             "volumetric_efficiency": LI_ION_VOLUMETRIC_EFFICIENCY},
        "curves": sweep["curves"],
    }
    return JobOutput(result=result, files=figure_files(figure, f"module-efficiency-{code}"))


# --- module_efficiency_sweep_plot --------------------------------------------------------------------


def _validate_sweep_plot(inputs: Mapping[str, Any]) -> dict[str, Any]:
    checked = Inputs(inputs)
    title = checked.text("title", max_length=200)
    model = checked.raw("model")
    checked.finish()
    read_module_efficiency_sweep_inputs(model)
    return {"title": title, "model": dict(model)}


def _run_sweep_plot(context: JobContext) -> JobOutput:
    context.progress(20, "efficiency against stack pressure")
    sweep = run_module_efficiency_sweep(context.inputs["model"])
    context.progress(60, "drawing Figure 5d–f")
    figure = efficiency_sweep_figure(sweep["curves"], context.inputs["title"])
    return JobOutput(result=sweep, files=figure_files(figure, "module-efficiency-sweep"))


# --- pressure_maps_side_by_side ----------------------------------------------------------------------


def _validate_side_by_side(inputs: Mapping[str, Any]) -> dict[str, Any]:
    checked = Inputs(inputs)
    ids = checked.raw("scan_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 12:
        raise ModelInputError("scan_ids", "must be a list of 1 to 12 scan ids")
    for index, value in enumerate(ids):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ModelInputError(f"scan_ids[{index}]", "must be a scan id")
    title = checked.text("title", max_length=200)
    checked.finish()
    return {"scan_ids": ids, "title": title}


def _run_side_by_side(context: JobContext) -> JobOutput:
    ids = context.inputs["scan_ids"]
    results = {row.scan_id: row for row in PressureMapResult.objects.select_related("scan", "scan__design")
               .filter(scan_id__in=ids)}
    missing = [scan_id for scan_id in ids if scan_id not in results]
    if missing:
        raise PermanentJobError(f"Scans {', '.join(map(str, missing))} have no pressure map.")
    maps = [
        (f"{results[i].scan.design.name}: {results[i].scan.label}\n"
         f"CV {100 * results[i].coefficient_of_variation:.1f} %", results[i].grid_mpa)
        for i in ids
    ]
    context.progress(50, "drawing the maps on one colour scale")
    figure = pressure_maps_side_by_side_figure(maps, context.inputs["title"])
    payload = [pressure_map_payload(results[i]) for i in ids]
    return JobOutput(result={"maps": payload}, files=figure_files(figure, "pressure-maps-side-by-side"))


def register() -> None:
    register_job_kind(MODELS["pressure_map"].kind, queue=QUEUE_MODELS, title=MODELS["pressure_map"].title,
                      run=_run_pressure_map, validate=_validate_pressure_map, version=MODELS["pressure_map"].version)
    register_job_kind(JOB_PRESSURE_SCAN, queue=QUEUE_PLOTS, title="Pressure map of a film scan",
                      run=_run_scan, validate=_validate_scan)
    register_job_kind(JOB_MODULE_EFFICIENCY, queue=QUEUE_MODELS, title="Cell-to-module efficiency of a module",
                      run=_run_module_efficiency, validate=_validate_module_efficiency)
    register_job_kind(JOB_EFFICIENCY_SWEEP_PLOT, queue=QUEUE_PLOTS, title="Figure 5d–f for a housing design",
                      run=_run_sweep_plot, validate=_validate_sweep_plot)
    register_job_kind(JOB_PRESSURE_MAPS_SIDE_BY_SIDE, queue=QUEUE_PLOTS, title="Pressure maps side by side",
                      run=_run_side_by_side, validate=_validate_side_by_side)
