"""Reads of process quality: the control series a user may see, their flags, the flags of one record."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from assbtrack.access.selectors import projects_visible_to, scope_to_user
from assbtrack.tracing.models import TracedItem

from .models import ControlFlag, ControlSeries
from .registry import yield_steps


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


# ------------------------------------------------------------------------------------ yield and scrap per step


def yield_table(user: User | AnonymousUser, *, months: int | None = None) -> list[dict]:
    """Yield and scrap of every registered step, by month and project, newest month first (one or two queries a
    step, whatever the number of records). ``months`` keeps the latest few months only."""
    projects = projects_visible_to(user)
    table = []
    for step in yield_steps():
        for row in step.rows(projects):
            scrap = row.amount_in - row.amount_out
            table.append({
                "step": step.name, "step_label": step.label, "unit": step.unit, "month": row.month,
                "project": row.project, "amount_in": row.amount_in, "amount_out": row.amount_out,
                "scrap": scrap, "yield_percent": 100.0 * row.amount_out / row.amount_in if row.amount_in else None,
            })
    table.sort(key=lambda r: (r["month"], r["project"], r["step"]), reverse=True)
    if months is not None:
        latest = sorted({r["month"] for r in table}, reverse=True)[:months]
        table = [r for r in table if r["month"] in latest]
    return table
