"""Plot jobs of the materials app, run on the "plots" queue.

Each job's inputs carry the numbers it draws (gathered from the records when it is submitted), so the
inputs hash changes exactly when the data do and an unchanged plot is never drawn twice. The handlers
are thin: check the inputs, call the domain fit and the figure function, return PNG and SVG.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from assbtrack.domain.inputs import Inputs, ModelInputError
from assbtrack.domain.plotting import TrendSeries, figure_files, trend_figure
from assbtrack.jobs.handlers import QUEUE_PLOTS, JobContext, JobOutput, register_job_kind
from materials.choices import ARRHENIUS_PLOT, CONDUCTIVITY_TREND, CONTROL_CHART, EXPOSURE_PLOT, MILLING_PLOT
from materials.conductivity import run_arrhenius
from materials.milling import run_milling_saturation
from materials.plots import (
    CONDUCTIVITY_LABEL,
    arrhenius_figure,
    conductivity_control_chart_figure,
    exposure_retention_figure,
    milling_saturation_figure,
)

MAX_POINTS = 5000


def _points(inputs: Inputs, keys: tuple[str, ...], *, extra: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    rows = []
    for point in inputs.objects("points", min_items=1, max_items=MAX_POINTS):
        row = {key: point.number(key) for key in keys}
        for key in extra:
            row[key] = point.text(key, max_length=100)
        point.finish()
        rows.append(row)
    return rows


def _date(value: str, field: str) -> date | datetime:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ModelInputError(field, "must be an ISO date or date-time") from None


# ------------------------------------------------------------------------------------------ Arrhenius


def validate_arrhenius_plot(data: Mapping[str, Any]) -> dict[str, Any]:
    inputs = Inputs(data)
    inputs.text("title")
    _points(inputs, ("temperature_c", "conductivity_ms_per_cm"))
    inputs.finish()
    return dict(data)


def run_arrhenius_plot(context: JobContext) -> JobOutput:
    validate_arrhenius_plot(context.inputs)
    points = context.inputs["points"]
    context.progress(20, "fitting the activation energy")
    result = run_arrhenius({"points": points})
    context.progress(60, "drawing")
    figure = arrhenius_figure(
        [p["temperature_c"] for p in points], [p["conductivity_ms_per_cm"] for p in points], result,
        context.inputs["title"],
    )
    return JobOutput(result=result, files=figure_files(figure, "arrhenius"))


# ------------------------------------------------------------------------------------------- exposure


def validate_exposure_plot(data: Mapping[str, Any]) -> dict[str, Any]:
    inputs = Inputs(data)
    inputs.text("title")
    _points(inputs, ("duration_h", "dew_point_c", "retention_percent"), extra=("label",))
    inputs.finish()
    return dict(data)


def run_exposure_plot(context: JobContext) -> JobOutput:
    validate_exposure_plot(context.inputs)
    rows = context.inputs["points"]
    context.progress(40, "drawing")
    figure = exposure_retention_figure(rows, context.inputs["title"])
    retentions = [row["retention_percent"] for row in rows]
    result = {"studies": len(rows), "lowest_retention_percent": min(retentions)}
    return JobOutput(result=result, files=figure_files(figure, "exposure_retention"))


# -------------------------------------------------------------------------- milling saturation (Fig. 2b)


def validate_milling_plot(data: Mapping[str, Any]) -> dict[str, Any]:
    inputs = Inputs(data)
    inputs.text("title")
    inputs.text("project", max_length=40)
    inputs.text("composition", max_length=60)
    inputs.text("route", max_length=30)
    _points(inputs, ("milling_time_h", "conductivity_ms_per_cm"))
    inputs.finish()
    return dict(data)


def run_milling_plot(context: JobContext) -> JobOutput:
    validate_milling_plot(context.inputs)
    points = context.inputs["points"]
    context.progress(20, "fitting the saturation curve")
    result = run_milling_saturation({"points": points})
    context.progress(60, "drawing")
    figure = milling_saturation_figure(points, result, context.inputs["title"])
    return JobOutput(result=result, files=figure_files(figure, "milling_saturation"))


# ---------------------------------------------------------------------------------------- control chart


def validate_control_chart(data: Mapping[str, Any]) -> dict[str, Any]:
    inputs = Inputs(data)
    inputs.text("title")
    inputs.text("project", max_length=40)
    inputs.text("composition", max_length=60)
    inputs.number("spec_ms_per_cm", greater_than=0.0)
    for index, point in enumerate(inputs.objects("points", min_items=1, max_items=MAX_POINTS)):
        _date(point.text("measured_at", max_length=40), f"points[{index}].measured_at")
        point.number("conductivity_ms_per_cm", greater_than=0.0)
        point.text("label", max_length=40)
        point.finish()
    inputs.finish()
    return dict(data)


def run_control_chart(context: JobContext) -> JobOutput:
    validate_control_chart(context.inputs)
    points = sorted(context.inputs["points"], key=lambda p: p["measured_at"])
    spec = float(context.inputs["spec_ms_per_cm"])
    context.progress(40, "drawing")
    figure = conductivity_control_chart_figure(
        [datetime.fromisoformat(p["measured_at"]) for p in points],
        [p["conductivity_ms_per_cm"] for p in points],
        spec,
        [p["label"] for p in points],
        context.inputs["title"],
    )
    below = [p["label"] for p in points if p["conductivity_ms_per_cm"] < spec]
    result = {"batches": len(points), "below_spec": below, "spec_ms_per_cm": spec}
    return JobOutput(result=result, files=figure_files(figure, "control_chart"))


# ------------------------------------------------------------------------ conductivity over time (dashboard)


def validate_conductivity_trend(data: Mapping[str, Any]) -> dict[str, Any]:
    inputs = Inputs(data)
    inputs.text("title")
    inputs.text("project", max_length=40)
    specs = inputs.obj("specs")
    for composition in list(inputs.raw("specs")):
        specs.number(composition, greater_than=0.0)
    specs.finish()
    for index, point in enumerate(inputs.objects("points", min_items=1, max_items=MAX_POINTS)):
        _date(point.text("measured_at", max_length=40), f"points[{index}].measured_at")
        point.number("conductivity_ms_per_cm", greater_than=0.0)
        point.text("composition", max_length=60)
        point.text("label", max_length=40)
        point.finish()
    inputs.finish()
    return dict(data)


def run_conductivity_trend(context: JobContext) -> JobOutput:
    validate_conductivity_trend(context.inputs)
    points, specs = context.inputs["points"], context.inputs["specs"]
    context.progress(30, "grouping by composition")
    groups: dict[str, list[dict[str, Any]]] = {}
    for point in sorted(points, key=lambda p: p["measured_at"]):
        groups.setdefault(point["composition"], []).append(point)
    series = [
        TrendSeries(
            name=composition,
            dates=[datetime.fromisoformat(p["measured_at"]) for p in rows],
            values=[p["conductivity_ms_per_cm"] for p in rows],
            minimum=specs.get(composition),
        )
        for composition, rows in sorted(groups.items())
    ]
    context.progress(60, "drawing")
    figure = trend_figure(series, y_label=CONDUCTIVITY_LABEL, title=context.inputs["title"], unit=" mS/cm")
    below = [
        p["label"] for p in points
        if p["composition"] in specs and p["conductivity_ms_per_cm"] < specs[p["composition"]]
    ]
    result = {"batches": len(points), "compositions": len(groups), "below_spec": below,
              "without_spec": sorted(set(groups) - set(specs))}
    return JobOutput(result=result, files=figure_files(figure, "conductivity_trend"))


# ------------------------------------------------------------------------------------ what each result says


def describe_arrhenius(result: Mapping[str, Any]) -> str:
    return (f"Ea = {result['activation_energy_ev']:.3f} eV (R² = {result['r_squared']:.3f}); "
            f"σ(25 °C) from the fit = {result['conductivity_25c_ms_per_cm']:.3g} mS/cm")


def describe_milling(result: Mapping[str, Any]) -> str:
    return (f"σ_sat = {result['sigma_sat_ms_per_cm']:.3g} mS/cm, τ = {result['tau_h']:.3g} h, "
            f"t95 = {result['t95_h']:.3g} h (R² = {result['r_squared']:.3f}): milling beyond t95 buys "
            "less than 5 % more conductivity")


def describe_below_spec(result: Mapping[str, Any]) -> str:
    below = ", ".join(result["below_spec"]) or "none"
    text = f"{result['batches']} batches; below the specification: {below}"
    if result.get("without_spec"):
        text += f"; no specification for {', '.join(result['without_spec'])}"
    return text


def describe_exposure(result: Mapping[str, Any]) -> str:
    return f"{result['studies']} studies; lowest retention {result['lowest_retention_percent']:.1f} %"


register_job_kind(
    ARRHENIUS_PLOT, queue=QUEUE_PLOTS, title="Arrhenius plot of a batch", run=run_arrhenius_plot,
    validate=validate_arrhenius_plot, describe=describe_arrhenius,
)
register_job_kind(
    EXPOSURE_PLOT, queue=QUEUE_PLOTS, title="Conductivity retention after dry-room exposure", run=run_exposure_plot,
    validate=validate_exposure_plot, describe=describe_exposure,
)
register_job_kind(
    MILLING_PLOT, queue=QUEUE_PLOTS, title="Conductivity against milling time (Figure 2b)", run=run_milling_plot,
    validate=validate_milling_plot, describe=describe_milling,
)
register_job_kind(
    CONTROL_CHART, queue=QUEUE_PLOTS, title="Control chart of batch conductivity", run=run_control_chart,
    validate=validate_control_chart, describe=describe_below_spec,
)
register_job_kind(
    CONDUCTIVITY_TREND, queue=QUEUE_PLOTS, title="Batch conductivity over time", run=run_conductivity_trend,
    validate=validate_conductivity_trend, describe=describe_below_spec,
)
