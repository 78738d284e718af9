"""The admin base of every domain record (lots, batches, films, cells, modules).

Records are created by the technician forms through the services (which also write the item and its
lineage); the admin edits them, and an edit of a record that is no longer a draft needs a reason,
stored in the record's history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from .services import record_change_check


class ChangeReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=500,
        help_text="Required once the item is released: it is kept in the history.",
    )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            try:
                record_change_check(item=self.instance.item, reason=cleaned.get("change_reason", ""))
            except ValidationError as error:
                self.add_error("change_reason", error.message_dict["change_reason"])
        return cleaned


class TracedRecordAdmin(SimpleHistoryAdmin):
    form = ChangeReasonForm
    list_select_related = ("item", "item__project")
    search_fields = ("item__code",)
    list_filter = ("item__status", "item__project")
    show_full_result_count = False
    record_columns: tuple[str, ...] = ()

    def get_list_display(self, request):
        return ("item_code", "item_status", "item_project", *self.record_columns)

    def get_readonly_fields(self, request, obj=None):
        return ("item", *super().get_readonly_fields(request, obj))

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        obj._change_reason = form.cleaned_data.get("change_reason") or ""
        super().save_model(request, obj, form, change)

    @admin.display(description="code", ordering="item__code")
    def item_code(self, obj) -> str:
        return obj.item.code

    @admin.display(description="status", ordering="item__status")
    def item_status(self, obj) -> str:
        return obj.item.get_status_display()

    @admin.display(description="project", ordering="item__project__code")
    def item_project(self, obj) -> str:
        return obj.item.project.code
