"""The design-space pages: pick a step, an outcome and bounds; see the maps, the error and the proposals; plan one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from assbtrack.access.selectors import projects_visible_to, user_is_lab_staff
from assbtrack.domain.design import MAX_COUNT
from assbtrack.jobs.selectors import jobs_visible_to

from .design import DESIGN_SPACE, design_submit, planned_experiment_create
from .models import PlannedExperiment
from .registry import design_step, design_steps


def _choices() -> list[tuple[str, str]]:
    return [(f"{step.name}:{outcome}", f"{step.label} → {label}")
            for step in design_steps() for outcome, label, _ in step.outcomes]


class DesignForm(forms.Form):
    target = forms.ChoiceField(label="Step and outcome")
    project = forms.ModelChoiceField(label="Project", queryset=None)
    objective = forms.ChoiceField(label="Objective", choices=[("", "the outcome's usual one"),
                                                              ("maximize", "maximise"), ("minimize", "minimise")],
                                  required=False)
    count = forms.IntegerField(label="Proposals", min_value=1, max_value=MAX_COUNT, initial=3)
    bounds = forms.CharField(
        label="Bounds (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One parameter a line: name low high, e.g. 'milling_time_h 0.5 6'. Others: the records' range "
                  "widened by a tenth.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = _choices()
        self.fields["project"].queryset = projects_visible_to(user).order_by("code")

    def clean_bounds(self) -> dict[str, tuple[float, float]]:
        bounds: dict[str, tuple[float, float]] = {}
        step = design_step((self.data.get("target") or ":").split(":")[0])
        names = {name for name, _ in step.parameters} if step else set()
        for number, line in enumerate((self.cleaned_data.get("bounds") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 3:
                raise ValidationError(f"line {number}: write name low high")
            name, low, high = parts
            if name not in names:
                raise ValidationError(f"line {number}: {name} is not a parameter of this step "
                                      f"({', '.join(sorted(names))})")
            try:
                low_value, high_value = float(low), float(high)
            except ValueError:
                raise ValidationError(f"line {number}: low and high must be numbers") from None
            if not high_value > low_value:
                raise ValidationError(f"line {number}: high must be greater than low")
            bounds[name] = (low_value, high_value)
        return bounds


def _staff(request: HttpRequest) -> None:
    if not user_is_lab_staff(request.user):
        raise PermissionDenied("Only technicians and scientists use the design-space pages.")


@login_required
def design_index(request: HttpRequest) -> HttpResponse:
    _staff(request)
    form = DesignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        step, outcome = form.cleaned_data["target"].split(":", 1)
        try:
            job = design_submit(user=request.user, step=step, outcome=outcome, project=form.cleaned_data["project"],
                                bounds=form.cleaned_data["bounds"], count=form.cleaned_data["count"],
                                objective=form.cleaned_data["objective"] or None)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error("bounds" if field.endswith(("_low", "_high")) else
                               field if field in form.fields else None, problems)
        else:
            return redirect("quality:design-run", job_id=job.pk)
    runs = list(jobs_visible_to(request.user).filter(kind=DESIGN_SPACE).order_by("-id")[:10])
    plans = list(PlannedExperiment.objects.filter(project__in=projects_visible_to(request.user))
                 .select_related("project", "job", "created_by")[:20])
    return render(request, "quality/design.html", {"form": form, "runs": runs, "plans": plans})


def _run_or_404(request: HttpRequest, job_id: int):
    job = jobs_visible_to(request.user).filter(pk=job_id, kind=DESIGN_SPACE).select_related("reused_from").first()
    if job is None:
        raise Http404("No such design-space run that you may see.")
    return job


@login_required
def design_run(request: HttpRequest, job_id: int) -> HttpResponse:
    _staff(request)
    job = _run_or_404(request, job_id)
    source = job.reused_from if job.reused_from_id else job
    files = {f.name: f for f in source.files.all()}
    plans = {plan.suggestion_index: plan for plan in job.planned_experiments.all()}
    step = design_step(job.inputs.get("step", ""))
    form_url = reverse(step.record_form) if step is not None and step.record_form else ""
    for plan in plans.values():
        plan.make_url = f"{form_url}?plan={plan.pk}" if form_url and plan.record_id is None else ""
    result = job.result or {}
    proposals = [{"index": index, "number": index + 1, "plan": plans.get(index), **proposal}
                 for index, proposal in enumerate(result.get("suggestions") or [])]
    return render(request, "quality/design_run.html", {
        "job": job, "source": source, "result": result, "proposals": proposals,
        "map_png": "design_map.png" if "design_map.png" in files else None,
        "slices_png": "design_slices.png" if "design_slices.png" in files else None,
        "parameters": job.inputs.get("parameters", []),
    })


@login_required
@require_POST
def design_plan(request: HttpRequest, job_id: int) -> HttpResponse:
    _staff(request)
    job = _run_or_404(request, job_id)
    try:
        index = int(request.POST.get("index", ""))
    except ValueError:
        index = -1
    try:
        plan = planned_experiment_create(job=job, index=index, user=request.user)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, f"Proposal {index + 1} is planned (#{plan.pk}).")
    return redirect("quality:design-run", job_id=job.pk)
