"""Pages of the core: the dashboard, any item by its code (data, lineage, history, jobs), search, status actions."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from assbtrack.access.selectors import projects_visible_to, user_is_lab_staff
from assbtrack.jobs.selectors import jobs_active, jobs_visible_to
from assbtrack.web.csv import csv_download

from . import reports
from .choices import HELD_STATUSES, ItemStatus
from .fields import MAX_CODE_TEXT, code_from_text
from .forms import LabForm
from .graph import expanded_kinds, item_graphs, item_node_url
from .models import DeviationPurpose, TracedItem
from .registry import consuming_path, kind_info
from .selectors import (
    affected_count,
    deviations_of,
    held_ancestors_visible_to,
    holds_upstream,
    item_get_for_user,
    items_awaiting_qc,
    items_recent,
    items_visible_to,
    lineage_downstream,
    lineage_upstream,
    status_counts,
    status_events_recent,
)
from .services import (
    deviation_record,
    hold_description,
    item_quarantine,
    item_reject,
    item_release,
    item_release_blockers,
    items_quarantine,
)


class StatusActionForm(LabForm):
    """A signed status change: the reason, and the user's password again as the signature."""

    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)
    password = forms.CharField(
        label="Your password (signs the change)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        max_length=200,
    )


class DeviationForm(LabForm):
    """A signed deviation: what it allows, which holds upstream it overrides, why, and the password again."""

    purpose = forms.ChoiceField(label="Allow", choices=DeviationPurpose.choices, widget=forms.RadioSelect)
    holds = forms.MultipleChoiceField(label="Holds overridden", widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label="Reason for the deviation", widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=2000)
    password = forms.CharField(
        label="Your password (signs the deviation)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        max_length=200,
    )

    def __init__(self, *args, holds=(), **kwargs):
        kwargs.setdefault("auto_id", "id_deviation_%s")  # beside the status form on the item page: ids differ
        super().__init__(*args, **kwargs)
        self.fields["holds"].choices = [(str(hold.item_id), hold_description(hold)) for hold in holds]
        if len(holds) == 1:
            self.fields["holds"].initial = [str(holds[0].item_id)]


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
        "affected_count": affected_count(request.user),
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
    affected_by = graphs.affected_by
    release_problems = item_release_blockers(item) if user_is_lab_staff(request.user) else []
    context = {
        "item": item,
        "record": record,
        "upstream_svg": mark_safe(graphs.upstream_svg),
        "downstream_svg": mark_safe(graphs.downstream_svg),
        "qr_svg": mark_safe(reports.item_qr_svg(item, request)),
        "detail_template": info.detail_template,
        "upstream": upstream,
        "downstream": downstream,
        "affected_by": affected_by,
        **_deviation_context(request, item, affected=bool(affected_by)),
        "history": history,
        "status_events": list(item.status_events.select_related("user")[:50]),
        "jobs": list(jobs_visible_to(request.user).filter(subject=item)[:20]),
        "can_release": request.user.has_perm("tracing.release_item") and user_is_lab_staff(request.user),
        "can_quarantine": request.user.has_perm("tracing.quarantine_item") and user_is_lab_staff(request.user),
        # for lab staff only: the reasons name held items upstream, which may lie in a project a partner is not
        # granted. Worked out whatever the status, so that every item page of a kind costs the same queries.
        "release_problems": release_problems if item.status in (ItemStatus.DRAFT, ItemStatus.QUARANTINED) else [],
        "status_form": StatusActionForm(
            initial={"reason": request.session.pop(TYPED_REASON_KEY.format(code=item.code), "")}
        ),
    }
    return render(request, "tracing/item_detail.html", context)


def _deviation_context(request: HttpRequest, item: TracedItem, *, affected: bool, form=None) -> dict:
    """The item's deviations, and for a scientist on an affected item the form to record one."""
    can_deviate = affected and request.user.has_perm("tracing.record_deviation") and user_is_lab_staff(request.user)
    holds = holds_upstream(item.pk) if can_deviate else []
    return {
        "deviations": _withhold(deviations_of(item), request.user),
        "can_deviate": can_deviate and bool(holds) and item.status not in HELD_STATUSES,
        "deviation_form": form or DeviationForm(holds=holds),
    }


def _withhold(deviations: list, user) -> list:
    """Mark each deviation's held item visible or not: a partner is not told the code of an item outside the
    projects granted to them (the deviation itself, on an item they may see, is shown)."""
    visible = None if user_is_lab_staff(user) else set(projects_visible_to(user).values_list("pk", flat=True))
    for deviation in deviations:
        deviation.held_visible = visible is None or deviation.held_item.project_id in visible
    return deviations


