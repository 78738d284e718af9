"""Imports in the admin: every upload with its report; scientists upload here too and import checked files."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from assbtrack.access.selectors import user_is_lab_staff

from .forms import UploadForm
from .models import ImportRun, ImportStatus
from .services import import_apply_start, import_check_start, import_upload


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "kind", "project", "file_name", "row_count", "status", "problem_count",
                    "created_count", "uploaded_by")
    list_filter = ("status", "kind", "project")
    search_fields = ("file_name", "kind", "uploaded_by__username")
    list_select_related = ("project", "uploaded_by")
    exclude = ("content", "problems", "created_labels")
    readonly_fields = ("kind", "project", "uploaded_by", "file_name", "file_format", "sha256", "size_bytes",
                       "row_count", "status", "problem_count", "created_count", "error", "job", "created_at",
                       "checked_at", "imported_at", "imported_by", "problem_table", "created_list")
    actions = ("import_selected",)
    change_list_template = "admin/imports/importrun/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="problems (row, column, reason)")
    def problem_table(self, obj: ImportRun):
        if not obj.problems:
            return "none"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((p["row"] or "file", p["column"] or "—", p["reason"]) for p in obj.problems),
        )
        return format_html("<table><tr><th>row</th><th>column</th><th>reason</th></tr>{}</table>", rows)

    @admin.display(description="records created")
    def created_list(self, obj: ImportRun):
        return ", ".join(created["label"] for created in obj.created_labels[:200]) or "none"

    @admin.action(description="Import the selected checked files (all rows of each, or nothing)")
    def import_selected(self, request, queryset):
        for run in queryset.defer("content"):
            if run.status != ImportStatus.CHECKED:
                self.message_user(request, f"Import {run.pk} is {run.get_status_display().lower()}: skipped.",
                                  messages.WARNING)
                continue
            try:
                run = import_apply_start(run=run, user=request.user)
            except ValidationError as error:
                self.message_user(request, f"Import {run.pk}: {' '.join(error.messages)}", messages.ERROR)
                continue
            except Exception:  # noqa: BLE001  (recorded on the import row)
                self.message_user(request, f"Import {run.pk} failed and wrote nothing; see its error.",
                                  messages.ERROR)
                continue
            level = messages.SUCCESS if run.status in (ImportStatus.IMPORTED, ImportStatus.QUEUED) else messages.ERROR
            self.message_user(request, f"Import {run.pk}: {run.get_status_display()}"
                              f"{f', {run.created_count} records' if run.created_count else ''}"
                              f"{f', {run.problem_count} problems' if run.problem_count else ''}.", level)

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="imports_importrun_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request):
        if not user_is_lab_staff(request.user):
            messages.error(request, "Only technicians and scientists import records.")
            return redirect("admin:index")
        form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                run = import_upload(kind=form.cleaned_data["kind"], project=form.cleaned_data["project"],
                                    user=request.user, file_name=upload.name, content=upload.read())
                run = import_check_start(run=run, user=request.user)
            except ValidationError as error:
                for field, texts in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, texts)
            else:
                self.message_user(request, f"Import {run.pk}: {run.get_status_display()}"
                                  f"{f' ({run.problem_count} problems)' if run.problem_count else ''}. "
                                  "Select it and run “Import the selected checked files” when it is clean.")
                return redirect(reverse("admin:imports_importrun_change", args=[run.pk]))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Upload records to import",
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/imports/importrun/upload.html", context)
