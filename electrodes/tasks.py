"""Job kinds of the electrodes app (queue "plots"): thin, they check the inputs and draw with ``electrodes.plots``.

A plot job's inputs are the numbers it draws, not ids: the same films give the same inputs and reuse
the earlier picture, and a new pass or a new film gives new inputs and a new picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assbtrack.domain.inputs import ModelInputError, check_number
from assbtrack.domain.plotting import figure_files
from assbtrack.jobs.handlers import QUEUE_PLOTS, JobContext, JobOutput, register_job_kind
from assbtrack.tracing.choices import ItemKind

from .choices import FILM_KINDS
from .plots import porosity_vs_loading_figure, thickness_by_pass_figure
from .selectors import POROSITY_PLOT_JOB, POROSITY_PLOT_STEM, THICKNESS_PLOT_JOB, THICKNESS_PLOT_STEM

MAX_POINTS = 10_000


def _numbers(values: Any, field: str, **limits) -> list[float]:
    if not isinstance(values, list):
        raise ModelInputError(field, "must be a list of numbers")
    if len(values) > MAX_POINTS:
        raise ModelInputError(field, f"has more than {MAX_POINTS} values")
    return [check_number(value, f"{field}[{index}]", **limits) for index, value in enumerate(values)]


def _only_keys(inputs: Mapping[str, Any], keys: set[str], field: str = "input") -> None:
    if not isinstance(inputs, Mapping):
        raise ModelInputError(field, "must be a JSON object")
    unknown = sorted(set(inputs) - keys)
    if unknown:
        raise ModelInputError(field if field != "input" else unknown[0], f"unknown key {unknown[0]!r}")
    missing = sorted(keys - set(inputs))
    if missing:
        raise ModelInputError(missing[0] if field == "input" else f"{field}.{missing[0]}", "is required")


def validate_thickness_plot(inputs: Mapping[str, Any]) -> dict[str, Any]:
    _only_keys(inputs, {"film", "pass_numbers", "thicknesses_um"})
    film = inputs["film"]
    if not isinstance(film, str) or not film.strip() or len(film) > 20:
        raise ModelInputError("film", "must be a film code")
    numbers = _numbers(inputs["pass_numbers"], "pass_numbers", minimum=1.0)
    if any(number != int(number) for number in numbers):
        raise ModelInputError("pass_numbers", "must be whole numbers")
    thicknesses = _numbers(inputs["thicknesses_um"], "thicknesses_um", greater_than=0.0)
    if len(numbers) != len(thicknesses):
        raise ModelInputError("thicknesses_um", "needs one thickness per pass")
    if not numbers:
        raise ModelInputError("pass_numbers", "needs at least one pass")
    return {"film": film, "pass_numbers": [int(n) for n in numbers], "thicknesses_um": thicknesses}


def run_thickness_plot(context: JobContext) -> JobOutput:
    inputs = validate_thickness_plot(context.inputs)
    context.progress(20, f"drawing the passes of {inputs['film']}")
    figure = thickness_by_pass_figure(
        inputs["pass_numbers"], inputs["thicknesses_um"], title=f"{inputs['film']}: thickness after each pass"
    )
    files = figure_files(figure, THICKNESS_PLOT_STEM)
    context.progress(90, "storing the picture")
    thicknesses = inputs["thicknesses_um"]
    return JobOutput(
        result={
            "film": inputs["film"],
            "passes": len(thicknesses),
            "first_thickness_um": thicknesses[0],
            "last_thickness_um": thicknesses[-1],
            "reduction_percent": (1.0 - thicknesses[-1] / thicknesses[0]) * 100.0,
        },
        files=files,
    )


def validate_porosity_plot(inputs: Mapping[str, Any]) -> dict[str, Any]:
    _only_keys(inputs, {"kind", "series"})
    kind = inputs["kind"]
    if kind not in FILM_KINDS:
        raise ModelInputError("kind", f"must be one of {', '.join(FILM_KINDS)}")
    series = inputs["series"]
    if not isinstance(series, Mapping) or not series:
        raise ModelInputError("series", "needs at least one series of films")
    checked: dict[str, dict[str, list]] = {}
    for name, entry in series.items():
        field = f"series.{name}"
        _only_keys(entry, {"codes", "loadings_mg_per_cm2", "porosities"}, field)
        codes = entry["codes"]
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            raise ModelInputError(f"{field}.codes", "must be a list of film codes")
        loadings = _numbers(entry["loadings_mg_per_cm2"], f"{field}.loadings_mg_per_cm2", minimum=0.0)
        porosities = _numbers(entry["porosities"], f"{field}.porosities", maximum=1.0)
        if not len(codes) == len(loadings) == len(porosities):
            raise ModelInputError(field, "needs one code, loading and porosity per film")
        checked[str(name)] = {"codes": codes, "loadings_mg_per_cm2": loadings, "porosities": porosities}
    return {"kind": kind, "series": checked}


def run_porosity_plot(context: JobContext) -> JobOutput:
    inputs = validate_porosity_plot(context.inputs)
    label = ItemKind(inputs["kind"]).label
    context.progress(20, f"drawing {label.lower()}s")
    figure = porosity_vs_loading_figure(
        {name: (entry["loadings_mg_per_cm2"], entry["porosities"]) for name, entry in inputs["series"].items()},
        title=f"{label}s: porosity against areal loading",
    )
    files = figure_files(figure, POROSITY_PLOT_STEM)
    context.progress(90, "storing the picture")
    return JobOutput(
        result={
            "kind": inputs["kind"],
            "films": {name: len(entry["codes"]) for name, entry in inputs["series"].items()},
            "mean_porosity": {
                name: sum(entry["porosities"]) / len(entry["porosities"])
                for name, entry in inputs["series"].items() if entry["porosities"]
            },
        },
        files=files,
    )


def register() -> None:
    register_job_kind(
        THICKNESS_PLOT_JOB, queue=QUEUE_PLOTS, title="Film thickness by calendering pass",
        run=run_thickness_plot, validate=validate_thickness_plot,
    )
    register_job_kind(
        POROSITY_PLOT_JOB, queue=QUEUE_PLOTS, title="Film porosity against areal loading (dry vs slurry)",
        run=run_porosity_plot, validate=validate_porosity_plot,
    )


register()
