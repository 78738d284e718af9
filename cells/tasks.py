"""Job kinds of the cells app (thin: load, call the domain or a service, return the result and files).

- ``cell_stack_energy`` (models): the stack_energy model on a cell's own layers; stores Wh/kg and Wh/L on the cell.
- ``cells_cycling_import`` (imports): parse a cycler file into the per-cycle table and the cell's summary.
- ``cells_cycling_plots`` (plots): capacity and coulombic efficiency against cycle; voltage against capacity.
- ``cells_figure1`` (plots): the Figure 1 waterfall of presets a–g, with real cells as extra bars.
- ``cells_retention_trend`` (plots): a project's capacity retention at the spec's cycle over time (dashboard).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from assbtrack.domain.inputs import Inputs, ModelInputError
from assbtrack.domain.plotting import TrendSeries, figure_files, trend_figure
from assbtrack.jobs.handlers import (
    QUEUE_IMPORTS,
    QUEUE_MODELS,
    QUEUE_PLOTS,
    JobContext,
    JobOutput,
    PermanentJobError,
    register_job_kind,
)
from assbtrack.jobs.models import Job

from . import energy, plots
from .choices import JOB_CELL_STACK_ENERGY, JOB_CYCLING_IMPORT, JOB_CYCLING_PLOTS, JOB_FIGURE1, JOB_RETENTION_TREND
from .cycler_import import cycling_test_profile_series
from .cycling import voltage_capacity_curves
from .figures import figure1_figure
from .models import Cell, CyclingTest
from .selectors import cycle_metrics_of
from .services import CyclingImportError, cell_energy_set, cycling_test_import

MAX_FIGURE_CELLS = 12


def _unknown_keys(inputs: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(inputs) - allowed
    if unknown:
        raise ModelInputError(sorted(unknown)[0], "is not an input of this job")


def _whole_number(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelInputError(field, "must be a whole number")
    return value


# ------------------------------------------------------------------------------------------ stack energy


def validate_cell_stack_energy(inputs: Mapping[str, Any]) -> dict[str, Any]:
    _unknown_keys(inputs, {"cell", "design"})
    if not isinstance(inputs.get("cell"), str):
        raise ModelInputError("cell", "give the cell's code")
    energy.stack_design_from_inputs(inputs.get("design"))
    return dict(inputs)


def run_cell_stack_energy(context: JobContext) -> JobOutput:
    context.progress(10, "running the stack energy model on the cell's layers")
    result = energy.run_stack_energy(context.inputs["design"])
    cell = Cell.objects.select_related("item").filter(item__code=context.inputs["cell"]).first()
    if cell is None:
        raise PermanentJobError(f"Cell {context.inputs['cell']} no longer exists.")
    job = Job.objects.select_related("requested_by").get(pk=context.job_id)
    user = job.requested_by or cell.item.created_by
    cell_energy_set(
        cell=cell, user=user,
        specific_energy_wh_per_kg=result["cell_specific_energy_wh_per_kg"],
        energy_density_wh_per_l=result["cell_energy_density_wh_per_l"],
        reason=f"stack_energy model, job {context.job_id}",
    )
    context.progress(90, "stored on the cell")
    return JobOutput(result={"cell": cell.item.code, **result})


# ------------------------------------------------------------------------------------------ cycler import


def validate_cycling_import(inputs: Mapping[str, Any]) -> dict[str, Any]:
    _unknown_keys(inputs, {"test"})
    _whole_number(inputs.get("test"), "test")
    return dict(inputs)


def run_cycling_import(context: JobContext) -> JobOutput:
    test = CyclingTest.objects.select_related("cell__item", "created_by").filter(pk=context.inputs["test"]).first()
    if test is None:
        raise PermanentJobError(f"Cycling test {context.inputs['test']} no longer exists.")
    try:
        test = cycling_test_import(test=test, progress=context.progress)
    except CyclingImportError as error:
        raise PermanentJobError(error.message_dict["data_file"][0]) from None
    return JobOutput(
        result={
            "test": test.pk,
            "cell": test.cell.item.code,
            "file_name": test.file_name,
            "cycles": test.cycle_count,
            "first_discharge_capacity_mah": test.first_discharge_capacity_mah,
            "retention_at_100": test.retention_at_100,
            "retention_at_last": test.retention_at_last,
            "cycle_at_80_percent": test.cycle_at_80_percent,
        }
    )


# ------------------------------------------------------------------------------------------ cycling plots


def validate_cycling_plots(inputs: Mapping[str, Any]) -> dict[str, Any]:
    _unknown_keys(inputs, {"test", "cycles"})
    _whole_number(inputs.get("test"), "test")
    cycles = inputs.get("cycles", [])
    if not isinstance(cycles, list) or len(cycles) > 20:
        raise ModelInputError("cycles", "must be a list of at most 20 cycle numbers")
    for index, cycle in enumerate(cycles):
        _whole_number(cycle, f"cycles[{index}]")
    return {"test": inputs["test"], "cycles": cycles}


def run_cycling_plots(context: JobContext) -> JobOutput:
    test = CyclingTest.objects.select_related("cell__item").filter(pk=context.inputs["test"]).first()
    if test is None:
        raise PermanentJobError(f"Cycling test {context.inputs['test']} no longer exists.")
    metrics = cycle_metrics_of(test)
    if len(metrics) == 0:
        raise PermanentJobError(f"{test.file_name} has no imported cycles to plot.")
    label = f"{test.cell.item.code} ({test.file_name})"
    context.progress(20, "capacity and coulombic efficiency")
    files = figure_files(plots.capacity_and_efficiency_figure(metrics, f"{label}: capacity and efficiency"),
                         "capacity_efficiency")
    cycles = context.inputs.get("cycles") or []
    plotted: list[int] = []
    if cycles:
        context.progress(50, f"reading {test.file_name} for the voltage profiles")
        try:
            series = cycling_test_profile_series(test, cycles)
        except ModelInputError as error:
            # The per-cycle figure stands on the stored table; only the profiles need the points again.
            context.progress(80, f"no voltage profiles: {test.file_name}: {error.reason}"[:200])
            series = None
        if series is not None:  # None: none of the cycles is in the file
            curves = voltage_capacity_curves(series, cycles)
            plotted = sorted(curves)
            title = f"{label}: voltage profiles"
            files.update(figure_files(plots.voltage_capacity_figure(curves, title), "voltage_capacity"))
    context.progress(90, "saving the figures")
    return JobOutput(result={"test": test.pk, "cell": test.cell.item.code, "cycles_plotted": plotted}, files=files)


# ------------------------------------------------------------------------------------------ Figure 1


def validate_figure1(inputs: Mapping[str, Any]) -> dict[str, Any]:
    _unknown_keys(inputs, {"cells"})
    cells = inputs.get("cells", [])
    if not isinstance(cells, list) or len(cells) > MAX_FIGURE_CELLS:
        raise ModelInputError("cells", f"must be a list of at most {MAX_FIGURE_CELLS} cells")
    for index, entry in enumerate(cells):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("code"), str):
            raise ModelInputError(f"cells[{index}]", "must be {code, design}")
        try:
            energy.stack_design_from_inputs(entry.get("design"))
        except ModelInputError as error:
            raise ModelInputError(f"cells[{index}].design.{error.field}", error.reason) from None
    return {"cells": cells}


def figure1_bars(cells: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Presets a–g, then each cell: (label, cell-level Wh/kg, Wh/L)."""
    bars = []
    for name in energy.scenario_names():
        result = energy.run_stack_energy({"scenario": name})
        bars.append({"label": name, "wh_per_kg": result["cell_specific_energy_wh_per_kg"],
                     "wh_per_l": result["cell_energy_density_wh_per_l"]})
    for entry in cells:
        result = energy.run_stack_energy(entry["design"])
        bars.append({"label": entry["code"], "wh_per_kg": result["cell_specific_energy_wh_per_kg"],
                     "wh_per_l": result["cell_energy_density_wh_per_l"]})
    return bars


