"""Technician pages of the materials app: thin. Parse the form, check the role, call a service, show the result.

Every refusal of a service comes back as a ``ValidationError`` naming a field; ``_show_errors`` puts it
beside that field (or the precursor row it names), and the form is rendered again with what was typed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.forms import BaseFormSet, Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from assbtrack.access.models import Project
from assbtrack.access.selectors import projects_visible_to
from assbtrack.instruments.selectors import calibration_warning
from assbtrack.jobs.plots import plot_panels
from assbtrack.quality.design import planned_experiment_for_form, planned_experiment_fulfil
from assbtrack.tracing.choices import ItemStatus
from assbtrack.tracing.fields import codes_resolve
from assbtrack.tracing.models import DeviationPurpose
from assbtrack.tracing.registry import consuming_path
from assbtrack.tracing.selectors import mark_affected
from assbtrack.tracing.services import affected_refusal, holds_without_deviation, item_quarantine, item_release
from assbtrack.web.decorators import lab_staff_required
from assbtrack.web.forms import FormsetRows, errors_show

from . import selectors
from .choices import MaterialRole, SseClass, SynthesisRoute
from .forms import (
    BatchCorrectForm,
    BatchForm,
    ExposureForm,
    LotForm,
    MeasurementForm,
    PrecursorFormSet,
    StatusForm,
    StepForm,
)
from .models import SynthesisBatch
from .services import (
    batch_correct,
    batch_create,
    batch_plots_submit,
    composition_plots_submit,
    conductivity_trend_submit,
    exposure_add,
    lot_create,
    measurement_add,
    step_add,
)

PAGE_SIZE = 50
SOLVENTS = ("xylene", "toluene", "anisole", "heptane", "dibromomethane")


def _show_errors(error: ValidationError, form: Form, formset: BaseFormSet | None = None) -> None:
    """Each refusal beside the field it names; ``precursors.<row>.<field>`` goes to that precursor row."""
    errors_show(error, form, formset=FormsetRows(formset, "precursors", ".") if formset is not None else None)


def _batch_or_404(request: HttpRequest, code: str) -> SynthesisBatch:
    batch = selectors.batch_get_for_user(code, request.user)
    if batch is None:
        raise Http404(f"No SSE batch {code} that you may see.")
    return batch


def _refresh_plots(request: HttpRequest, batch: SynthesisBatch) -> None:
    """Plots are drawn on a worker after the write commits; a page never waits for them."""
    user = request.user

    def submit() -> None:
        batch_plots_submit(batch=batch, user=user)
        composition_plots_submit(project=batch.item.project, composition=batch.composition, user=user)
        conductivity_trend_submit(project=batch.item.project, user=user)

    transaction.on_commit(submit)


# ----------------------------------------------------------------------------------------------- index


@lab_staff_required
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "lots": mark_affected(selectors.lots_visible_to(request.user)[:10], user=request.user),
        "batches": mark_affected(selectors.batches_visible_to(request.user)[:10], user=request.user),
        "compositions": selectors.compositions_summary(request.user)[:20],
    }
    return render(request, "materials/index.html", context)


# ------------------------------------------------------------------------------------------------ lots


@lab_staff_required
def lot_list(request: HttpRequest) -> HttpResponse:
    lots = selectors.lots_visible_to(request.user)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        lots = lots.filter(
            Q(item__code__icontains=query) | Q(chemical_name__icontains=query) | Q(formula__icontains=query)
            | Q(supplier_lot__icontains=query) | Q(supplier__icontains=query)
        )
    role = request.GET.get("role", "")
    if role:
        lots = lots.filter(role=role)
    page = Paginator(lots, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = mark_affected(page.object_list, user=request.user)
    return render(
        request, "materials/lot_list.html", {"page": page, "query": query, "role": role, "roles": MaterialRole.choices}
    )


@lab_staff_required
def lot_new(request: HttpRequest) -> HttpResponse:
    form = LotForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            lot = lot_create(user=request.user, **data)
        except ValidationError as error:
            _show_errors(error, form)
        else:
            mass = lot.item.quantity.normalize()
            messages.success(request, f"{lot.item.code} recorded: {lot.chemical_name}, {mass:f} g.")
            return redirect(lot.item)
    return render(request, "materials/form.html", {"form": form, "title": "New material lot",
                                                   "submit": "Record lot"})


# --------------------------------------------------------------------------------------------- batches


@lab_staff_required
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = selectors.batches_visible_to(request.user)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        batches = batches.filter(Q(item__code__icontains=query) | Q(composition__icontains=query))
    filters = {key: request.GET.get(key, "") for key in ("route", "sse_class", "status")}
    if filters["route"]:
        batches = batches.filter(route=filters["route"])
    if filters["sse_class"]:
        batches = batches.filter(sse_class=filters["sse_class"])
    if filters["status"]:
        batches = batches.filter(item__status=filters["status"])
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = mark_affected(page.object_list, user=request.user)
    context = {
        "page": page, "query": query, "filters": filters, "routes": SynthesisRoute.choices,
        "classes": SseClass.choices, "statuses": ItemStatus.choices,
    }
    return render(request, "materials/batch_list.html", context)


MIN_PLANNED_HEAT_H = 0.1  # a proposal below this is "no heat treatment" (the design space counts those as 0 h)


def _planned_batch_initial(plan) -> dict:
    """The batch form filled from a planned milling proposal (a heat treatment only if the plan has one)."""
    x = plan.parameters
    initial = {"project": plan.project_id, "notes": f"Planned from design-space run #{plan.job_id}, proposal "
                                                   f"{plan.suggestion_index + 1} (plan #{plan.pk})."}
    for name, digits in (("speed_rpm", 0), ("milling_time_h", 2), ("ball_to_powder_ratio", 1)):
        if isinstance(x.get(name), (int, float)):
            initial[name] = round(float(x[name]), digits)
    heat_c, heat_h = x.get("heat_treatment_temperature_c"), x.get("heat_treatment_time_h")
    if isinstance(heat_c, (int, float)) and isinstance(heat_h, (int, float)) and heat_h >= MIN_PLANNED_HEAT_H:
        initial["heat_treatment_temperature_c"], initial["heat_treatment_time_h"] = round(heat_c), round(heat_h, 1)
    return initial


@lab_staff_required
def batch_new(request: HttpRequest) -> HttpResponse:
    plan = planned_experiment_for_form(plan_id=request.GET.get("plan"), step="milling", user=request.user)
    form = BatchForm(request.POST or None, user=request.user,
                     initial=_planned_batch_initial(plan) if plan is not None else None)
    formset = PrecursorFormSet(request.POST or None, prefix="precursors")
    if request.method == "POST":
        valid = form.is_valid() & formset.is_valid()
        items = codes_resolve(request.user, formset)
        if valid and not any(formset.errors):
            rows = [(index, sub) for index, sub in enumerate(formset.forms) if sub.has_changed() and sub.cleaned_data]
            precursors = [(items[sub.cleaned_data["lot"]], sub.cleaned_data["mass_g"]) for _, sub in rows]
            try:
                with transaction.atomic():
                    batch = batch_create(user=request.user, precursors=precursors, **form.cleaned_data)
                    if plan is not None:
                        planned_experiment_fulfil(plan=plan, record=batch)
            except ValidationError as error:
                _show_errors(_renumber(error, [index for index, _ in rows]), form, formset)
            else:
                messages.success(request, f"{batch.item.code} recorded: {batch.composition}, "
                                          f"{batch.batch_mass_g:g} g, yield {batch.yield_percent:.1f} %.")
                warning = calibration_warning(batch.equipment)
                if warning:
                    messages.warning(request, warning)
                _refresh_plots(request, batch)
                return redirect("materials:batch", code=batch.item.code)
    project = form.cleaned_data.get("project") if form.is_bound and hasattr(form, "cleaned_data") else None
    context = {
        "form": form, "formset": formset, "lots": selectors.lots_available(project), "plan": plan,
    }
    return render(request, "materials/batch_form.html", context)


def _renumber(error: ValidationError, form_indexes: list[int]) -> ValidationError:
    """The service numbers the precursor rows it was given; the formset may have skipped empty rows."""
    if not hasattr(error, "error_dict"):
        return error
    renumbered = {}
    for field, problems in error.message_dict.items():
        parts = field.split(".")
        if len(parts) == 3 and parts[0] == "precursors" and parts[1].isdigit() and int(parts[1]) < len(form_indexes):
            field = f"precursors.{form_indexes[int(parts[1])]}.{parts[2]}"
        renumbered[field] = problems
    return ValidationError(renumbered)


@lab_staff_required
def batch_detail(request: HttpRequest, code: str) -> HttpResponse:
    batch = _batch_or_404(request, code)
    panels = plot_panels(selectors.batch_plot_specs(batch), selectors.batch_plot_jobs(batch))
    spec = selectors.spec_for(batch.item.project_id, batch.composition)
    context = {
        "batch": batch,
        "item": batch.item,
        "steps": list(batch.steps.all()),
        "measurements": list(batch.measurements.all()),
        "exposed_ids": {exposure.measurement_after_id for exposure in batch.exposures.all()},
        "exposures": list(batch.exposures.all()),
        "room_measurement": selectors.batch_room_measurement(batch),
        "spec": spec,
        "qc_problems": selectors.batch_qc_problems(batch, spec=spec),
        "panels": panels,
    }
    return render(request, "materials/batch_detail.html", context)


@lab_staff_required
@require_POST
def batch_plots(request: HttpRequest, code: str) -> HttpResponse:
    batch = _batch_or_404(request, code)
    jobs = batch_plots_submit(batch=batch, user=request.user, force=True)
    messages.success(request, f"{len(jobs)} plot(s) queued or up to date." if jobs else "Nothing to plot yet.")
    return redirect("materials:batch", code=batch.item.code)


def _batch_form_view(
    request: HttpRequest, code: str, form_class, service, *, title: str, submit: str, files: bool = False,
    template: str = "materials/form.html", extra: Callable[[SynthesisBatch], dict] | None = None,
    initial: Callable[[SynthesisBatch], dict] | None = None,
) -> HttpResponse:
    batch = _batch_or_404(request, code)
    form = form_class(request.POST or None, request.FILES or None, batch=batch,
                      initial=initial(batch) if initial is not None and request.method != "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            record = service(batch=batch, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _show_errors(error, form)
        else:
            messages.success(request, f"{batch.item.code}: {record} recorded.")
            warning = calibration_warning(getattr(record, "equipment", None), getattr(record, "measured_at", None))
            if warning:
                messages.warning(request, warning)
            _refresh_plots(request, batch)
            return redirect("materials:batch", code=batch.item.code)
    context = {"form": form, "batch": batch, "title": f"{title}: {batch.item.code} ({batch.composition})",
               "submit": submit, "multipart": files}
    if extra is not None:
        context.update(extra(batch))
    return render(request, template, context)


@lab_staff_required
def step_new(request: HttpRequest, code: str) -> HttpResponse:
    def extra(batch: SynthesisBatch) -> dict:
        return {"remaining_g": batch.item.quantity_remaining, "solvents": SOLVENTS}

    return _batch_form_view(request, code, StepForm, step_add, title="Conditioning step", submit="Record step",
                            template="materials/step_form.html", extra=extra)


@lab_staff_required
def batch_correct_view(request: HttpRequest, code: str) -> HttpResponse:
    """Correct a batch's recorded facts, prefilled; its maker or a scientist, with a reason once released."""
    batch = _batch_or_404(request, code)
    form = BatchCorrectForm(request.POST or None, batch=batch)
    if request.method == "POST" and form.is_valid():
        changes = {name: value for name, value in form.cleaned_data.items() if name != "change_reason"}
        try:
            batch_correct(batch=batch, user=request.user, change_reason=form.cleaned_data["change_reason"], **changes)
        except ValidationError as error:
            _show_errors(error, form)
        else:
            messages.success(request, f"{batch.item.code} corrected; its history keeps the version before.")
            _refresh_plots(request, batch)
            return redirect("materials:batch", code=batch.item.code)
    context = {"form": form, "batch": batch, "title": f"Correct {batch.item.code} ({batch.composition})",
               "submit": "Save the correction"}
    return render(request, "materials/form.html", context)


