"""Technician pages of the cells app: thin. Parse the form, check the role, call a service, show the result.

Every refusal of a service comes back as a ``ValidationError`` naming a field; ``_show_errors`` puts it
beside that field, or beside the code in the layer row it names (``layers-<i>-<field>``), and the form
is rendered again with what was typed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.forms import BaseFormSet, Form
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from assbtrack.access.selectors import projects_visible_to
from assbtrack.instruments.selectors import calibration_warning
from assbtrack.jobs.models import Job
from assbtrack.jobs.selectors import jobs_visible_to
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.fields import codes_resolve
from assbtrack.tracing.selectors import items_visible_to, mark_affected
from assbtrack.web.csv import csv_download
from assbtrack.web.decorators import lab_staff_required
from assbtrack.web.forms import FormsetRows, errors_show
from electrodes.models import Sheet
from materials.choices import MaterialRole
from materials.models import MaterialLot

from . import selectors
from .choices import JOB_CELL_STACK_ENERGY, JOB_CYCLING_PLOTS, JOB_FIGURE1, AnodeType, CellFormat, ScaleTier, Stacking
from .forms import (
    CellForm,
    CyclingRetryForm,
    CyclingUploadForm,
    DensificationForm,
    EventForm,
    Figure1Form,
    LayerFormSet,
    MeasurementsForm,
    PlotCyclesForm,
)
from .models import Cell, CyclingTest
from .services import (
    cell_build,
    cell_densification_record,
    cell_event_record,
    cell_measurements_set,
    cell_stack_energy_submit,
    cycling_plots_submit,
    cycling_test_create,
    cycling_test_discard,
    cycling_test_retry,
    figure1_submit,
    retention_trend_submit,
)

PAGE_SIZE = 50
CYCLES_PAGE_SIZE = 200
DATALIST_LIMIT = 200
CYCLERS = ("BioLogic VMP-300", "BioLogic BCS-815", "Arbin LBT21084", "Neware CT-4008", "Maccor Series 4000")
CYCLE_CSV_COLUMNS = (
    "cycle_number", "charge_capacity_mah", "discharge_capacity_mah", "charge_energy_mwh", "discharge_energy_mwh",
    "coulombic_efficiency", "energy_efficiency", "retention",
)


def _show_errors(
    error: ValidationError, form: Form, formset: BaseFormSet | None = None, rows: list[int] | None = None
) -> None:
    """Each refusal beside the field it names; ``layers-<i>-<field>`` goes to the i-th filled layer row."""
    errors_show(error, form, formset=FormsetRows(formset, "layers", "-", rows) if formset is not None else None,
                prefix_aliases={"column_map.": "column_"})


def _cell_or_404(request: HttpRequest, code: str) -> Cell:
    cell = selectors.cell_get_for_user(code, request.user)
    if cell is None:
        raise Http404(f"No cell {code} that you may see.")
    return cell


def _test_or_404(request: HttpRequest, test_id: int) -> CyclingTest:
    test = (
        CyclingTest.objects.select_related(
            "cell__item__project", "import_job", "created_by", "cycler_channel__equipment"
        )
        .filter(pk=test_id, cell__in=selectors.cells_visible_to(request.user).values("pk"))
        .first()
    )
    if test is None:
        raise Http404("No such cycling test that you may see.")
    return test


def _file_job(job: Job | None) -> Job | None:
    """The job whose files show a result: a reused job points at the earlier one that drew them."""
    if job is None:
        return None
    return job.reused_from if job.reused_from_id else job


def _png(job: Job | None, stem: str) -> str | None:
    source = _file_job(job)
    if source is None:
        return None
    names = {file.name for file in source.files.all()}
    return f"{stem}.png" if f"{stem}.png" in names else None


# ----------------------------------------------------------------------------------------------- lists


@lab_staff_required
def cell_list(request: HttpRequest) -> HttpResponse:
    cells = selectors.cells_visible_to(request.user)
    filters = {key: request.GET.get(key, "") for key in ("tier", "anode_type", "cell_format", "stacking")}
    query = request.GET.get("q", "").strip()[:100]
    if query:
        cells = cells.filter(item__code__icontains=query)
    if filters["tier"] in ScaleTier.values:
        cells = cells.filter(scale_tier=filters["tier"])
    if filters["anode_type"] in AnodeType.values:
        cells = cells.filter(anode_type=filters["anode_type"])
    if filters["cell_format"] in CellFormat.values:
        cells = cells.filter(cell_format=filters["cell_format"])
    if filters["stacking"] in Stacking.values:
        cells = cells.filter(stacking=filters["stacking"])
    page = Paginator(cells, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = mark_affected(page.object_list, user=request.user)
    tests = list(
        CyclingTest.objects.filter(cell__in=selectors.cells_visible_to(request.user).values("pk"))
        .select_related("cell__item", "import_job")[:10]
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page, "query": query, "filters": filters, "query_string": params.urlencode(),
        "tiers": ScaleTier.choices,
        "anode_types": AnodeType.choices, "formats": CellFormat.choices, "stackings": Stacking.choices,
        "tests": tests,
    }
    return render(request, "cells/cell_list.html", context)


# ------------------------------------------------------------------------------------------- build


def _datalists(user) -> dict:
    """Unused sheets and foil lots to pick from while typing a code (the scanner types the same)."""
    sheets = (
        Sheet.objects.filter(item__in=items_visible_to(user).values("pk"), item__quantity_used=0)
        .select_related("item", "film__item")
        .order_by("-item_id")
    )
    lists = {}
    for name, kind in (("cathode_sheets", ItemKind.CATHODE_FILM), ("separator_sheets", ItemKind.SEPARATOR_FILM),
                       ("anode_sheets", ItemKind.ANODE_FILM)):
        lists[name] = list(sheets.filter(film__item__kind=kind)[:DATALIST_LIMIT])
    lists["foil_lots"] = list(
        MaterialLot.objects.filter(item__in=items_visible_to(user).values("pk"), role=MaterialRole.FOIL)
        .select_related("item").order_by("-item_id")[:DATALIST_LIMIT]
    )
    return lists


@lab_staff_required
def cell_new(request: HttpRequest) -> HttpResponse:
    form = CellForm(request.POST or None, user=request.user)
    formset = LayerFormSet(request.POST or None, prefix="layers")
    valid = request.method == "POST" and form.is_valid() & formset.is_valid()
    items = codes_resolve(request.user, formset) if request.method == "POST" else {}
    if valid and not any(formset.errors):
        filled = formset.filled_forms()
        layers = [
            {"anode_mass_g": sub.cleaned_data.get("anode_mass_g"),
             **{field: items.get(sub.cleaned_data.get(field)) for field in ("cathode", "separator", "anode",
                                                                            "anode_lot")}}
            for _, sub in filled
        ]
        try:
            cell = cell_build(user=request.user, layers=layers, **form.service_arguments())
        except ValidationError as error:
            _show_errors(error, form, formset, rows=[index for index, _ in filled])
        else:
            messages.success(
                request,
                f"{cell.item.code} built: {cell.layer_count} layers, {cell.nominal_capacity_ah * 1000:.4g} mAh at "
                f"{cell.nominal_voltage_v:.3g} V, N/P {cell.np_ratio:.3g}, {cell.get_scale_tier_display()}.",
            )
            return redirect("cells:cell", code=cell.item.code)
    context = {"form": form, "formset": formset, **_datalists(request.user)}
    return render(request, "cells/cell_form.html", context)


# ------------------------------------------------------------------------------------------- cell page


@lab_staff_required
def cell_detail(request: HttpRequest, code: str) -> HttpResponse:
    cell = selectors.cell_page_queryset(request.user).filter(item__code=code.strip().upper()[:20]).first()
    if cell is None:
        raise Http404(f"No cell {code} that you may see.")
    energy_job = selectors.latest_job(cell.pk, JOB_CELL_STACK_ENERGY)
    energy_done = selectors.latest_job(cell.pk, JOB_CELL_STACK_ENERGY, finished_only=True)
    plot_job = selectors.latest_job(cell.pk, JOB_CYCLING_PLOTS)
    context = {
        "cell": cell,
        "item": cell.item,
        "layers": list(cell.layers.all()),
        "densifications": list(cell.densifications.all()),
        "events": list(cell.events.all()),
        "tests": list(cell.cycling_tests.all()),
        "energy_job": energy_job,
        "energy_result": energy_done.result if energy_done else None,
        "breakdown": selectors.cell_energy_breakdown(energy_done),
        "plot_job": plot_job,
        "plot_files_job": _file_job(plot_job),
        "capacity_png": _png(plot_job, "capacity_efficiency"),
        "voltage_png": _png(plot_job, "voltage_capacity"),
    }
    return render(request, "cells/cell_detail.html", context)


@lab_staff_required
@require_POST
def cell_energy(request: HttpRequest, code: str) -> HttpResponse:
    cell = _cell_or_404(request, code)
    try:
        job = cell_stack_energy_submit(cell=cell, user=request.user)
    except ValidationError as error:
        for texts in error.message_dict.values():
            for text in texts:
                messages.error(request, f"Energy model refused: {text}")
        return redirect("cells:cell", code=cell.item.code)
    messages.success(request, f"Energy model queued as job #{job.pk}.")
    return redirect("cells:cell", code=cell.item.code)


def _record_form(request: HttpRequest, code: str, *, form_class, service, title: str, submit: str, **form_kwargs):
    cell = _cell_or_404(request, code)
    kwargs = {"cell": cell} if form_class is DensificationForm else {}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            record = service(cell=cell, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _show_errors(error, form)
        else:
            messages.success(request, f"{title} recorded for {cell.item.code}.")
            warning = calibration_warning(getattr(record, "equipment", None), getattr(record, "performed_at", None))
            if warning:
                messages.warning(request, warning)
            return redirect("cells:cell", code=cell.item.code)
    return render(request, "cells/record_form.html", {"form": form, "cell": cell, "title": title, "submit": submit})


@lab_staff_required
def cell_densify(request: HttpRequest, code: str) -> HttpResponse:
    return _record_form(request, code, form_class=DensificationForm, service=cell_densification_record,
                        title="Densification", submit="Record densification")


@lab_staff_required
def cell_event(request: HttpRequest, code: str) -> HttpResponse:
    return _record_form(request, code, form_class=EventForm, service=cell_event_record,
                        title="Cell event", submit="Record event")


@lab_staff_required
def cell_measurements(request: HttpRequest, code: str) -> HttpResponse:
    cell = _cell_or_404(request, code)
    initial = {"mass_g": cell.mass_g, "measured_capacity_ah": cell.measured_capacity_ah}
    form = MeasurementsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            cell_measurements_set(cell=cell, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _show_errors(error, form)
        else:
            messages.success(request, f"Measurements of {cell.item.code} recorded.")
            return redirect("cells:cell", code=cell.item.code)
    return render(request, "cells/record_form.html", {"form": form, "cell": cell, "title": "Measured mass and capacity",
                                                      "submit": "Record"})


# ------------------------------------------------------------------------------------------- cycling


HELD_UPLOADS_DIR = "cycling-uploads"
HELD_UPLOADS_SESSION_KEY = "cycling_uploads"


def _hold_upload(request: HttpRequest, upload) -> str:
    """Keep an uploaded file on the server under a token in the user's session, so an error does not lose it."""
    token = secrets.token_urlsafe(16)
    name = Path(str(upload.name)).name[:200] or "data"
    path = default_storage.save(f"{HELD_UPLOADS_DIR}/{token}/{name}", upload)
    held = request.session.get(HELD_UPLOADS_SESSION_KEY, {})
    held[token] = {"path": path, "name": name}
    request.session[HELD_UPLOADS_SESSION_KEY] = held
    return token


