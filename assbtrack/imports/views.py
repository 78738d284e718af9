"""Import pages: upload → report (every problem: row, column, reason) → confirm. Thin: parse, check role, call."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assbtrack.domain.spreadsheet import csv_writer
from assbtrack.web.decorators import lab_staff_required
from assbtrack.web.forms import errors_show

from .forms import UploadForm
from .models import ImportStatus
from .registry import importer_for, importers
from .selectors import import_detail_queryset, imports_recent
from .services import import_apply_start, import_check_start, import_upload, inline_row_limit
from .template_files import template_csv, template_xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@lab_staff_required
def index(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = import_upload(
                kind=form.cleaned_data["kind"], project=form.cleaned_data["project"], user=request.user,
                file_name=upload.name, content=upload.read(),
            )
            run = import_check_start(run=run, user=request.user)
        except ValidationError as error:
            errors_show(error, form, label="")
        else:
            return redirect(run)
    context = {
        "form": form, "importers": importers(), "runs": imports_recent(), "inline_rows": inline_row_limit(),
    }
    return render(request, "imports/index.html", context, status=400 if form.errors else 200)


@lab_staff_required
def template_download(request: HttpRequest, kind: str, file_format: str) -> HttpResponse:
    try:
        importer = importer_for(kind)
    except KeyError:
        raise Http404("No such import kind.") from None
    if file_format == "csv":
        response = HttpResponse(template_csv(importer), content_type="text/csv; charset=utf-8")
    elif file_format == "xlsx":
        response = HttpResponse(template_xlsx(importer), content_type=XLSX_TYPE)
    else:
        raise Http404("Templates are CSV or XLSX.")
    response["Content-Disposition"] = f'attachment; filename="assbtrack-{kind}-template.{file_format}"'
    return response


def _run_or_404(run_id: int):
    run = import_detail_queryset().filter(pk=run_id).first()
    if run is None:
        raise Http404("No such import.")
    return run


@lab_staff_required
def detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    importer = importer_for(run.kind)
    return render(request, "imports/detail.html", {"run": run, "importer": importer, "statuses": ImportStatus})


@lab_staff_required
@require_POST
def check_again(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    try:
        import_check_start(run=run, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(run)


@lab_staff_required
@require_POST
def confirm(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    try:
        run = import_apply_start(run=run, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(run)
    except Exception:  # noqa: BLE001  (the import row records the error; the page shows it)
        messages.error(request, "The import failed and wrote nothing; the error is shown below.")
        return redirect(run)
    if run.status == ImportStatus.IMPORTED:
        messages.success(request, f"Imported {run.created_count} records from {run.file_name}.")
    elif run.status in (ImportStatus.REFUSED, ImportStatus.INVALID):
        messages.error(request, f"Nothing was imported: {run.problem_count} problems (listed below).")
    return redirect(run)


@lab_staff_required
def report_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-problems.csv"'
    writer = csv_writer(response)
    writer.writerow(["row", "column", "reason"])
    for problem in run.problems:
        writer.writerow([problem["row"], problem["column"], problem["reason"]])
    return response
