"""The SPC page: every QC series the user may see, its chart, its flagged records, and the baseline form."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assbtrack.access.roles import SCIENTIST
from assbtrack.access.selectors import user_is_lab_staff, user_roles

from .models import DEFAULT_BASELINE_COUNT, MIN_BASELINE_COUNT
from .selectors import control_series_visible_to, yield_table
from .services import control_baseline_set


class BaselineForm(forms.Form):
    baseline_count = forms.IntegerField(
        label="Baseline (first records)", required=False, min_value=MIN_BASELINE_COUNT, max_value=10_000,
        help_text=f"Empty: the first {DEFAULT_BASELINE_COUNT}.",
    )


def _may_set_baseline(user) -> bool:
    return user.is_superuser or SCIENTIST in user_roles(user)


@login_required
def spc_index(request: HttpRequest) -> HttpResponse:
    if not user_is_lab_staff(request.user):
        raise PermissionDenied("Only technicians and scientists use the SPC page.")
    series = list(control_series_visible_to(request.user).order_by("title"))
    rows = []
    for one in series:
        job = one.chart_job
        png = next((f.name for f in job.files.all() if f.name.endswith(".png")), None) if job else None
        rows.append({"series": one, "flags": list(one.flags.all()), "png": png,
                     "form": BaselineForm(initial={"baseline_count": one.baseline_count}, prefix=f"s{one.pk}")})
    context = {"rows": rows, "may_set_baseline": _may_set_baseline(request.user),
               "flagged": sum(1 for row in rows if row["flags"]), "min_points": MIN_BASELINE_COUNT}
    return render(request, "quality/spc.html", context)


@login_required
@require_POST
def spc_baseline(request: HttpRequest, series_id: int) -> HttpResponse:
    if not user_is_lab_staff(request.user) or not _may_set_baseline(request.user):
        raise PermissionDenied("Only scientists choose a control chart's baseline.")
    series = control_series_visible_to(request.user).filter(pk=series_id).first()
    if series is None:
        raise Http404("No such control series that you may see.")
    form = BaselineForm(request.POST, prefix=f"s{series.pk}")
    if not form.is_valid():
        messages.error(request, f"Baseline of {series.title}: " + "; ".join(
            message for errors in form.errors.values() for message in errors))
        return redirect("quality:spc")
    try:
        control_baseline_set(series=series, baseline_count=form.cleaned_data["baseline_count"], user=request.user)
    except ValidationError as error:
        messages.error(request, f"Baseline of {series.title}: " + "; ".join(error.messages))
        return redirect("quality:spc")
    messages.success(request, f"Baseline of {series.title} set; the chart is redrawn on a worker.")
    return redirect("quality:spc")


@login_required
def yield_index(request: HttpRequest) -> HttpResponse:
    if not user_is_lab_staff(request.user):
        raise PermissionDenied("Only technicians and scientists use the yield page.")
    return render(request, "quality/yield.html", {"rows": yield_table(request.user)})
