"""Technician pages of the electrodes app: films overview, new film, a film's passes, result and sheets.

Views parse input, check the role (technician or scientist) and call the services; a refusal is shown
beside the field (or the component row) it concerns, with everything typed kept.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from assbtrack.access.selectors import projects_visible_to
from assbtrack.instruments.selectors import calibration_warning
from assbtrack.jobs.services import job_submit
from assbtrack.quality.design import planned_experiment_for_form, planned_experiment_fulfil
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.fields import codes_resolve
from assbtrack.tracing.selectors import mark_affected
from assbtrack.web.decorators import lab_staff_required
from assbtrack.web.forms import errors_show

from .choices import FILM_KINDS, FilmProcess
from .forms import ComponentFormSet, CutSheetsForm, FilmCreateForm, PassForm, PorosityPlotForm, ResultForm
from .models import Film
from .selectors import (
    POROSITY_PLOT_JOB,
    POROSITY_PLOT_STEM,
    THICKNESS_PLOT_JOB,
    THICKNESS_PLOT_STEM,
    film_get_for_user,
    film_source_choices,
    films_for_porosity_plot,
    films_visible_to,
    job_image,
    plot_inputs_digest,
    plot_jobs_by_digest,
    porosity_plot_inputs,
    sheets_visible_to,
    thickness_plot_inputs,
)
from .services import film_create, film_pass_add, film_result_record, sheets_cut

LIST_LIMIT = 200
ROW_KEY = re.compile(r"^components\[(\d+)\]\.(\w+)$")
ROW_FIELDS = {"source": "source_code", "mass_g": "mass_g", "weight_percent": "weight_percent"}


def _add_errors(form, error: ValidationError, *, fallback: list[str] | None = None) -> None:
    """Each refusal beside its field; what no field of ``form`` names goes on top (or into ``fallback``)."""
    errors_show(error, form, label="name", plain=("components",) if fallback is not None else (), fallback=fallback)



# ---- overview and lists ----


@lab_staff_required
def film_list(request: HttpRequest) -> HttpResponse:
    """Every film with its metrics, filtered by kind and process, and porosity against loading per kind."""
    kind = request.GET.get("kind", "")
    process = request.GET.get("process", "")
    films = films_visible_to(request.user).annotate(sheet_count=Count("sheets"))
    if kind in FILM_KINDS:
        films = films.filter(item__kind=kind)
    if process in FilmProcess.values:
        films = films.filter(process=process)
    rows = mark_affected(films[:LIST_LIMIT], user=request.user)

    plotted = films_for_porosity_plot(request.user)
    plots = []
    for film_kind in FILM_KINDS:
        inputs = porosity_plot_inputs(plotted, kind=film_kind)
        if inputs["series"]:
            plots.append({"kind": film_kind, "label": ItemKind(film_kind).label, "inputs": inputs,
                          "digest": plot_inputs_digest(POROSITY_PLOT_JOB, inputs)})
    jobs = plot_jobs_by_digest(POROSITY_PLOT_JOB, [plot["digest"] for plot in plots])
    for plot in plots:
        plot["job"] = jobs.get(plot["digest"])
        plot["image"] = job_image(plot["job"], POROSITY_PLOT_STEM)
    context = {
        "films": rows,
        "limited": len(rows) == LIST_LIMIT,
        "kind": kind,
        "process": process,
        "kinds": [(value, ItemKind(value).label) for value in FILM_KINDS],
        "processes": FilmProcess.choices,
        "plots": plots,
    }
    return render(request, "electrodes/film_list.html", context)


@lab_staff_required
def sheet_list(request: HttpRequest) -> HttpResponse:
    sheets = sheets_visible_to(request.user)
    film_code = request.GET.get("film", "").strip().upper()[:20]
    if film_code:
        sheets = sheets.filter(film__item__code=film_code)
    rows = mark_affected(sheets[:LIST_LIMIT], user=request.user)
    return render(request, "electrodes/sheet_list.html",
                  {"sheets": rows, "film_code": film_code, "limited": len(rows) == LIST_LIMIT})


@lab_staff_required
@require_POST
def porosity_plot_draw(request: HttpRequest) -> HttpResponse:
    form = PorosityPlotForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a film kind to plot.")
        return redirect("electrodes:film-list")
    _submit_porosity_plot(request, form.cleaned_data["kind"])
    return redirect("electrodes:film-list")


def _submit_porosity_plot(request: HttpRequest, kind: str) -> None:
    inputs = porosity_plot_inputs(films_for_porosity_plot(request.user, kind=kind), kind=kind)
    if not inputs["series"]:
        messages.info(request, f"No {ItemKind(kind).label.lower()} has a result yet: nothing to plot.")
        return
    try:
        job_submit(kind=POROSITY_PLOT_JOB, inputs=inputs, user=request.user)
    except ValidationError as error:
        messages.error(request, f"The plot was not queued: {'; '.join(error.messages)}")


def _submit_thickness_plot(request: HttpRequest, film: Film) -> None:
    inputs = thickness_plot_inputs(film)
    if not inputs["pass_numbers"]:
        return
    try:
        job_submit(kind=THICKNESS_PLOT_JOB, inputs=inputs, user=request.user, subject=film.item)
    except ValidationError as error:
        messages.error(request, f"The plot was not queued: {'; '.join(error.messages)}")


# ---- a new film ----


def _planned_film_initial(plan) -> dict:
    """A dry film planned from a proposal: the binder share is set by the components weighed in, the passes are
    added after the film is made, so the notes carry what the plan asks of them."""
    x = plan.parameters
    wanted = ", ".join(f"{label} {x[name]:.3g}" for name, label in (
        ("binder_fraction", "PTFE fraction"), ("roll_temperature_c", "mean roll temperature (°C)"),
        ("pass_count", "passes"), ("line_force_n_per_mm", "highest line force (N/mm)")) if name in x)
    return {"project": plan.project_id, "process": FilmProcess.DRY,
            "notes": f"Planned from design-space run #{plan.job_id}, proposal {plan.suggestion_index + 1} "
                     f"(plan #{plan.pk}): {wanted}."}


@lab_staff_required
def film_new(request: HttpRequest) -> HttpResponse:
    projects = projects_visible_to(request.user).order_by("code")
    plan = planned_experiment_for_form(plan_id=request.GET.get("plan"), step="dry_film", user=request.user)
    initial = {"kind": request.GET.get("kind"), **(_planned_film_initial(plan) if plan is not None else {})}
    form = FilmCreateForm(request.POST or None, projects=projects, initial=initial)
    formset = ComponentFormSet(request.POST or None, prefix="components")
    component_errors: list[str] = []
    if request.method == "POST":
        form_ok = form.is_valid()
        rows_ok = formset.is_valid()
        items = codes_resolve(request.user, formset)  # every row's code, even when another field is wrong
        if form_ok and rows_ok and not any(formset.errors):
            with transaction.atomic():
                film = _film_create_from_forms(request, form, formset, items, component_errors)
                if film is not None and plan is not None:
                    planned_experiment_fulfil(plan=plan, record=film)
            if film is not None:
                messages.success(request, f"{film.code} recorded; add its passes next.")
                return redirect("electrodes:film", code=film.code)
        component_errors.extend(formset.non_form_errors())
    context = {
        "form": form,
        "formset": formset,
        "component_errors": component_errors,
        "sources": list(film_source_choices()),
        "plan": plan,
    }
    return render(request, "electrodes/film_new.html", context)


def _film_create_from_forms(request, form, formset, items: dict, component_errors: list[str]) -> Film | None:
    rows = [row for row in formset.forms if row.cleaned_data and not row.cleaned_data.get("DELETE")]
    if not rows:
        component_errors.append("add at least one component")
        return None
    recipe = [row.cleaned_data.get("weight_percent") for row in rows]
    data = form.cleaned_data
    try:
        return film_create(
            project=data["project"], user=request.user, kind=data["kind"], process=data["process"],
            components=[(items[row.cleaned_data["source_code"]], row.cleaned_data["mass_g"]) for row in rows],
            area_cm2=data["area_cm2"], mixer_type=data["mixer_type"], mixing_speed_rpm=data["mixing_speed_rpm"],
            mixing_time_s=data["mixing_time_s"], batch_size_g=data["batch_size_g"], notes=data["notes"],
            recipe_weight_percents=recipe if any(value is not None for value in recipe) else None,
        )
    except ValidationError as error:
        leftover: dict[str, list[str]] = {}
        for key, problems in error.message_dict.items():
            match = ROW_KEY.match(key)
            if match and int(match.group(1)) < len(rows) and match.group(2) in ROW_FIELDS:
                for problem in problems:
                    rows[int(match.group(1))].add_error(ROW_FIELDS[match.group(2)], problem)
            else:
                leftover[key] = problems
        if leftover:
            _add_errors(form, ValidationError(leftover), fallback=component_errors)
        return None


# ---- one film: passes, result, sheets, plot ----


def _film_or_404(request: HttpRequest, code: str) -> Film:
    film = film_get_for_user(code, request.user)
    if film is None:
        raise Http404(f"No film {code} that you may see.")
    return film


def _film_page(request: HttpRequest, film: Film, *, pass_form=None, result_form=None, cut_form=None,
               status: int = 200) -> HttpResponse:
    separator = film.item.kind == ItemKind.SEPARATOR_FILM
    passes = list(film.passes.all())
    plot_inputs = thickness_plot_inputs(film)
    plot_job = None
    if plot_inputs["pass_numbers"]:
        digest = plot_inputs_digest(THICKNESS_PLOT_JOB, plot_inputs)
        plot_job = plot_jobs_by_digest(THICKNESS_PLOT_JOB, [digest]).get(digest)
    last = passes[-1] if passes else None
    context = {
        "film": film,
        "item": film.item,
        "components": list(film.components.all()),
        "passes": passes,
        "sheets": list(film.sheets.all()),
        "separator": separator,
        "pass_form": pass_form or PassForm(initial={"roll_temperature_c": last.roll_temperature_c} if last else None),
        "result_form": result_form or ResultForm(separator=separator),
        "cut_form": cut_form or CutSheetsForm(),
        "plot_job": plot_job,
        "plot_image": job_image(plot_job, THICKNESS_PLOT_STEM),
        "can_plot": bool(plot_inputs["pass_numbers"]),
        "derive": {
            "area_cm2": film.area_cm2,
            "components": [
                {"fraction": c.weight_fraction, "density": c.density_g_per_cm3,
                 "capacity": c.specific_capacity_mah_per_g if c.is_active else None}
                for c in film.components.all()
            ],
        },
    }
    return render(request, "electrodes/film_detail.html", context, status=status)


@lab_staff_required
def film_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _film_page(request, _film_or_404(request, code))


@lab_staff_required
@require_POST
def film_pass_new(request: HttpRequest, code: str) -> HttpResponse:
    film = _film_or_404(request, code)
    form = PassForm(request.POST)
    if form.is_valid():
        try:
            step = film_pass_add(film=film, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Pass {step.pass_number} recorded ({step.thickness_um:g} µm).")
            warning = calibration_warning(step.equipment)
            if warning:
                messages.warning(request, warning)
            film = _film_or_404(request, code)
            _submit_thickness_plot(request, film)
            return redirect(reverse("electrodes:film", args=[film.code]) + "#passes")
    return _film_page(request, film, pass_form=form)


@lab_staff_required
@require_POST
def film_result(request: HttpRequest, code: str) -> HttpResponse:
    film = _film_or_404(request, code)
    form = ResultForm(request.POST, separator=film.item.kind == ItemKind.SEPARATOR_FILM)
    if form.is_valid():
        try:
            film = film_result_record(film=film, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Result of {film.code} recorded.")
            _submit_porosity_plot(request, film.item.kind)
            return redirect(reverse("electrodes:film", args=[film.code]) + "#result")
    return _film_page(request, film, result_form=form)


@lab_staff_required
@require_POST
def film_sheets_cut(request: HttpRequest, code: str) -> HttpResponse:
    film = _film_or_404(request, code)
    form = CutSheetsForm(request.POST)
    if form.is_valid():
        try:
            sheets = sheets_cut(film=film, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{len(sheets)} sheets cut: {sheets[0].code} to {sheets[-1].code}.")
            return redirect(reverse("electrodes:film", args=[film.code]) + "#sheets")
    return _film_page(request, film, cut_form=form)


@lab_staff_required
@require_POST
def film_plot_draw(request: HttpRequest, code: str) -> HttpResponse:
    film = _film_or_404(request, code)
    if not film.passes.all():
        messages.info(request, "Record a pass first: there is nothing to plot.")
    else:
        _submit_thickness_plot(request, film)
    return redirect(reverse("electrodes:film", args=[film.code]) + "#plot")
