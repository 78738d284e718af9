from django.contrib import admin

from .models import Job, JobFile


class JobFileInline(admin.TabularInline):
    model = JobFile
    extra = 0
    can_delete = False
    readonly_fields = ["name", "file", "size_bytes"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress_percent", "subject", "requested_by", "worker", "created_at",
                    "finished_at"]
    list_filter = ["status", "kind", "queue"]
    list_select_related = ["subject", "requested_by"]
    search_fields = ["subject__code", "kind", "inputs_sha256"]
    readonly_fields = [field.name for field in Job._meta.fields]
    inlines = [JobFileInline]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False
