"""Who may see what. Every partner-facing query goes through ``projects_visible_to``."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from .models import Project
from .roles import LAB_ROLES, PARTNER


def user_roles(user: User | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_assbtrack_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._assbtrack_roles = cached
    return cached


def user_is_lab_staff(user: User | AnonymousUser) -> bool:
    """Technicians, scientists and superusers work inside the lab and see every project."""
    return bool(user.is_authenticated and (user.is_superuser or user_roles(user) & set(LAB_ROLES)))


def user_is_partner(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and not user_is_lab_staff(user) and PARTNER in user_roles(user))


def projects_visible_to(user: User | AnonymousUser) -> QuerySet[Project]:
    if user_is_lab_staff(user):
        return Project.objects.all()
    if user_is_partner(user):
        return Project.objects.filter(grants__organisation__memberships__user=user).distinct()
    return Project.objects.none()


def scope_to_user(queryset: QuerySet, user: User | AnonymousUser, *, project_field: str = "project") -> QuerySet:
    """``queryset`` restricted to the projects ``user`` may read (a subquery, not a list of ids)."""
    if user_is_lab_staff(user):
        return queryset
    if user_is_partner(user):
        visible = Project.objects.filter(grants__organisation__memberships__user=user).values("pk")
        return queryset.filter(**{f"{project_field}__in": visible})
    return queryset.none()
