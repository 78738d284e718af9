"""The control-chart job: limits and Western Electric rules of one QC series, drawn, and its flags stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assbtrack.domain.inputs import Inputs, ModelInputError
from assbtrack.domain.plotting import figure_files
from assbtrack.domain.spc import MIN_VALUES, RULE_TEXT, control_chart
from assbtrack.jobs.handlers import QUEUE_PLOTS, JobContext, JobOutput, register_job_kind

from .plots import control_chart_figure
from .services import SPC_CHART, control_flags_replace

MAX_POINTS = 20_000


def validate_chart(data: Mapping[str, Any]) -> dict[str, Any]:
    inputs = Inputs(data)
    inputs.text("series", max_length=250)
    inputs.text("title", max_length=250)
    inputs.text("value_label", max_length=80)
    points = inputs.objects("points", min_items=MIN_VALUES, max_items=MAX_POINTS)
    inputs.integer("baseline_count", minimum=MIN_VALUES, maximum=len(points))
    for point in points:
        point.integer("item_id", minimum=1)
        point.text("code", max_length=40)
        point.text("measured_at", max_length=40)
        point.number("value")
        point.finish()
    inputs.finish()
    return dict(data)


def run_chart(context: JobContext) -> JobOutput:
    inputs = validate_chart(context.inputs)
    points = inputs["points"]
    values = [p["value"] for p in points]
    context.progress(20, "judging the Western Electric rules")
    chart = control_chart(values, baseline_count=inputs["baseline_count"])
    result = {
        "center": chart.limits.center, "sigma": chart.limits.sigma, "ucl": chart.limits.ucl, "lcl": chart.limits.lcl,
        "baseline_count": chart.baseline_count, "points": len(points), "z": [round(float(z), 4) for z in chart.z],
        "violations": [{"index": v.index, "rule": v.rule, "code": points[v.index]["code"]} for v in chart.violations],
    }
    context.progress(50, "storing the flags")
    control_flags_replace(series_key=inputs["series"], job_id=context.job_id, inputs=inputs, result=result)
    context.progress(70, "drawing")
    figure = control_chart_figure(chart, values, [p["code"] for p in points], title=inputs["title"],
                                  value_label=inputs["value_label"])
    return JobOutput(result=result, files=figure_files(figure, "control_chart"))


def describe_chart(result: Mapping[str, Any]) -> str:
    flagged = result.get("violations") or []
    text = (f"{result['points']} records, baseline the first {result['baseline_count']}: "
            f"centre {result['center']:.4g}, σ {result['sigma']:.3g}; ")
    if not flagged:
        return text + "in control"
    return text + "out of control: " + "; ".join(f"{v['code']} ({RULE_TEXT[v['rule']]})" for v in flagged[:8])


def _check(data: Mapping[str, Any]) -> dict[str, Any]:
    checked = validate_chart(data)
    try:
        control_chart([p["value"] for p in checked["points"]], baseline_count=checked["baseline_count"])
    except ModelInputError as error:
        raise ModelInputError("points", error.reason) from None
    return checked


register_job_kind(SPC_CHART, queue=QUEUE_PLOTS, title="Control chart of a QC series (Western Electric rules)",
                  run=run_chart, validate=_check, describe=describe_chart)
