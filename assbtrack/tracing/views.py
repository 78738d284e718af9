"""Pages of the core: the dashboard, any item by its code (data, lineage, history, jobs), search, status actions."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from assbtrack.access.selectors import user_is_lab_staff
from assbtrack.jobs.selectors import jobs_active, jobs_visible_to

from . import reports
from .choices import HELD_STATUSES, ItemStatus
from .graph import expanded_kinds, item_graphs, item_node_url
from .models import TracedItem
from .registry import kind_info
from .selectors import (
    item_get_for_user,
    items_awaiting_qc,
    items_recent,
    items_visible_to,
    lineage_downstream,
    lineage_upstream,
    status_counts,
    status_events_recent,
)
from .services import item_quarantine, item_reject, item_release, item_release_problems, items_quarantine


class StatusActionForm(forms.Form):
    """A signed status change: the reason, and the user's password again as the signature."""

    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)
    password = forms.CharField(
        label="Your password (signs the change)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        max_length=200,
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    counts = status_counts(request.user)
    awaiting_count, awaiting = items_awaiting_qc(request.user)
    context = {
        "recent_items": items_recent(request.user),
        "recent_releases": status_events_recent(request.user, to_statuses=(ItemStatus.RELEASED,)),
        "recent_holds": status_events_recent(request.user, to_statuses=HELD_STATUSES),
        "awaiting_qc": awaiting,
        "awaiting_qc_count": awaiting_count,
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
    item_url = reverse("tracing:item", args=[item.code])
    graphs = item_graphs(item, user=request.user, item_url=item_url, node_url=item_node_url(),
                         expanded=expanded_kinds(request.GET.get("expand", "")))
    upstream, downstream = graphs.upstream, graphs.downstream
    history = history_entries(item.history.select_related("history_user")[:50], "item")
    if record is not None and hasattr(record, "history"):
        history += history_entries(record.history.select_related("history_user")[:50], record._meta.verbose_name)
    history.sort(key=lambda entry: entry["row"].history_date, reverse=True)
    context = {
        "item": item,
        "record": record,
        "upstream_svg": mark_safe(graphs.upstream_svg),
        "downstream_svg": mark_safe(graphs.downstream_svg),
        "qr_svg": mark_safe(reports.item_qr_svg(item, request)),
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
    """Everything downstream of an item: the recall list, with where each is now and who can see it."""
    item = _item_or_404(request, code)
    report = reports.impact_report(item, request.user)
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        return reports.csv_response(f"impact-{item.code}.csv", reports.IMPACT_COLUMNS, report.csv_rows())
    if fmt == "pdf":
        response = HttpResponse(reports.impact_pdf(report), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="impact-{item.code}.pdf"'
        return response
    context = {
        "item": item,
        "report": report,
        "form": RecallForm(),
        "can_quarantine": request.user.has_perm("tracing.quarantine_item") and user_is_lab_staff(request.user),
    }
    return render(request, "tracing/item_impact.html", context)


class RecallForm(forms.Form):
    reason = forms.CharField(label="Reason for the recall", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    password = forms.CharField(
        label="Your password (signs the change)", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    include_item = forms.BooleanField(label="Quarantine this item too", required=False, initial=True)


@login_required
@require_POST
def item_recall(request: HttpRequest, code: str) -> HttpResponse:
    """Quarantine everything downstream of an item at once, with one reason, in one transaction."""
    item = _item_or_404(request, code)
    form = RecallForm(request.POST)
    if not form.is_valid():
        report = reports.impact_report(item, request.user)
        return render(
            request,
            "tracing/item_impact.html",
            {"item": item, "report": report, "form": form, "can_quarantine": True},
            status=400,
        )
    downstream = lineage_downstream(item, user=request.user)
    targets = [TracedItem(pk=node.id, code=node.code) for node in downstream.nodes.values()]
    if form.cleaned_data["include_item"]:
        targets.append(item)
    try:
        held = items_quarantine(
            items=targets, user=request.user, reason=form.cleaned_data["reason"], password=form.cleaned_data["password"]
        )
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            if field in form.fields:
                form.add_error(field, problems)
            else:
                form.add_error(None, problems)
        report = reports.impact_report(item, request.user)
        return render(
            request,
            "tracing/item_impact.html",
            {"item": item, "report": report, "form": form, "can_quarantine": True},
            status=400,
        )
    messages.success(request, f"{len(held)} items quarantined: {form.cleaned_data['reason']}")
    return redirect("tracing:impact", code=item.code)


@login_required
def item_lineage_csv(request: HttpRequest, code: str) -> StreamingHttpResponse:
    """The lineage table of an item as CSV (``?direction=upstream`` or ``downstream``)."""
    item = _item_or_404(request, code)
    direction = request.GET.get("direction", "upstream")
    lineage = (
        lineage_downstream(item, user=request.user)
        if direction == "downstream"
        else lineage_upstream(item, user=request.user)
    )
    return reports.csv_response(
        f"{direction}-{item.code}.csv", reports.LINEAGE_COLUMNS, reports.lineage_csv_rows(lineage)
    )


@login_required
def item_composition(request: HttpRequest, code: str) -> HttpResponse:
    """ "What went into this?": every upstream lot and batch with amounts, process parameters and QC."""
    item = _item_or_404(request, code)
    return render(
        request, "tracing/item_composition.html", {"item": item, **reports.composition_report(item, request.user)}
    )


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
        service(
            item=item, user=request.user, reason=form.cleaned_data["reason"], password=form.cleaned_data["password"]
        )
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            for problem in problems:
                messages.error(request, f"{action.capitalize()} refused ({field}): {problem}")
        return redirect(item)
    messages.success(request, f"{item.code} {done}.")
    return redirect(item)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Find items by code (typed or scanned QR: an exact code goes straight to its page), composition,
    supplier lot, or any word in the records' text fields and notes."""
    query = request.GET.get("q", "").strip()[:100]
    results: list[dict] = []
    if query:
        exact = item_get_for_user(reports.code_from_scan(query), request.user)
        if exact is not None:
            return redirect(exact)
        results = reports.search_items(query, request.user)
    return render(request, "tracing/search.html", {"query": query, "results": results})


@login_required
def labels(request: HttpRequest) -> HttpResponse:
    """A print-ready sheet of QR labels for the items in ``?codes=A,B,C`` (or ``?code=`` repeated)."""
    codes = [c for part in request.GET.getlist("codes") + request.GET.getlist("code") for c in part.split(",") if c]
    layout = reports.LABEL_LAYOUTS.get(request.GET.get("layout", "a4-3x8"), reports.LABEL_LAYOUTS["a4-3x8"])
    items = list(items_visible_to(request.user).filter(code__in=[c.strip().upper() for c in codes[:500]]))
    items.sort(key=lambda item: item.code)
    labels_ = [{"item": item, "qr": mark_safe(reports.item_qr_svg(item, request))} for item in items]
    context = {"labels": labels_, "layout": layout, "layouts": reports.LABEL_LAYOUTS, "codes": ",".join(codes)}
    return render(request, "tracing/labels.html", context)
