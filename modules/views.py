"""Technician pages of the modules app: thin. Parse input, check the role, call a service, show the result."""

from __future__ import annotations

import functools
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assbtrack.access.selectors import projects_visible_to, user_is_lab_staff, user_is_partner
from assbtrack.tracing.fields import codes_resolve
from assbtrack.tracing.selectors import mark_affected
from assbtrack.web.decorators import lab_staff_required
from assbtrack.web.forms import errors_show

from .choices import SCAN_CONTENT_TYPES
from .forms import (
    CellCodeFormSet,
    DesignSweepForm,
    HousingDesignForm,
    ModuleAssembleForm,
    ModuleEfficiencyForm,
    PressureReadingForm,
    PressureScanForm,
)
from .models import PressureReading
from .parsing import parse_arrangement, system_sizes_parse, two_point_calibration
from .selectors import (
    design_get_for_user,
    design_list,
    designs_visible_to,
    module_get_for_user,
    modules_visible_to,
    pressure_map_comparison,
    scan_get_for_user,
    scans_visible_to,
)
from .services import (
    design_sweep_submit,
    housing_design_create,
    module_assemble,
    module_efficiency_submit,
    pressure_maps_side_by_side_submit,
    pressure_reading_create,
    pressure_scan_create,
)

LIST_LIMIT = 200