@login_required
def item_deviation(request: HttpRequest, code: str) -> HttpResponse:
    """Record a signed deviation: an affected item may be released or used despite the holds it names."""
    item = _item_or_404(request, code)
    if not (request.user.has_perm("tracing.record_deviation") and user_is_lab_staff(request.user)):
        raise PermissionDenied("Only a scientist records a deviation.")
    holds = holds_upstream(item.pk)
    form = DeviationForm(request.POST or None, holds=holds)
    if request.method == "POST" and form.is_valid():
        try:
            deviations = deviation_record(
                item=item, user=request.user, purpose=form.cleaned_data["purpose"],
                reason=form.cleaned_data["reason"], password=form.cleaned_data["password"],
                held_item_ids=[int(held_id) for held_id in form.cleaned_data["holds"]],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            overridden = ", ".join(deviation.held_item.code for deviation in deviations)
            messages.success(request, f"Deviation recorded: {item.code} may be "
                             f"{'released' if deviations[0].purpose == DeviationPurpose.RELEASE else 'used'} "
                             f"despite the hold of {overridden}.")
            return redirect(item)
    status = 400 if request.method == "POST" else 200
    context = {"item": item, "holds": holds, "form": form, "deviations": _withhold(deviations_of(item), request.user)}
    return render(request, "tracing/item_deviation.html", context, status=status)


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
    _withhold(report.deviations, request.user)
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        return csv_download(request, f"impact-{item.code}.csv", reports.IMPACT_COLUMNS, report.csv_rows())
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


class RecallForm(LabForm):
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
    held = held_ancestors_visible_to(lineage.nodes, user=request.user)
    return csv_download(
        request, f"{direction}-{item.code}.csv", reports.LINEAGE_COLUMNS, reports.lineage_csv_rows(lineage, held)
    )


@login_required
def item_composition(request: HttpRequest, code: str) -> HttpResponse:
    """ "What went into this?": every upstream lot and batch with amounts, process parameters and QC."""
    item = _item_or_404(request, code)
    return render(
        request, "tracing/item_composition.html", {"item": item, **reports.composition_report(item, request.user)}
    )


ACTIONS = {"release": "released", "quarantine": "quarantined", "reject": "rejected"}
TYPED_REASON_KEY = "status-reason:{code}"


def _keep_typed_reason(request: HttpRequest, item: TracedItem, reason: str) -> None:
    """A refused signature (a wrong password, say) must not cost the scientist the reason they wrote: the item
    page the refusal redirects to shows it again, once."""
    if reason.strip():
        request.session[TYPED_REASON_KEY.format(code=item.code)] = reason[:2000]


@login_required
@require_POST
@consuming_path("release")
def item_status_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("No such action.")
    item = _item_or_404(request, code)
    form = StatusActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(error for errors in form.errors.values() for error in errors))
        _keep_typed_reason(request, item, request.POST.get("reason", ""))
        return redirect(item)
    service = {"release": item_release, "quarantine": item_quarantine, "reject": item_reject}[action]
    done = ACTIONS[action]
    try:
        service(
            item=item, user=request.user, reason=form.cleaned_data["reason"], password=form.cleaned_data["password"]
        )
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            for problem in problems:
                messages.error(request, f"{action.capitalize()} refused ({field}): {problem}")
        _keep_typed_reason(request, item, form.cleaned_data["reason"])
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
    typed = [c.strip() for part in request.GET.getlist("codes") + request.GET.getlist("code")
             for c in part.split(",") if c.strip()][:500]
    layout = reports.LABEL_LAYOUTS.get(request.GET.get("layout", "a4-3x8"), reports.LABEL_LAYOUTS["a4-3x8"])
    codes = {text: code_from_text(text[:MAX_CODE_TEXT]) for text in typed}
    items = list(items_visible_to(request.user).filter(code__in={code for code in codes.values() if code}))
    items.sort(key=lambda item: item.code)
    found = {item.code for item in items}
    # An unknown code and one of another project read the same: the page tells nothing about other projects.
    not_found = list(dict.fromkeys(code or text[:40] for text, code in codes.items() if code not in found))
    labels_ = [{"item": item, "qr": mark_safe(reports.item_qr_svg(item, request))} for item in items]
    context = {"labels": labels_, "layout": layout, "layouts": reports.LABEL_LAYOUTS, "codes": ",".join(typed),
               "not_found": not_found}
    return render(request, "tracing/labels.html", context)
