"""Reads of the materials app that pages, admin, API, QC and plots share.

The conductivity of a batch is the current (not superseded) measurement at 25 °C or, failing that,
the one nearest to it; ties go to the latest. In Python it reads the batch's prefetched measurements
(no query in a list); in SQL it is the ``conductivity_ms_per_cm`` annotation of ``batches_annotated``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, F, FloatField, Func, OuterRef, Prefetch, QuerySet, Subquery, Value

from assbtrack.access.models import Project
from assbtrack.access.selectors import scope_to_user
from assbtrack.jobs.plots import plot_jobs_query
from assbtrack.tracing.models import TracedItem
from materials.conductivity import MIN_ARRHENIUS_POINTS
from materials.milling import MIN_DISTINCT_TIMES, MIN_POINTS

from .choices import (
    ARRHENIUS_PLOT,
    BATCH_PLOT_KINDS,
    COMPOSITION_PLOT_KINDS,
    CONTROL_CHART,
    EXPOSURE_PLOT,
    MILLING_PLOT,
    SynthesisRoute,
)
from .models import (
    ROOM_TEMPERATURE_C,
    ConditioningStep,
    ConductivityMeasurement,
    ConductivitySpec,
    DryRoomExposure,
    MaterialLot,
    SynthesisBatch,
)

# QC compares the room-temperature conductivity with the spec; a value measured further from 25 °C
# than this says more about the temperature than about the batch.
QC_TEMPERATURE_WINDOW_C = 5.0


# ------------------------------------------------------------------------------- batch conductivity


def _nearest_key(measurement: ConductivityMeasurement) -> tuple:
    return (abs(measurement.temperature_c - ROOM_TEMPERATURE_C), -measurement.measured_at.timestamp(), -measurement.pk)


def current_measurements(batch: SynthesisBatch) -> list[ConductivityMeasurement]:
    """The batch's measurements that no correction replaced (uses a prefetch when there is one)."""
    return [m for m in batch.measurements.all() if m.superseded_by_id is None]


def pristine_measurements(batch: SynthesisBatch) -> list[ConductivityMeasurement]:
    """Current measurements of the batch as made: those taken after a dry-room exposure describe the
    exposed powder, not the batch, so they count for the exposure study only."""
    exposed = {exposure.measurement_after_id for exposure in batch.exposures.all()}
    return [m for m in current_measurements(batch) if m.pk not in exposed]


def batch_room_measurement(batch: SynthesisBatch) -> ConductivityMeasurement | None:
    measurements = pristine_measurements(batch)
    return min(measurements, key=_nearest_key) if measurements else None


def batch_conductivity_ms_per_cm(batch: SynthesisBatch) -> float | None:
    """The batch's conductivity: its current measurement at 25 °C or nearest to it, latest first.

    Measurements of powder after a dry-room exposure study are left out (see ``pristine_measurements``).
    """
    if "conductivity_ms_per_cm" in batch.__dict__:  # annotated by ``batches_annotated``
        return batch.__dict__["conductivity_ms_per_cm"]
    measurement = batch_room_measurement(batch)
    return measurement.conductivity_ms_per_cm if measurement is not None else None


def _room_measurement_subquery() -> QuerySet[ConductivityMeasurement]:
    distance = Func(F("temperature_c") - Value(ROOM_TEMPERATURE_C), function="ABS", output_field=FloatField())
    return (
        ConductivityMeasurement.objects.filter(batch=OuterRef("pk"), superseded_by__isnull=True)
        .filter(~Exists(DryRoomExposure.objects.filter(measurement_after=OuterRef("pk"))))
        .annotate(distance_c=distance)
        .order_by("distance_c", "-measured_at", "-id")
    )


def batches_annotated(queryset: QuerySet[SynthesisBatch] | None = None) -> QuerySet[SynthesisBatch]:
    """Batches with ``conductivity_ms_per_cm`` and ``conductivity_temperature_c`` of their room measurement."""
    queryset = SynthesisBatch.objects.all() if queryset is None else queryset
    nearest = _room_measurement_subquery()
    return queryset.annotate(
        conductivity_ms_per_cm=Subquery(nearest.values("conductivity_ms_per_cm")[:1], output_field=FloatField()),
        conductivity_temperature_c=Subquery(nearest.values("temperature_c")[:1], output_field=FloatField()),
        conductivity_measured_at=Subquery(nearest.values("measured_at")[:1]),
    )


