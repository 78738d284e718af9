"""Design-space models of the lab's own records: gather a step's records, run ``design_suggest`` with its maps on a
worker, and make a proposal into a planned record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from assbtrack.access.models import Project
from assbtrack.access.selectors import projects_visible_to
from assbtrack.domain.design import (
    DesignModel,
    caveats,
    cross_validated_rmse,
    fit_design_model,
    read_problem,
    suggest,
)
from assbtrack.domain.inputs import Inputs, ModelInputError
from assbtrack.domain.plotting import figure_files
from assbtrack.jobs.handlers import QUEUE_MODELS, JobContext, JobOutput, register_job_kind
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import job_submit

from .models import PlannedExperiment
from .plots import design_map_figure, design_slices_figure
from .registry import design_step

DESIGN_SPACE = "design_space"
MODEL_KEYS = ("parameters", "observations", "objective", "count", "seed")


def design_inputs(*, step: str, outcome: str, project: Project, bounds: Mapping[str, tuple[float, float]] | None,
                  count: int, objective: str | None = None, seed: int = 0) -> dict[str, Any]:
    """The job's inputs from the matching records: the records themselves are in them, so the training set's
    hash keys the result. Bounds default to the records' range, widened by a tenth on each side."""
    found = design_step(step)
    if found is None:
        raise ValidationError({"step": "choose a step"})
    outcomes = {name: (label, default) for name, label, default in found.outcomes}
    if outcome not in outcomes:
        raise ValidationError({"outcome": f"{found.label} models one of {', '.join(outcomes)}"})
    records = found.records(project, outcome)
    if len(records) < 3:
        raise ValidationError({"step": f"{project.code} has {len(records)} {found.label.lower()} records with every "
                                       "parameter and the outcome; a model needs at least 3"})
    parameters = []
    for name, _label in found.parameters:
        values = [record.x[name] for record in records]
        low, high = (bounds or {}).get(name, (None, None))
        if low is None or high is None:
            span = (max(values) - min(values)) or max(abs(max(values)), 1.0)
            low = min(values) - 0.1 * span if low is None else low
            high = max(values) + 0.1 * span if high is None else high
        if not high > low:
            raise ValidationError({f"{name}_high": "must be greater than the lower bound"})
        if min(values) < low or max(values) > high:
            raise ValidationError({f"{name}_low": f"the records span {min(values):g} to {max(values):g}; the bounds "
                                                  "must hold them"})
        parameters.append({"name": name, "low": float(low), "high": float(high)})
    return {
        "step": step, "outcome": outcome, "outcome_label": outcomes[outcome][0], "project": project.code,
        "records": [record.code for record in records],
        "parameters": parameters,
        "observations": [{"x": record.x, "y": record.y} for record in records],
        "objective": objective or outcomes[outcome][1], "count": int(count), "seed": int(seed),
    }


def validate_design(data: Mapping[str, Any]) -> dict[str, Any]:
    inputs = Inputs(data)
    inputs.text("step", max_length=40)
    inputs.text("outcome", max_length=60)
    inputs.text("outcome_label", max_length=120)
    inputs.text("project", max_length=40)
    codes = inputs.raw("records")
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise ModelInputError("records", "must be a list of record codes")
    for key in MODEL_KEYS:
        inputs.raw(key, default=None)
    inputs.finish()
    read_problem({key: data[key] for key in MODEL_KEYS if key in data})
    return dict(data)


def design_submit(*, user: User, **kwargs) -> Job:
    return job_submit(kind=DESIGN_SPACE, inputs=design_inputs(**kwargs), user=user)


def _most_influential(model: DesignModel) -> tuple[int, int]:
    """The two parameters with the shortest fitted length scales (the outcome changes most along them)."""
    scales = np.atleast_1d(model.gp.kernel_.k1.k2.length_scale)
    order = list(np.argsort(scales))
    return (int(order[0]), int(order[1])) if len(order) > 1 else (0, 0)


