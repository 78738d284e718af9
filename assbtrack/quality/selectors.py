"""Reads of process quality: the control series a user may see, their flags, the flags of one record."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from assbtrack.access.selectors import scope_to_user
from assbtrack.tracing.models import TracedItem

from .models import ControlFlag, ControlSeries


def control_series_visible_to(user: User | AnonymousUser) -> QuerySet[ControlSeries]:
    """Series with their chart's files and their flags (with the records): four queries for any number."""
    series = ControlSeries.objects.select_related("project", "chart_job").prefetch_related(
        "chart_job__files",
        Prefetch("flags", queryset=ControlFlag.objects.select_related("item").order_by("position", "rule")),
    )
    return scope_to_user(series, user, project_field="project")


def control_flags_visible_to(user: User | AnonymousUser) -> QuerySet[ControlFlag]:
    flags = ControlFlag.objects.select_related("item", "series", "series__project").order_by("-measured_at", "rule")
    return scope_to_user(flags, user, project_field="series__project")


def control_flags_for_item(item: TracedItem) -> list[ControlFlag]:
    return list(ControlFlag.objects.filter(item=item).select_related("series").order_by("series__title", "rule"))


def with_out_of_control(queryset: QuerySet, *, item_field: str = "item") -> QuerySet:
    """``out_of_control``: whether a Western Electric rule flags the record on its latest control chart (one
    SQL expression, so lists and flat exports read it without a query per row)."""
    return queryset.annotate(out_of_control=Exists(ControlFlag.objects.filter(item=OuterRef(item_field))))