def _held_upload(request: HttpRequest, token: str) -> dict | None:
    return request.session.get(HELD_UPLOADS_SESSION_KEY, {}).get(token or "")


def _drop_held_upload(request: HttpRequest, token: str) -> None:
    held = request.session.get(HELD_UPLOADS_SESSION_KEY, {})
    entry = held.pop(token, None)
    if entry:
        default_storage.delete(entry["path"])
        request.session[HELD_UPLOADS_SESSION_KEY] = held


@lab_staff_required
def cycling_new(request: HttpRequest, code: str) -> HttpResponse:
    cell = _cell_or_404(request, code)
    if request.method != "POST":
        form = CyclingUploadForm()
        return render(request, "cells/cycling_form.html", {"form": form, "cell": cell, "cyclers": CYCLERS})
    data = request.POST.copy()
    token = data.get("upload_token", "")
    if request.FILES.get("data_file"):
        _drop_held_upload(request, token)
        token = _hold_upload(request, request.FILES["data_file"])
        data["upload_token"] = token
    held = _held_upload(request, token)
    files = request.FILES.copy()
    files.pop("data_file", None)
    form = CyclingUploadForm(data, files, kept_file_name=held["name"] if held else "")
    if form.is_valid():
        arguments = form.service_arguments()
        try:
            with default_storage.open(held["path"], "rb") as stored:
                arguments["data_file"] = File(stored, name=held["name"])
                test = cycling_test_create(cell=cell, user=request.user, **arguments)
        except ValidationError as error:
            _show_errors(error, form)
        else:
            _drop_held_upload(request, token)
            messages.success(request, f"{test.file_name} uploaded; it is being read on a worker.")
            if test.cycler_channel is not None:
                warning = calibration_warning(test.cycler_channel.equipment, test.started_at)
                if warning:
                    messages.warning(request, warning)
            return redirect(test)
    return render(request, "cells/cycling_form.html", {"form": form, "cell": cell, "cyclers": CYCLERS})


