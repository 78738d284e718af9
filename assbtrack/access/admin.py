from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from assbtrack.tracing.admin_mixins import ReadOnlyAdminMixin

from .models import ApiToken, ExportLog, Membership, Organisation, Project, ProjectGrant


class ProjectGrantInline(admin.TabularInline):
    model = ProjectGrant
    extra = 0
    autocomplete_fields = ["project"]
    readonly_fields = ["granted_by", "granted_at"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "created_at"]
    search_fields = ["code", "name"]


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    inlines = [MembershipInline, ProjectGrantInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Admins list and revoke tokens; keys are never shown (only their hash is stored)."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "name", "prefix", "key_sha256", "created_at", "expires_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        from .services import api_token_revoke

        for token in queryset:
            api_token_revoke(token=token, user=request.user)


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What partners and staff exported: visible to the lab, written only by the export machinery."""

    list_display = ["started_at", "user", "endpoint", "query", "export_format", "rows", "completed", "duration_s"]
    list_filter = ["export_format", "completed"]
    list_select_related = ["user"]
    search_fields = ["user__username", "endpoint", "query"]
