"""Writes of process quality: submit the charts a new record touches, store a chart's flags, set a baseline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from assbtrack.domain.spc import MIN_VALUES
from assbtrack.jobs.plots import plot_submit
from assbtrack.tracing.models import TracedItem

from .models import MIN_BASELINE_COUNT, ControlFlag, ControlSeries
from .registry import QcSeriesData, qc_sources

SPC_CHART = "spc_chart"


def chart_inputs(data: QcSeriesData, series: ControlSeries | None) -> dict[str, Any] | None:
    """What the chart job draws now (``None`` below 8 records: no limits can be trusted yet)."""
    if len(data.points) < MIN_VALUES:
        return None
    wanted = series.effective_baseline_count if series is not None else ControlSeries().effective_baseline_count
    return {
        "series": data.key,
        "title": data.title,
        "value_label": data.value_label,
        "baseline_count": max(MIN_VALUES, min(wanted, len(data.points))),
        "points": [
            {"item_id": p.item_id, "code": p.code, "measured_at": p.measured_at.isoformat(), "value": p.value}
            for p in data.points
        ],
    }


def control_series_ensure(data: QcSeriesData) -> ControlSeries:
    series, created = ControlSeries.objects.get_or_create(
        key=data.key, defaults={"title": data.title, "unit": data.unit, "project_id": data.project_id}
    )
    if not created and (series.title != data.title or series.unit != data.unit):
        ControlSeries.objects.filter(pk=series.pk).update(title=data.title, unit=data.unit)
    return series


def control_charts_submit(*, items: list[TracedItem], user: User | None) -> list:
    """Chart (on a worker) every series the items belong to; unchanged series cost no new job."""
    seen: set[str] = set()
    jobs = []
    for item in items:
        for source in qc_sources():
            for data in source.series_for_item(item):
                if data.key in seen:
                    continue
                seen.add(data.key)
                series = control_series_ensure(data)
                inputs = chart_inputs(data, series)
                if inputs is None:
                    continue
                try:
                    jobs.append(plot_submit(kind=SPC_CHART, inputs=inputs, user=user))
                except ValidationError:
                    continue  # a baseline that never moves has no limits: the SPC page says so
    return jobs


def control_charts_refresh_on_commit(*, item: TracedItem, user: User | None) -> None:
    """After the write commits, chart the item's series: a transaction that records many measurements (an
    import) sends one chart per series, not one per row."""
    connection = transaction.get_connection()
    hook = getattr(connection, "_assbtrack_spc_hook", None)
    # A rolled-back transaction drops its hooks: the pending items then belong to no commit and start afresh.
    registered = hook is not None and any(entry[1] is hook for entry in connection.run_on_commit)
    if not registered:
        connection._assbtrack_spc_pending = {}
    connection._assbtrack_spc_pending[item.pk] = (item, user)
    if registered:
        return

    def submit() -> None:
        items = list(connection._assbtrack_spc_pending.values())
        connection._assbtrack_spc_pending = {}
        connection._assbtrack_spc_hook = None
        if items:
            control_charts_submit(items=[one for one, _ in items], user=items[0][1])

    connection._assbtrack_spc_hook = submit
    transaction.on_commit(submit)


@transaction.atomic
def control_flags_replace(*, series_key: str, job_id: int, inputs: Mapping[str, Any], result: Mapping[str, Any]):
    """Store a finished chart's flags as the series' flags, unless a later chart of it already did."""
    series = ControlSeries.objects.select_for_update().filter(key=series_key).first()
    if series is None:
        raise ValidationError({"series": f"no control series {series_key}"})
    if series.chart_job_id is not None and series.chart_job_id > job_id:
        return series  # a newer chart's flags stand
    points = inputs["points"]
    ControlFlag.objects.filter(series=series).delete()
    z_values = result["z"]
    ControlFlag.objects.bulk_create([
        ControlFlag(
            series=series, item_id=points[v["index"]]["item_id"], rule=v["rule"], value=points[v["index"]]["value"],
            z=z_values[v["index"]], position=v["index"] + 1,
            measured_at=parse_datetime(points[v["index"]]["measured_at"]), job_id=job_id,
        )
        for v in result["violations"]
    ])
    series.chart_job_id = job_id
    series.center, series.sigma, series.points = result["center"], result["sigma"], len(points)
    series.save(update_fields=["chart_job", "center", "sigma", "points", "updated_at"])
    return series


def control_baseline_set(*, series: ControlSeries, baseline_count: Any, user: User) -> ControlSeries:
    """The scientist's baseline: how many of the first records set the limits (empty: the default 20)."""
    if baseline_count in (None, ""):
        count = None
    else:
        try:
            count = int(baseline_count)
        except (TypeError, ValueError):
            raise ValidationError({"baseline_count": "must be a whole number"}) from None
        if count < MIN_BASELINE_COUNT:
            raise ValidationError({"baseline_count": f"must be at least {MIN_BASELINE_COUNT} records"})
        if count > 10_000:
            raise ValidationError({"baseline_count": "must be at most 10000 records"})
    with transaction.atomic():
        locked = ControlSeries.objects.select_for_update().get(pk=series.pk)
        locked.baseline_count = count
        locked.baseline_set_by = user
        locked.save(update_fields=["baseline_count", "baseline_set_by", "updated_at"])
        flag = locked.flags.select_related("item").first()
        item = flag.item if flag is not None else None
    if item is None:
        item = _any_item_of(locked)
    if item is not None:
        control_charts_submit(items=[item], user=user)
    return locked


def _any_item_of(series: ControlSeries) -> TracedItem | None:
    """A record of the series, to gather its points again (from the latest chart's inputs)."""
    job = series.chart_job
    if job is None or not job.inputs.get("points"):
        return None
    return TracedItem.objects.filter(pk=job.inputs["points"][-1]["item_id"]).first()