# ----------------------------------------------------------------------------------------- lists


def lots_visible_to(user: User | AnonymousUser) -> QuerySet[MaterialLot]:
    lots = MaterialLot.objects.select_related("item", "item__project")
    return scope_to_user(lots, user, project_field="item__project")


def batches_visible_to(user: User | AnonymousUser) -> QuerySet[SynthesisBatch]:
    batches = batches_annotated(SynthesisBatch.objects.select_related("item", "item__project"))
    return scope_to_user(batches, user, project_field="item__project")


def batch_detail_queryset() -> QuerySet[SynthesisBatch]:
    """Everything a batch page shows, in a fixed number of queries whatever the number of rows."""
    return SynthesisBatch.objects.select_related(
        "item", "item__project", "item__created_by", "equipment"
    ).prefetch_related(
        "equipment__calibrations",
        Prefetch("steps", queryset=ConditioningStep.objects.select_related("created_by").order_by("position")),
        Prefetch(
            "measurements",
            queryset=ConductivityMeasurement.objects.select_related("created_by", "equipment")
            .prefetch_related("equipment__calibrations").order_by("-measured_at", "-id"),
        ),
        Prefetch(
            "exposures",
            queryset=DryRoomExposure.objects.select_related("measurement_before", "measurement_after", "created_by"),
        ),
    )


def batch_get_for_user(code: str, user: User | AnonymousUser) -> SynthesisBatch | None:
    queryset = scope_to_user(batch_detail_queryset(), user, project_field="item__project")
    return queryset.filter(item__code=(code or "").strip().upper()).first()


def lots_available(project: Project | None = None, *, limit: int = 200) -> list[MaterialLot]:
    """Lots with mass left and not held, newest first: the choices offered on the batch form."""
    lots = MaterialLot.objects.select_related("item", "item__project").filter(
        item__quantity__gt=F("item__quantity_used"), item__status__in=("draft", "released")
    )
    if project is not None:
        lots = lots.filter(item__project=project)
    return list(lots[:limit])


def lot_items_by_code(codes: Iterable[str], user: User | AnonymousUser) -> dict[str, TracedItem]:
    """Traced items for typed or scanned codes, in one query, among those ``user`` may see."""
    wanted = {code.strip().upper() for code in codes if code and code.strip()}
    if not wanted:
        return {}
    items = scope_to_user(TracedItem.objects.select_related("project"), user).filter(code__in=wanted)
    return {item.code: item for item in items}


# -------------------------------------------------------------------------------------------- QC


def spec_for(project_id: int, composition: str) -> ConductivitySpec | None:
    return ConductivitySpec.objects.filter(project_id=project_id, composition=composition).first()


def batch_qc_problems(batch: SynthesisBatch, *, spec: ConductivitySpec | None | Any = ...) -> list[str]:
    """Why ``batch`` fails its release QC (empty when it passes): a spec, a room-temperature σ at or above it."""
    if spec is ...:
        spec = spec_for(batch.item.project_id, batch.composition)
    if spec is None:
        return [
            f"no conductivity specification is set for {batch.composition} in project {batch.item.project.code}; "
            "a scientist sets it in the admin (Conductivity specifications)"
        ]
    measurement = batch_room_measurement(batch)
    if measurement is None:
        return [f"no conductivity measurement yet: record one at 25 °C (spec ≥ {spec.minimum_ms_per_cm:g} mS/cm)"]
    if abs(measurement.temperature_c - ROOM_TEMPERATURE_C) > QC_TEMPERATURE_WINDOW_C:
        return [
            f"the measurement nearest 25 °C was taken at {measurement.temperature_c:g} °C; QC needs one between "
            f"{ROOM_TEMPERATURE_C - QC_TEMPERATURE_WINDOW_C:g} and {ROOM_TEMPERATURE_C + QC_TEMPERATURE_WINDOW_C:g} °C"
        ]
    if measurement.conductivity_ms_per_cm < spec.minimum_ms_per_cm:
        return [
            f"conductivity {measurement.conductivity_ms_per_cm:.3g} mS/cm at {measurement.temperature_c:g} °C "
            f"(measured {measurement.measured_at:%Y-%m-%d}) is below the specification "
            f"{spec.minimum_ms_per_cm:g} mS/cm for {batch.composition}"
        ]
    return []