@lab_staff_required
@require_POST
def cycling_retry(request: HttpRequest, test_id: int) -> HttpResponse:
    test = _test_or_404(request, test_id)
    form = CyclingRetryForm(request.POST, request.FILES)
    if form.is_valid():
        # "Try again" on the cell page reads the same file with the options it was read with.
        same = request.POST.get("same_options") == "1" and not form.cleaned_data.get("data_file")
        options = test.import_options if same else form.import_options()
        try:
            cycling_test_retry(test=test, user=request.user, import_options=options,
                               data_file=form.cleaned_data.get("data_file"))
        except ValidationError as error:
            for texts in error.message_dict.values():
                for text in texts:
                    messages.error(request, f"Not tried again: {text}")
        else:
            messages.success(request, f"{test.file_name} is being read again on a worker.")
    else:
        for field, texts in form.errors.items():
            for text in texts:
                messages.error(request, f"Not tried again: {field.replace('_', ' ')}: {text}")
    return redirect(test)


@lab_staff_required
@require_POST
def cycling_discard(request: HttpRequest, test_id: int) -> HttpResponse:
    test = _test_or_404(request, test_id)
    try:
        cycling_test_discard(test=test, user=request.user)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, f"Not discarded: {text}")
        return redirect(test)
    messages.success(request, f"The failed import of {test.file_name} was discarded.")
    return redirect("cells:cell", test.cell.item.code)