def run_figure1(context: JobContext) -> JobOutput:
    context.progress(10, "computing presets a–g and the chosen cells")
    bars = figure1_bars(context.inputs.get("cells") or [])
    codes = [entry["code"] for entry in context.inputs.get("cells") or []]
    title = "Figure 1: presets a–g" + (f" and {', '.join(codes)}" if codes else "")
    context.progress(50, "drawing the waterfall")
    rows = [(bar["label"], bar["wh_per_kg"], bar["wh_per_l"]) for bar in bars]
    presets = len(energy.scenario_names())
    figure = figure1_figure(rows[:presets], rows[presets:], title)
    labels = energy.scenario_labels()
    for bar in bars:
        bar["description"] = labels.get(bar["label"], "real cell")
    return JobOutput(result={"bars": bars}, files=figure_files(figure, "figure1"))


# ----------------------------------------------------------------------- retention over time (dashboard)

TREND_MAX_POINTS = 5000


def validate_retention_trend(data: Mapping[str, Any]) -> dict[str, Any]:
    inputs = Inputs(data)
    inputs.text("title")
    inputs.text("project", max_length=40)
    inputs.integer("at_cycle", minimum=1)
    inputs.number("minimum_percent", allow_none=True, greater_than=0.0, maximum=100.0)
    inputs.integer("short_of_cycle", minimum=0)
    for index, point in enumerate(inputs.objects("points", min_items=1, max_items=TREND_MAX_POINTS)):
        try:
            datetime.fromisoformat(point.text("tested_at", max_length=40))
        except ValueError:
            raise ModelInputError(f"points[{index}].tested_at", "must be an ISO date-time") from None
        point.number("retention_percent", minimum=0.0, maximum=1000.0)
        point.text("group", max_length=60)
        point.text("label", max_length=40)
        point.finish()
    inputs.finish()
    return dict(data)