@lab_staff_required
def measurement_new(request: HttpRequest, code: str) -> HttpResponse:
    """A new measurement; ``?corrects=<id>``: a correction of that one, its values prefilled. The earlier row is
    never edited: the new one supersedes it, and both stay on the batch's page."""
    corrects = request.GET.get("corrects", "")

    def correction_of(batch: SynthesisBatch) -> dict:
        old = batch.measurements.filter(pk=int(corrects), superseded_by__isnull=True).first() if (
            corrects.isascii() and corrects.isdigit() and len(corrects) < 12) else None
        if old is None:
            return {}
        values = {name: getattr(old, name) for name in ("temperature_c", "thickness_mm", "resistance_ohm",
                                                         "stack_pressure_mpa", "measured_at", "notes")}
        values["diameter_mm" if old.diameter_mm is not None else "area_cm2"] = (
            old.diameter_mm if old.diameter_mm is not None else old.area_cm2)
        return {**values, "equipment": old.equipment_id, "supersedes": old.pk}

    return _batch_form_view(request, code, MeasurementForm, measurement_add, title="Conductivity measurement",
                            submit="Record measurement", files=True, template="materials/measurement_form.html",
                            initial=correction_of)


@lab_staff_required
def exposure_new(request: HttpRequest, code: str) -> HttpResponse:
    def extra(batch: SynthesisBatch) -> dict:
        sigma = {str(m.pk): m.conductivity_ms_per_cm for m in selectors.current_measurements(batch)}
        return {"sigma_json": json.dumps(sigma)}

    return _batch_form_view(request, code, ExposureForm, exposure_add, title="Dry-room exposure study",
                            submit="Record exposure", files=True, template="materials/exposure_form.html",
                            extra=extra)