@lab_staff_required
def cycling_test(request: HttpRequest, test_id: int) -> HttpResponse:
    test = _test_or_404(request, test_id)
    cycles = Paginator(selectors.cycle_records(test), CYCLES_PAGE_SIZE).get_page(request.GET.get("page"))
    plot_job = (
        jobs_visible_to(request.user)
        .filter(kind=JOB_CYCLING_PLOTS, subject_id=test.cell_id, inputs__test=test.pk)
        .select_related("reused_from").first()
    )
    context = {
        "test": test,
        "cell": test.cell,
        "cycles": cycles,
        "plot_job": plot_job,
        "plot_files_job": _file_job(plot_job),
        "capacity_png": _png(plot_job, "capacity_efficiency"),
        "voltage_png": _png(plot_job, "voltage_capacity"),
        "retry_form": CyclingRetryForm(initial={
            **test.import_options, "cycler_format": test.import_options.get("cycler", ""),
            "diagnostic_cycles": ", ".join(map(str, test.import_options.get("diagnostic_cycles", []))),
        }),
        "plot_form": PlotCyclesForm(initial={"cycles": ", ".join(map(str, (plot_job.inputs.get("cycles") or [])))
                                             if plot_job else ""}),
    }
    return render(request, "cells/cycling_test.html", context)


