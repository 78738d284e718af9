"""The three roles and what each may do. Groups and their permissions are kept in step after every migrate."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

TECHNICIAN = "technician"
SCIENTIST = "scientist"
PARTNER = "partner"
LAB_ROLES = (TECHNICIAN, SCIENTIST)

DOMAIN_APPS = ("materials", "electrodes", "cells", "modules", "instruments", "imports")

# (app_label, codename prefix or full codename) pairs; a prefix ending in "_" matches every model.
ROLE_PERMISSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    TECHNICIAN: tuple((app, verb) for app in DOMAIN_APPS for verb in ("add_", "change_", "view_"))
    + (
        ("tracing", "view_"),
        ("tracing", "add_lineageedge"),
        ("jobs", "view_"),
        ("jobs", "add_job"),
        ("access", "view_project"),
    ),
    SCIENTIST: tuple((app, verb) for app in DOMAIN_APPS for verb in ("add_", "change_", "view_"))
    + (
        ("tracing", "view_"),
        ("tracing", "add_lineageedge"),
        ("tracing", "release_item"),
        ("tracing", "quarantine_item"),
        ("tracing", "record_deviation"),
        ("jobs", "view_"),
        ("jobs", "add_job"),
        ("access", "view_"),
    ),
    # Partners read through the API only, scoped to their organisation's projects; no admin rights.
    PARTNER: (),
}


def role_permissions(role: str):
    query = Permission.objects.none()
    for app_label, codename in ROLE_PERMISSIONS[role]:
        matches = Permission.objects.filter(content_type__app_label=app_label)
        matches = matches.filter(codename__startswith=codename) if codename.endswith("_") else matches.filter(
            codename=codename
        )
        query = query | matches
    return query


def roles_sync(**kwargs) -> None:
    """Create the role groups and give them exactly their permissions (idempotent)."""
    for role in ROLE_PERMISSIONS:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(role_permissions(role))