@lab_staff_required
@consuming_path("release")
def batch_status(request: HttpRequest, code: str) -> HttpResponse:
    """Release or quarantine a batch; QC problems are shown before anyone tries."""
    batch = _batch_or_404(request, code)
    form = StatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
        password = form.cleaned_data["password"]  # signs the change, as on the item page
        try:
            if action == StatusForm.RELEASE:
                item_release(item=batch.item, user=request.user, reason=reason, password=password)
            else:
                item_quarantine(item=batch.item, user=request.user, reason=reason, password=password)
        except ValidationError as error:
            _show_status_errors(error, form)
        else:
            messages.success(request, f"{batch.item.code} {'released' if action == 'release' else 'quarantined'}.")
            return redirect("materials:batch", code=batch.item.code)
    held_upstream = [  # a batch made from a held lot is affected: refused until the hold is lifted or deviated
        affected_refusal(batch.item.code, hold)
        for hold in holds_without_deviation(batch.item.pk, purpose=DeviationPurpose.RELEASE)
    ]
    context = {
        "form": form, "batch": batch, "qc_problems": [*held_upstream, *selectors.batch_qc_problems(batch)],
        "can_release": request.user.has_perm("tracing.release_item"),
        "can_quarantine": request.user.has_perm("tracing.quarantine_item"),
    }
    return render(request, "materials/status_form.html", context)