@lab_staff_required
@require_POST
def cycling_plots(request: HttpRequest, test_id: int) -> HttpResponse:
    test = _test_or_404(request, test_id)
    form = PlotCyclesForm(request.POST)
    if not form.is_valid():
        for texts in form.errors.values():
            for text in texts:
                messages.error(request, f"Plot refused: {text}")
        return redirect(test)
    try:
        job = cycling_plots_submit(test=test, user=request.user, cycles=form.cleaned_data["cycles"])
    except ValidationError as error:
        for texts in error.message_dict.values():
            for text in texts:
                messages.error(request, f"Plot refused: {text}")
        return redirect(test)
    messages.success(request, f"Plots queued as job #{job.pk}.")
    return redirect(test)


def cycle_csv_rows(queryset) -> Iterator[list]:
    """The per-cycle table's rows, read in chunks."""
    for row in queryset.values_list(*CYCLE_CSV_COLUMNS).iterator(chunk_size=2000):
        yield ["" if value is None else value for value in row]


def cycle_csv_response(request, test: CyclingTest) -> StreamingHttpResponse:
    return csv_download(request, f"{test.cell.item.code}-test-{test.pk}-cycles.csv", CYCLE_CSV_COLUMNS,
                        cycle_csv_rows(selectors.cycle_records(test)))


@lab_staff_required
def cycling_csv(request: HttpRequest, test_id: int) -> StreamingHttpResponse:
    return cycle_csv_response(request, _test_or_404(request, test_id))


# ------------------------------------------------------------------------------------------- dashboard


@lab_staff_required
@require_POST
def retention_trends_redraw(request: HttpRequest) -> HttpResponse:
    """Redraw the dashboard's capacity-retention-over-time plot of every project whose data changed."""
    projects = projects_visible_to(request.user).filter(items__kind="cell").distinct()
    jobs = [job for project in projects if (job := retention_trend_submit(project=project, user=request.user))]
    messages.success(request, f"Retention trends: {len(jobs)} plot(s) queued or up to date."
                     if jobs else "No cycling test has reached its specification cycle yet.")
    return redirect("tracing:home")


# ------------------------------------------------------------------------------------------- Figure 1


@lab_staff_required
def figure1(request: HttpRequest) -> HttpResponse:
    """The paper's Figure 1 redrawn: presets a–g, and real cells as bars beside them (a plot job)."""
    form = Figure1Form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = form.cleaned_data["cells"]
        found = {cell.item.code: cell for cell in selectors.cells_visible_to(request.user).filter(item__code__in=codes)}
        missing = [code for code in codes if code not in found]
        if missing:
            form.add_error("cells", f"No cell {', '.join(missing)} that you may use.")
        else:
            try:
                job = figure1_submit(cells=[found[code] for code in codes], user=request.user)
            except ValidationError as error:
                _show_errors(error, form)
            else:
                return redirect(f"{reverse('cells:figure1')}?job={job.pk}")
    jobs = jobs_visible_to(request.user).filter(kind=JOB_FIGURE1).select_related("reused_from")
    job_id = request.GET.get("job", "")
    job = jobs.filter(pk=int(job_id)).first() if job_id.isdigit() and len(job_id) < 12 else jobs.first()
    recent_cells = list(
        selectors.cells_visible_to(request.user).filter(specific_energy_wh_per_kg__isnull=False)[:DATALIST_LIMIT]
    )
    context = {
        "form": form,
        "job": job,
        "files_job": _file_job(job),
        "png": _png(job, "figure1"),
        "bars": (job.result or {}).get("bars", []) if job else [],
        "recent_cells": recent_cells,
    }
    return render(request, "cells/figure1.html", context)