def run_design(context: JobContext) -> JobOutput:
    data = validate_design(context.inputs)
    parameters, x, y, objective, count, seed = read_problem({key: data[key] for key in MODEL_KEYS if key in data})
    context.progress(10, f"fitting a Gaussian process to {y.size} records")
    model = fit_design_model(parameters, x, y, objective=objective, seed=seed)
    context.progress(40, "choosing the next experiments by expected improvement")
    proposals = suggest(model, count, seed=seed)
    context.progress(60, "cross-validating")
    rmse = cross_validated_rmse(model)
    fixed_names, notes = caveats(parameters, x)
    best = model.best_index
    result = {
        "suggestions": proposals,
        "best_observed": {"x": {p.name: float(x[best, i]) for i, p in enumerate(parameters)}, "y": float(y[best]),
                          "code": data["records"][best] if best < len(data["records"]) else ""},
        "cross_validated_rmse": rmse, "observations": int(y.size), "parameters_not_varied": fixed_names,
        "caveats": notes, "kernel": str(model.gp.kernel_), "records": data["records"],
    }
    context.progress(75, "drawing the maps")
    files: dict[str, bytes] = {}
    label = data["outcome_label"]
    title = f"{label}: Gaussian process on {y.size} records of {data['project']} ({objective})"
    fixed = x[best]
    proposals_x = np.array([[s["x"][p.name] for p in parameters] for s in proposals])
    if len(parameters) > 1 and not notes:
        files.update(figure_files(design_map_figure(model, axes_pair=_most_influential(model), fixed=fixed,
                                                    records_x=x, proposals_x=proposals_x, outcome_label=label,
                                                    title=title), "design_map"))
    files.update(figure_files(design_slices_figure(model, fixed=fixed, records_x=x, records_y=y, outcome_label=label,
                                                   title=title), "design_slices"))
    return JobOutput(result=result, files=files)


def describe_design(result: Mapping[str, Any]) -> str:
    rmse = result.get("cross_validated_rmse")
    text = f"{result['observations']} records; leave-one-out error {rmse:.3g}" if rmse is not None else ""
    if result.get("caveats"):
        text += "; " + "; ".join(result["caveats"])
    return text


register_job_kind(DESIGN_SPACE, queue=QUEUE_MODELS, title="Design-space model and next experiments",
                  run=run_design, validate=validate_design, describe=describe_design)


def planned_experiment_create(*, job: Job, index: int, user: User) -> PlannedExperiment:
    """A proposal of a finished design-space run as a planned record, linked to the run (once per proposal).

    Where the step's app makes records of its own from a proposal (a draft housing design), that record is made
    by the app's service in the same transaction and linked too; once it is measured, the step's records include
    it and the next run trains on it."""
    if job.kind != DESIGN_SPACE or job.status != JobStatus.SUCCEEDED or not job.result:
        raise ValidationError({"job": "only a finished design-space run has proposals to plan"})
    proposals = job.result.get("suggestions") or []
    if not isinstance(index, int) or not 0 <= index < len(proposals):
        raise ValidationError({"index": f"choose a proposal between 1 and {len(proposals)}"})
    project = Project.objects.filter(code=job.inputs.get("project")).first()
    if project is None:
        raise ValidationError({"job": "the run's project no longer exists"})
    proposal = proposals[index]
    plan = PlannedExperiment(
        project=project, step=job.inputs["step"], outcome=job.inputs["outcome"], parameters=proposal["x"],
        expected_mean=proposal["mean"], expected_std=proposal["std"], job=job, suggestion_index=index,
        created_by=user,
    )
    plan.full_clean(exclude=["job", "project", "created_by", "record_type", "record_id"])
    if PlannedExperiment.objects.filter(job=job, suggestion_index=index).exists():
        raise ValidationError({"index": f"proposal {index + 1} of job {job.pk} is already planned"})
    step = design_step(plan.step)
    try:
        with transaction.atomic():
            if step is not None and step.plan is not None:
                plan.link_record(step.plan(project=project, user=user, parameters=dict(proposal["x"]),
                                           source=f"design-space run #{job.pk}, proposal {index + 1}"))
            plan.save()
    except IntegrityError:
        raise ValidationError({"index": f"proposal {index + 1} of job {job.pk} is already planned"}) from None
    return plan


def planned_experiment_for_form(*, plan_id: str | None, step: str, user: User) -> PlannedExperiment | None:
    """The open plan a record form was opened from (``?plan=``): of ``step``, in a project the user may see, not yet
    made; ``None`` for anything else, so a stale or foreign link opens an ordinary form."""
    if not plan_id or not str(plan_id).isdigit():
        return None
    return (PlannedExperiment.objects.filter(pk=int(plan_id), step=step, record_id__isnull=True,
                                             project__in=projects_visible_to(user)).select_related("job").first())


@transaction.atomic
def planned_experiment_fulfil(*, plan: PlannedExperiment, record) -> PlannedExperiment:
    """Link the record made from a plan (the batch milled with its parameters), once; its measurement then makes it
    one of the step's records, and the next run trains on it."""
    locked = PlannedExperiment.objects.select_for_update().get(pk=plan.pk)
    if locked.record_id is not None:
        raise ValidationError({"plan": f"plan #{locked.pk} is already made"})
    locked.link_record(record)
    locked.save(update_fields=["record_type", "record_id", "record_label", "record_url"])
    return locked