def run_retention_trend(context: JobContext) -> JobOutput:
    validate_retention_trend(context.inputs)
    points, minimum = context.inputs["points"], context.inputs["minimum_percent"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for point in sorted(points, key=lambda p: p["tested_at"]):
        groups.setdefault(point["group"], []).append(point)
    context.progress(50, "drawing")
    series = [
        TrendSeries(name=name, dates=[datetime.fromisoformat(p["tested_at"]) for p in rows],
                    values=[p["retention_percent"] for p in rows], minimum=minimum)
        for name, rows in sorted(groups.items())
    ]
    figure = trend_figure(series, y_label=f"Capacity retention at cycle {context.inputs['at_cycle']} (%)",
                          title=context.inputs["title"], unit=" %")
    below = [p["label"] for p in points if minimum is not None and p["retention_percent"] < minimum]
    result = {"tests": len(points), "below_spec": below, "at_cycle": context.inputs["at_cycle"],
              "minimum_percent": minimum, "short_of_cycle": context.inputs["short_of_cycle"]}
    return JobOutput(result=result, files=figure_files(figure, "retention_trend"))


def describe_retention_trend(result: Mapping[str, Any]) -> str:
    text = f"{result['tests']} tests at cycle {result['at_cycle']}"
    if result["minimum_percent"] is None:
        text += "; no retention specification set for this project"
    else:
        text += f"; below {result['minimum_percent']:g} %: {', '.join(result['below_spec']) or 'none'}"
    if result["short_of_cycle"]:
        text += f"; {result['short_of_cycle']} more not yet at cycle {result['at_cycle']}"
    return text


def _as_validation(validate):
    """Job validation speaks ModelInputError, which job_submit turns into a ValidationError for the form."""
    def wrapped(inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(inputs, Mapping):
            raise ValidationError({"inputs": "must be a JSON object"})
        return validate(inputs)
    return wrapped


def register() -> None:
    register_job_kind(
        JOB_CELL_STACK_ENERGY, queue=QUEUE_MODELS, title="Energy density of a cell from its layers",
        run=run_cell_stack_energy, validate=_as_validation(validate_cell_stack_energy),
    )
    register_job_kind(
        JOB_CYCLING_IMPORT, queue=QUEUE_IMPORTS, title="Cycler data import",
        run=run_cycling_import, validate=_as_validation(validate_cycling_import),
    )
    register_job_kind(
        JOB_CYCLING_PLOTS, queue=QUEUE_PLOTS, title="Cycling plots",
        run=run_cycling_plots, validate=_as_validation(validate_cycling_plots),
    )
    register_job_kind(
        JOB_FIGURE1, queue=QUEUE_PLOTS, title="Figure 1 waterfall (presets and cells)",
        run=run_figure1, validate=_as_validation(validate_figure1),
    )
    register_job_kind(
        JOB_RETENTION_TREND, queue=QUEUE_PLOTS, title="Capacity retention over time",
        run=run_retention_trend, validate=_as_validation(validate_retention_trend), describe=describe_retention_trend,
    )