def sse_batch_release_check(item: TracedItem) -> list[str]:
    """The release check the core runs for an SSE batch."""
    batch = batch_detail_queryset().filter(pk=item.pk).first()
    if batch is None:
        return [f"{item.code} has no synthesis record"]
    return batch_qc_problems(batch)


# ---------------------------------------------------------------------------------- compositions


def compositions_summary(user: User | AnonymousUser) -> list[dict[str, Any]]:
    """(project, composition) pairs with their batch count, for the compositions index."""
    from django.db.models import Count, Max

    rows = (
        scope_to_user(SynthesisBatch.objects.all(), user, project_field="item__project")
        .order_by()
        .values("item__project__code", "composition", "sse_class")
        .annotate(batch_count=Count("item"), last_made=Max("item__created_at"))
        .order_by("composition", "item__project__code")
    )
    return list(rows)


def composition_batches(project: Project, composition: str) -> list[SynthesisBatch]:
    """Every batch of ``composition`` in ``project``, oldest first, with its measurements prefetched."""
    return list(
        batch_detail_queryset()
        .filter(item__project=project, composition=composition)
        .order_by("item__created_at", "item_id")
    )


def arrhenius_points(batch: SynthesisBatch) -> list[dict[str, float]]:
    """Current measurements averaged per temperature (repeat pellets at one temperature are one point)."""
    by_temperature: dict[float, list[float]] = defaultdict(list)
    for measurement in pristine_measurements(batch):
        by_temperature[round(measurement.temperature_c, 1)].append(measurement.conductivity_ms_per_cm)
    return [
        {"temperature_c": temperature, "conductivity_ms_per_cm": sum(values) / len(values)}
        for temperature, values in sorted(by_temperature.items())
    ]


# ------------------------------------------------------------------------------------------- plots


def arrhenius_plot_inputs(batch: SynthesisBatch) -> dict[str, Any] | None:
    """Inputs of the batch's Arrhenius plot job, or ``None`` while it has fewer than 3 temperatures."""
    points = arrhenius_points(batch)
    if len(points) < MIN_ARRHENIUS_POINTS:
        return None
    return {"title": f"Arrhenius plot of {batch.item.code} ({batch.composition})", "points": points}


def exposure_plot_inputs(batch: SynthesisBatch) -> dict[str, Any] | None:
    exposures = sorted(batch.exposures.all(), key=lambda exposure: (exposure.exposed_at, exposure.pk))
    if not exposures:
        return None
    return {
        "title": f"Conductivity retention after dry-room exposure: {batch.item.code} ({batch.composition})",
        "points": [
            {
                "label": f"{exposure.dew_point_c:g} °C, {exposure.duration_h:g} h",
                "duration_h": exposure.duration_h,
                "dew_point_c": exposure.dew_point_c,
                "retention_percent": exposure.retention_percent,
            }
            for exposure in exposures
        ],
    }


def milling_plot_inputs(
    project: Project, composition: str, route: str, batches: Iterable[SynthesisBatch]
) -> dict[str, Any] | None:
    """Figure 2b from real batches: each batch of this composition and route with a conductivity is a point."""
    points = []
    for batch in batches:
        if batch.route != route or batch.composition != composition or batch.item.status == "rejected":
            continue
        conductivity = batch_conductivity_ms_per_cm(batch)
        if conductivity is not None:
            points.append({"milling_time_h": batch.milling_time_h, "conductivity_ms_per_cm": conductivity})
    if len(points) < MIN_POINTS or len({p["milling_time_h"] for p in points}) < MIN_DISTINCT_TIMES:
        return None
    points.sort(key=lambda p: (p["milling_time_h"], p["conductivity_ms_per_cm"]))
    return {
        "title": f"{composition}, {SynthesisRoute(route).label.lower()} ({project.code}): conductivity against "
        "milling time",
        "project": project.code,
        "composition": composition,
        "route": route,
        "points": points,
    }


