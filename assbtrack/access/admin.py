from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from assbtrack.tracing.admin_mixins import ReadOnlyAdminMixin

from .models import ApiToken, ExportLog, Membership, Organisation, Project, ProjectGrant
from .services import api_token_revoke


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


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    """Who belongs to which partner organisation, with the history of every change (what partners see)."""

    list_display = ["user", "organisation"]
    list_select_related = ["user", "organisation"]
    search_fields = ["user__username", "organisation__name"]
    autocomplete_fields = ["user"]


@admin.register(ProjectGrant)
class ProjectGrantAdmin(SimpleHistoryAdmin):
    """Which organisation reads which project, with the history of every grant and revocation."""

    list_display = ["organisation", "project", "granted_by", "granted_at"]
    list_select_related = ["organisation", "project", "granted_by"]
    search_fields = ["organisation__name", "project__code"]
    readonly_fields = ["granted_by", "granted_at"]
    autocomplete_fields = ["project"]


class UserWithHistoryAdmin(SimpleHistoryAdmin, UserAdmin):
    """Django's user admin, with the history of each user's roles (groups) and active flag."""


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), UserWithHistoryAdmin)


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
        for token in queryset:
            api_token_revoke(token=token, user=request.user)


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What partners and staff exported: visible to the lab, written only by the export machinery."""

    list_display = ["started_at", "user", "endpoint", "query", "export_format", "rows", "completed", "duration_s"]
    list_filter = ["export_format", "completed"]
    list_select_related = ["user"]
    search_fields = ["user__username", "endpoint", "query"]
