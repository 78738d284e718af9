"""The base of every partner-facing viewset: read-only, scoped to the caller's projects, found by code."""

from __future__ import annotations

from rest_framework import permissions, viewsets

from assbtrack.access.selectors import scope_to_user, user_is_lab_staff, user_is_partner

from .exports import ExportMixin


class HasReadRole(permissions.BasePermission):
    message = "Your account has no role that may read records (technician, scientist or partner)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and (user_is_lab_staff(user) or user_is_partner(user)))


class ScopedReadOnlyViewSet(ExportMixin, viewsets.ReadOnlyModelViewSet):
    """A list and a detail that only ever show rows of projects the caller may read.

    Anything outside answers 404, exactly as if it did not exist. Lists take ``?fields=`` to choose
    columns and ``?export=csv|jsonl`` to stream the whole filtered list.
    """

    permission_classes = [permissions.IsAuthenticated, HasReadRole]
    project_field = "item__project"
    lookup_field = "item__code"
    lookup_url_kwarg = "code"
    lookup_value_regex = "[A-Za-z]+-[0-9]+"

    def get_serializer(self, *args, **kwargs):
        """The serializer, with ``affected`` looked up for the whole page (or the one record) in one query."""
        serializer = super().get_serializer(*args, **kwargs)
        child = getattr(serializer, "child", serializer)
        instance = args[0] if args else kwargs.get("instance")
        if instance is not None and hasattr(child, "prime_held"):
            rows = list(instance) if kwargs.get("many") else [instance]
            if rows and not isinstance(rows[0], dict):
                child.prime_held([getattr(row, child.affected_item_attr) for row in rows])
        return serializer

    def get_queryset(self):
        return scope_to_user(super().get_queryset(), self.request.user, project_field=self.project_field)
