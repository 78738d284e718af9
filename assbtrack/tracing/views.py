"""Pages of the core: the dashboard, any item by its code (data, lineage, history, jobs), search, status actions."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assbtrack.access.selectors import user_is_lab_staff
from assbtrack.jobs.selectors import jobs_active, jobs_visible_to

from .choices import ItemStatus
from .models import TracedItem
from .registry import kind_info
from .selectors import (
    item_get_for_user,
    items_recent,
    items_visible_to,
    lineage_downstream,
    lineage_hydrate,
    lineage_upstream,
    status_counts,
)
from .services import item_quarantine, item_reject, item_release, item_release_problems


class StatusActionForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    counts = status_counts(request.user)
    context = {
        "recent_items": items_recent(request.user),
        "active_jobs": jobs_active(request.user),
        "status_counts": [(status, label, counts.get(status, 0)) for status, label in ItemStatus.choices],
    }
    return render(request, "home.html", context)


def _item_or_404(request: HttpRequest, code: str) -> TracedItem:
    item = item_get_for_user(code, request.user)
    if item is None:
        raise Http404(f"No item {code} that you may see.")
    return item


@login_required
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = _item_or_404(request, code)
    if item.code != code:
        return redirect(item)
    info = kind_info(item.kind)
    record = None
    if info.model is not None:
        record = (
            info.model.objects.select_related("item", *info.select_related)
            .prefetch_related(*info.prefetch_related)
            .filter(pk=item.pk)
            .first()
        )
    upstream = lineage_upstream(item, user=request.user)
    downstream = lineage_downstream(item, user=request.user)
    history = history_entries(item.history.select_related("history_user")[:50], "item")
    if record is not None and hasattr(record, "history"):
        history += history_entries(record.history.select_related("history_user")[:50], record._meta.verbose_name)
    history.sort(key=lambda entry: entry["row"].history_date, reverse=True)
    context = {
        "item": item,
        "record": record,
        "detail_template": info.detail_template,
        "upstream": upstream,
        "downstream": downstream,
        "affected_by": upstream.held(),
        "history": history,
        "status_events": list(item.status_events.select_related("user")[:50]),
        "jobs": list(jobs_visible_to(request.user).filter(subject=item)[:20]),
        "can_release": request.user.has_perm("tracing.release_item") and user_is_lab_staff(request.user),
        "can_quarantine": request.user.has_perm("tracing.quarantine_item") and user_is_lab_staff(request.user),
        "release_problems": item_release_problems(item) if item.status == ItemStatus.DRAFT else [],
        "status_form": StatusActionForm(),
    }
    return render(request, "tracing/item_detail.html", context)


IGNORED_HISTORY_FIELDS = {"updated_at"}


def history_entries(rows, table: str) -> list[dict]:
    """History rows with what changed against the row before (no query per row: the rows are in hand)."""
    rows = list(rows)
    entries = []
    for newer, older in zip(rows, rows[1:] + [None]):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, excluded_fields=IGNORED_HISTORY_FIELDS)
            changes = [{"field": c.field, "old": c.old, "new": c.new} for c in delta.changes]
        entries.append({"row": newer, "table": table, "changes": changes})
    return entries


@login_required
def item_impact(request: HttpRequest, code: str) -> HttpResponse:
    """Everything downstream of an item: the recall list, with where each item is now."""
    item = _item_or_404(request, code)
    downstream = lineage_downstream(item, user=request.user)
    records = lineage_hydrate(downstream)
    rows = [(node, records.get(node.id)) for node in downstream.ordered()]
    return render(request, "tracing/item_impact.html", {"item": item, "rows": rows, "downstream": downstream})


ACTIONS = {
    "release": (item_release, "released"),
    "quarantine": (item_quarantine, "quarantined"),
    "reject": (item_reject, "rejected"),
}


@login_required
@require_POST
def item_status_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("No such action.")
    item = _item_or_404(request, code)
    form = StatusActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(error for errors in form.errors.values() for error in errors))
        return redirect(item)
    service, done = ACTIONS[action]
    try:
        service(item=item, user=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            for problem in problems:
                messages.error(request, f"{action.capitalize()} refused ({field}): {problem}")
        return redirect(item)
    messages.success(request, f"{item.code} {done}.")
    return redirect(item)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Find an item by its code (typed or scanned); an exact code goes straight to its page."""
    query = request.GET.get("q", "").strip()[:100]
    results: list[TracedItem] = []
    if query:
        exact = item_get_for_user(query, request.user)
        if exact is not None:
            return redirect(exact)
        results = list(
            items_visible_to(request.user).filter(code__icontains=query)[:50]
            or items_visible_to(request.user).filter(notes__icontains=query)[:50]
        )
    return render(request, "tracing/search.html", {"query": query, "results": results})