def control_chart_inputs(
    project: Project, composition: str, batches: Iterable[SynthesisBatch], spec: ConductivitySpec | None
) -> dict[str, Any] | None:
    if spec is None:
        return None
    points = []
    for batch in batches:
        measurement = batch_room_measurement(batch)
        if measurement is not None and batch.composition == composition:
            points.append(
                {
                    "measured_at": measurement.measured_at.isoformat(),
                    "conductivity_ms_per_cm": measurement.conductivity_ms_per_cm,
                    "label": batch.item.code,
                }
            )
    if not points:
        return None
    points.sort(key=lambda p: (p["measured_at"], p["label"]))
    return {
        "title": f"{composition} batches in {project.code} against the specification",
        "project": project.code,
        "composition": composition,
        "spec_ms_per_cm": spec.minimum_ms_per_cm,
        "points": points,
    }


TREND_POINTS = 1000


def conductivity_trend_inputs(project: Project, *, limit: int = TREND_POINTS) -> dict[str, Any] | None:
    """The project's room-temperature conductivity of its latest ``limit`` measured batches over time, by
    composition, with each composition's specification: what the dashboard's trend plot draws."""
    rows = list(
        batches_annotated(SynthesisBatch.objects.filter(item__project=project))
        .filter(conductivity_ms_per_cm__isnull=False)
        .order_by("-conductivity_measured_at", "-item_id")
        .values_list("item__code", "composition", "conductivity_ms_per_cm", "conductivity_measured_at")[:limit]
    )
    if not rows:
        return None
    specs = dict(ConductivitySpec.objects.filter(project=project).values_list("composition", "minimum_ms_per_cm"))
    points = [
        {"measured_at": measured_at.isoformat(), "conductivity_ms_per_cm": sigma, "composition": composition,
         "label": code}
        for code, composition, sigma, measured_at in reversed(rows)
    ]
    compositions = sorted({point["composition"] for point in points})
    return {
        "title": f"Batch conductivity over time, {project.code}",
        "project": project.code,
        "specs": {composition: specs[composition] for composition in compositions if composition in specs},
        "points": points,
    }


def batch_plot_jobs(batch: SynthesisBatch, *, limit: int = 20) -> list[Any]:
    return list(plot_jobs_query().filter(subject_id=batch.pk, kind__in=BATCH_PLOT_KINDS)[:limit])


def composition_plot_jobs(project: Project, composition: str, *, limit: int = 20) -> list[Any]:
    return list(
        plot_jobs_query().filter(
            kind__in=COMPOSITION_PLOT_KINDS, subject__isnull=True,
            inputs__project=project.code, inputs__composition=composition,
        )[:limit]
    )


def batch_plot_specs(batch: SynthesisBatch) -> list[tuple[str, str, dict[str, Any] | None, str]]:
    return [
        (ARRHENIUS_PLOT, "Arrhenius plot", arrhenius_plot_inputs(batch),
         "needs current measurements at 3 or more temperatures"),
        (EXPOSURE_PLOT, "Conductivity retention after dry-room exposure", exposure_plot_inputs(batch),
         "needs a dry-room exposure study"),
    ]


def composition_plot_specs(
    project: Project, composition: str, batches: list[SynthesisBatch], spec: ConductivitySpec | None
) -> list[tuple[str, str, dict[str, Any] | None, str]]:
    routes = sorted({batch.route for batch in batches}) or [SynthesisRoute.MECHANOCHEMICAL.value]
    specs = [
        (MILLING_PLOT, f"Conductivity against milling time ({SynthesisRoute(route).label.lower()})",
         milling_plot_inputs(project, composition, route, batches),
         "needs 3 or more measured batches of this route at 2 or more milling times")
        for route in routes
    ]
    specs.append(
        (CONTROL_CHART, "Control chart against the specification", control_chart_inputs(project, composition, batches,
                                                                                       spec),
         "needs a conductivity specification and a measured batch")
    )
    return specs