def _show_status_errors(error: ValidationError, form: StatusForm) -> None:
    for field, problems in error.message_dict.items():
        if field in ("reason", "password"):
            form.add_error(field, problems)
        elif field == "user":
            form.add_error("action", [f"{p}: a scientist releases and quarantines batches" for p in problems])
        else:
            form.add_error("action", problems)


# ---------------------------------------------------------------------------------------- compositions


@lab_staff_required
@require_POST
def conductivity_trends_redraw(request: HttpRequest) -> HttpResponse:
    """Redraw the dashboard's conductivity-over-time plot of every project whose data changed."""
    projects = projects_visible_to(request.user).filter(items__kind="sse_batch").distinct()
    jobs = [job for project in projects if (job := conductivity_trend_submit(project=project, user=request.user))]
    messages.success(request, f"Conductivity trends: {len(jobs)} plot(s) queued or up to date."
                     if jobs else "No measured batch to plot yet.")
    return redirect("tracing:home")


@lab_staff_required
def composition_list(request: HttpRequest) -> HttpResponse:
    return render(request, "materials/composition_list.html",
                  {"compositions": selectors.compositions_summary(request.user)})


@lab_staff_required
def composition_detail(request: HttpRequest, project: str, composition: str) -> HttpResponse:
    """The batches of one composition in one project, with Figure 2b and the control chart."""
    project_obj = get_object_or_404(Project, code=project)
    if request.method == "POST":
        jobs = composition_plots_submit(project=project_obj, composition=composition, user=request.user, force=True)
        messages.success(request, f"{len(jobs)} plot(s) queued or up to date." if jobs else "Nothing to plot yet.")
        return redirect(request.path)
    batches = selectors.composition_batches(project_obj, composition)
    if not batches:
        raise Http404(f"No {composition} batch in {project}.")
    spec = selectors.spec_for(project_obj.pk, composition)
    panels = plot_panels(
        selectors.composition_plot_specs(project_obj, composition, batches, spec),
        selectors.composition_plot_jobs(project_obj, composition),
    )
    rows = [
        {"batch": batch, "measurement": selectors.batch_room_measurement(batch),
         "passes": not selectors.batch_qc_problems(batch, spec=spec)}
        for batch in reversed(batches)
    ]
    context = {"project": project_obj, "composition": composition, "rows": rows, "spec": spec, "panels": panels,
               "admin_spec_url": reverse("admin:materials_conductivityspec_changelist")}
    return render(request, "materials/composition_detail.html", context)