def readers_only(view):
    """Lab staff, and partners for what is shared with them (every read below is scoped)."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not (user_is_lab_staff(request.user) or user_is_partner(request.user)):
            raise PermissionDenied("Your account has no role that may read records.")
        return view(request, *args, **kwargs)

    return wrapped


# --- lists and pages ---------------------------------------------------------------------------------


@readers_only
def module_list(request: HttpRequest) -> HttpResponse:
    modules = mark_affected(modules_visible_to(request.user)[:LIST_LIMIT], user=request.user)
    context = {"modules": modules, "can_write": user_is_lab_staff(request.user)}
    return render(request, "modules/module_list.html", context)


@readers_only
def design_index(request: HttpRequest) -> HttpResponse:
    designs = list(design_list(request.user)[:LIST_LIMIT])
    context = {"designs": designs, "can_write": user_is_lab_staff(request.user)}
    return render(request, "modules/design_list.html", context)


@readers_only
def design_detail(request: HttpRequest, design_id: int) -> HttpResponse:
    design = design_get_for_user(design_id, request.user)
    if design is None:
        raise Http404("No such housing design that you may see.")
    return render(request, "modules/design_detail.html", _design_context(request, design, DesignSweepForm()))


def _design_context(request: HttpRequest, design, sweep_form: DesignSweepForm) -> dict:
    return {
        "design": design,
        "check": design.plate_check,
        "modules": list(design.modules.select_related("item")[:LIST_LIMIT]),
        "scans": list(design.scans.select_related("result", "module__item", "job")[:LIST_LIMIT]),
        "sweep_form": sweep_form,
        "can_write": user_is_lab_staff(request.user),
        "history": list(design.history.select_related("history_user")[:20]),
    }


@readers_only
def pressure_maps(request: HttpRequest) -> HttpResponse:
    """Maps of one or several designs side by side: "springs and gaskets" beside "neither"."""
    ids = [value for value in request.GET.getlist("design") if value.isdigit()][:8]
    columns = pressure_map_comparison(request.user, design_ids=ids)
    context = {
        "columns": columns,
        "designs": list(designs_visible_to(request.user)[:LIST_LIMIT]),
        "chosen": {int(pk) for pk in ids},
        "can_write": user_is_lab_staff(request.user),
    }
    return render(request, "modules/pressure_maps.html", context)


@lab_staff_required
@require_POST
def pressure_maps_plot(request: HttpRequest) -> HttpResponse:
    ids = [value for value in request.POST.getlist("scan") if value.isdigit()][:12]
    scans = list(scans_visible_to(request.user).filter(pk__in=ids))
    try:
        job = pressure_maps_side_by_side_submit(
            scans=scans, user=request.user,
            title="Pressure maps: " + ", ".join(sorted({scan.design.name for scan in scans}))[:180],
        )
    except ValidationError as error:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
        return redirect("modules:pressure-maps")
    return redirect(job)


@readers_only
def scan_detail(request: HttpRequest, scan_id: int) -> HttpResponse:
    scan = scan_get_for_user(scan_id, request.user)
    if scan is None:
        raise Http404("No such scan that you may see.")
    result = getattr(scan, "result", None)
    return render(request, "modules/scan_detail.html", {"scan": scan, "result": result})


def _scan_file_response(path_name: str, storage, content_type: str, download_name: str) -> FileResponse:
    """An image, with its type fixed by the server: never sniffed, never rendered as a page."""
    try:
        handle = storage.open(path_name, "rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(handle, content_type=content_type, as_attachment=False, filename=download_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@readers_only
def scan_image(request: HttpRequest, scan_id: int) -> FileResponse:
    scan = scan_get_for_user(scan_id, request.user)
    if scan is None or not scan.image:
        raise Http404("No such scan that you may see.")
    content_type = SCAN_CONTENT_TYPES.get(scan.image_format, "application/octet-stream")
    name = f"scan-{scan.pk}{Path(scan.image.name).suffix}"
    return _scan_file_response(scan.image.name, scan.image.storage, content_type, name)


@readers_only
def scan_heatmap(request: HttpRequest, scan_id: int) -> FileResponse:
    scan = scan_get_for_user(scan_id, request.user)
    result = getattr(scan, "result", None) if scan is not None else None
    if result is None or not result.heatmap_png:
        raise Http404("This scan has no heat map yet.")
    return _scan_file_response(result.heatmap_png.name, result.heatmap_png.storage, "image/png",
                               f"pressure-map-scan-{scan.pk}.png")


# --- technician forms --------------------------------------------------------------------------------


@lab_staff_required
def design_create(request: HttpRequest) -> HttpResponse:
    projects = projects_visible_to(request.user)
    form = HousingDesignForm(request.POST or None, projects=projects)
    if request.method == "POST" and form.is_valid():
        try:
            design = housing_design_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_show(error, form, label="")
        else:
            messages.success(request, f"Housing design {design.name} saved.")
            return redirect(design)
    return render(request, "modules/design_form.html", {"form": form})


@lab_staff_required
def module_assemble_view(request: HttpRequest) -> HttpResponse:
    designs = designs_visible_to(request.user)
    form = ModuleAssembleForm(request.POST or None, designs=designs)
    formset = CellCodeFormSet(request.POST or None, prefix="cells")
    valid = request.method == "POST" and form.is_valid() & formset.is_valid()
    if valid:
        codes_resolve(request.user, formset)  # unknown cells refused beside their row, before any other check
    if valid and not any(formset.errors):
        rows = [(row, row.cleaned_data.get("cell_code") or "") for row in formset.forms]
        rows = [(row, code) for row, code in rows if code]
        design = form.cleaned_data["housing_design"]
        try:
            series, parallel = parse_arrangement(form.cleaned_data["arrangement"])
            module = module_assemble(
                project=design.project, user=request.user, housing_design=design, series_count=series,
                parallel_count=parallel, cell_codes=[code for _, code in rows],
                assembled_on=form.cleaned_data["assembled_on"],
                applied_stack_pressure_mpa=form.cleaned_data["applied_stack_pressure_mpa"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as error:
            problems = getattr(error, "cell_problems", None)
            if problems:
                for position, texts in problems.items():
                    for text in texts:
                        rows[position - 1][0].add_error("cell_code", text)
                form.add_error(None, f"{len(problems)} of the scanned cells cannot go into this module; "
                                     "see the reasons beside them.")
            else:
                errors_show(error, form, label="")
        else:
            messages.success(request, f"Module {module.item.code} assembled ({module.arrangement}, "
                                      f"{module.system_energy_kwh * 1000:.1f} Wh).")
            return redirect(module.item)
    return render(request, "modules/module_assemble.html", {"form": form, "formset": formset})


def _module_or_404(request: HttpRequest, code: str):
    module = module_get_for_user(code, request.user)
    if module is None:
        raise Http404(f"No module {code} that you may see.")
    return module


@lab_staff_required
def pressure_reading_create_view(request: HttpRequest, code: str) -> HttpResponse:
    module = _module_or_404(request, code)
    readings = PressureReading.objects.filter(module=module, superseded_by__isnull=True)
    form = PressureReadingForm(request.POST or None, readings=readings)
    if request.method == "POST" and form.is_valid():
        try:
            pressure_reading_create(module=module, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_show(error, form, label="")
        else:
            messages.success(request, f"Pressure reading logged for {module.item.code}.")
            return redirect(module.item)
    return render(request, "modules/pressure_reading_form.html", {"form": form, "module": module})


@lab_staff_required
def scan_upload(request: HttpRequest) -> HttpResponse:
    designs = designs_visible_to(request.user)
    initial = {}
    if request.GET.get("module"):
        initial["module_code"] = request.GET["module"][:20]
    if request.GET.get("design", "").isdigit():
        initial["design"] = request.GET["design"]
    form = PressureScanForm(request.POST or None, request.FILES or None, designs=designs, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        module = None
        if data["module_code"].strip():
            module = module_get_for_user(data["module_code"], request.user)
            if module is None:
                form.add_error("module_code", f"No module {data['module_code'].strip().upper()} that you may see.")
        if not form.errors:
            upload = data["image"]
            try:
                scan = pressure_scan_create(
                    user=request.user, content=upload.read(), original_filename=upload.name, label=data["label"],
                    design=data["design"], module=module, scanned_on=data["scanned_on"],
                    calibration=two_point_calibration(
                        low_intensity=data["calibration_low_intensity"],
                        low_pressure_mpa=data["calibration_low_pressure_mpa"],
                        high_intensity=data["calibration_high_intensity"],
                        high_pressure_mpa=data["calibration_high_pressure_mpa"],
                    ),
                    grid_rows=data["grid_rows"], grid_cols=data["grid_cols"],
                    threshold_fraction=data["threshold_fraction"],
                )
            except ValidationError as error:
                errors_show(error, form, aliases={"module": "module_code"}, label="")
            else:
                messages.success(request, "Scan stored; its pressure map is being computed.")
                return redirect(scan)
    return render(request, "modules/scan_form.html", {"form": form})


@lab_staff_required
@require_POST
def module_efficiency_run(request: HttpRequest, code: str) -> HttpResponse:
    module = _module_or_404(request, code)
    if not request.user.has_perm("jobs.add_job"):
        raise PermissionDenied("Your role may not run models.")
    form = ModuleEfficiencyForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        job = module_efficiency_submit(module=module, user=request.user,
                                       system_sizes_kwh=system_sizes_parse(form.cleaned_data["system_sizes_kwh"]))
    except ValidationError as error:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, f"The model cannot run: {problem}")
        return redirect(module.item)
    return redirect(job)


@lab_staff_required
@require_POST
def design_sweep_run(request: HttpRequest, design_id: int) -> HttpResponse:
    design = design_get_for_user(design_id, request.user)
    if design is None:
        raise Http404("No such housing design that you may see.")
    if not request.user.has_perm("jobs.add_job"):
        raise PermissionDenied("Your role may not run models.")
    form = DesignSweepForm(request.POST)
    if form.is_valid():
        try:
            job = design_sweep_submit(design=design, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_show(error, form, label="")
        else:
            return redirect(job)
    return render(request, "modules/design_detail.html", _design_context(request, design, form), status=400)
