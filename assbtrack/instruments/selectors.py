"""Reads of the instruments app: calibration states, lists with fixed query counts, readings as arrays, exposure.

Calibration state on a day: the newest calibration made on or before that day decides; the equipment is
in calibration if that calibration's due date is that day or later, overdue if earlier, and "never
calibrated" if there is none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.apps import apps
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.plausibility import Implausible

from .choices import CalibrationState
from .exposure import Excursion, Exposure, dew_point_from_vapour_pressure_c, exposure
from .models import Calibration, CyclerChannel, EnvironmentLog, Equipment, ExcursionFlag, SensorReading, StorageEvent

MAX_OR_WINDOWS = 50  # beyond this many separate windows one envelope query is cheaper (and SQLite-safe)


# ------------------------------------------------------------------------------------------ calibration


@dataclass(frozen=True)
class CalibrationStatus:
    state: str
    on: date
    calibrated_on: date | None = None
    due_on: date | None = None

    @property
    def is_ok(self) -> bool:
        return self.state == CalibrationState.OK

    @property
    def label(self) -> str:
        return CalibrationState(self.state).label

    def message(self, equipment_name: str) -> str | None:
        """The warning a technician sees when using the equipment, or ``None`` when it is in calibration."""
        if self.state == CalibrationState.OVERDUE:
            return (f"{equipment_name}: calibration was due on {self.due_on:%Y-%m-%d} "
                    f"({(self.on - self.due_on).days} days overdue on {self.on:%Y-%m-%d}). The record is kept and "
                    "flagged; have the equipment calibrated.")
        if self.state == CalibrationState.NEVER:
            return f"{equipment_name}: no calibration on record. The record is kept and flagged."
        return None


def calibration_state_from(calibrations: Iterable[Calibration], on: date) -> CalibrationStatus:
    """The state on ``on`` from a list of calibrations (prefetched or not): pure Python, no query."""
    valid = [c for c in calibrations if c.calibrated_on <= on]
    if not valid:
        return CalibrationStatus(CalibrationState.NEVER, on)
    latest = max(valid, key=lambda c: (c.calibrated_on, c.pk or 0))
    state = CalibrationState.OK if latest.due_on >= on else CalibrationState.OVERDUE
    return CalibrationStatus(state, on, latest.calibrated_on, latest.due_on)


def _as_date(on: date | datetime | None) -> date:
    if on is None:
        return timezone.localdate()
    if isinstance(on, datetime):
        return timezone.localtime(on).date() if timezone.is_aware(on) else on.date()
    return on


def equipment_calibration_state(equipment: Equipment, on: date | datetime | None = None) -> CalibrationStatus:
    """ok / overdue / never on ``on`` (today by default), with the due date; uses prefetched calibrations."""
    return calibration_state_from(equipment.calibrations.all(), _as_date(on))


def calibration_warning(equipment: Equipment | None, on: date | datetime | None = None) -> str | None:
    """The message to show when ``equipment`` is used on ``on``; ``None`` if in calibration (or no equipment)."""
    if equipment is None:
        return None
    return equipment_calibration_state(equipment, on).message(equipment.name)


def calibration_overdue_warning(
    equipment: Equipment | None, on: date | datetime | None = None, field: str = "equipment"
) -> Implausible | None:
    """The warning to confirm when ``equipment`` is used on ``on`` out of calibration (see tracing.plausibility)."""
    if equipment is None:
        return None
    status = equipment_calibration_state(equipment, on)
    if status.state == CalibrationState.OVERDUE:
        return Implausible("calibration_overdue", field,
                           f"{equipment.name} was overdue for calibration (due {status.due_on:%Y-%m-%d}, "
                           f"{(status.on - status.due_on).days} days before {status.on:%Y-%m-%d})")
    if status.state == CalibrationState.NEVER:
        return Implausible("calibration_overdue", field, f"{equipment.name} has no calibration on record")
    return None


def _latest_calibration(field_name: str, on: date) -> Subquery:
    return Subquery(
        Calibration.objects.filter(equipment=OuterRef("pk"), calibrated_on__lte=on)
        .order_by("-calibrated_on", "-id")
        .values(field_name)[:1]
    )


def equipment_list(*, kind: str | None = None, on: date | None = None, include_retired: bool = False) -> QuerySet:
    """Equipment with its latest calibration as of ``on`` annotated (one query), plus its channel count."""
    on = on or timezone.localdate()
    equipment = Equipment.objects.select_related("project").annotate(
        latest_calibrated_on=_latest_calibration("calibrated_on", on),
        latest_due_on=_latest_calibration("due_on", on),
        channel_count=Count("channels", distinct=True),
    )
    if kind:
        equipment = equipment.filter(kind=kind)
    if not include_retired:
        equipment = equipment.filter(retired=False)
    return equipment.order_by("kind", "name")


def annotated_state(equipment: Equipment, on: date | None = None) -> CalibrationStatus:
    """The state of an ``equipment_list`` row, from its annotations (no query)."""
    on = on or timezone.localdate()
    if equipment.latest_due_on is None:
        return CalibrationStatus(CalibrationState.NEVER, on)
    state = CalibrationState.OK if equipment.latest_due_on >= on else CalibrationState.OVERDUE
    return CalibrationStatus(state, on, equipment.latest_calibrated_on, equipment.latest_due_on)


def equipment_overdue(*, on: date | None = None) -> list[tuple[Equipment, CalibrationStatus]]:
    """Equipment in use that is overdue for calibration (or never calibrated), most overdue first."""
    on = on or timezone.localdate()
    rows = [(equipment, annotated_state(equipment, on)) for equipment in equipment_list(on=on)]
    late = [(e, s) for e, s in rows if not s.is_ok]
    late.sort(key=lambda pair: (pair[1].due_on or date.min, pair[0].name))
    return late


def equipment_detail_queryset() -> QuerySet:
    channels = CyclerChannel.objects.order_by("label")
    if hasattr(CyclerChannel, "cycling_tests"):  # the cells app names the channel its cycling tests run on
        channels = channels.prefetch_related(
            Prefetch("cycling_tests", queryset=CyclerChannel.cycling_tests.rel.related_model.objects
                     .select_related("cell__item").order_by("-created_at", "-id"))
        )
    return Equipment.objects.select_related("project", "created_by").prefetch_related(
        "calibrations__created_by", Prefetch("channels", queryset=channels)
    )


def equipment_choices(*kinds: str) -> QuerySet:
    """Equipment a form may offer (not retired), with calibrations prefetched for the warning."""
    equipment = Equipment.objects.filter(retired=False).prefetch_related("calibrations")
    return equipment.filter(kind__in=kinds) if kinds else equipment


def channel_choices() -> QuerySet:
    return CyclerChannel.objects.filter(equipment__retired=False).select_related("equipment").prefetch_related(
        "equipment__calibrations"
    )


# ------------------------------------------------------------------------------------------ equipment uses


@dataclass(frozen=True)
class EquipmentUse:
    """A kind of record that names equipment: how to find its equipment, its time of use and its item code."""

    model: str  # "app_label.ModelName"
    equipment_field: str  # path to the Equipment FK, e.g. "equipment" or "channel__equipment"
    used_at_field: str  # path to a DateTimeField, e.g. "measured_at" or "item__created_at"
    code_field: str  # path to the traced item's code, e.g. "batch__item__code"
    label: str


_USES: dict[str, EquipmentUse] = {}


def register_equipment_use(
    model: str, *, equipment_field: str = "equipment", used_at_field: str, code_field: str, label: str
) -> None:
    """Domain apps declare their records that use equipment (in ``AppConfig.ready``); the QC dashboard lists
    those made while the equipment was out of calibration."""
    _USES[f"{model}:{equipment_field}"] = EquipmentUse(model, equipment_field, used_at_field, code_field, label)


def equipment_uses() -> list[EquipmentUse]:
    return [use for _, use in sorted(_USES.items())]


def records_with_uncalibrated_equipment(*, limit: int = 20) -> list[dict]:
    """Records made with equipment out of calibration on the day of use, newest first (one query per kind)."""
    found: list[dict] = []
    for use in equipment_uses():
        model = apps.get_model(use.model)
        latest_due = Subquery(
            Calibration.objects.filter(equipment=OuterRef(use.equipment_field), calibrated_on__lte=OuterRef("used_on"))
            .order_by("-calibrated_on", "-id")
            .values("due_on")[:1]
        )
        rows = (
            model.objects.filter(**{f"{use.equipment_field}__isnull": False})
            .annotate(used_on=TruncDate(use.used_at_field))
            .annotate(due_on=latest_due)
            .filter(Q(due_on__isnull=True) | Q(due_on__lt=F("used_on")))
            .order_by("-used_on")
            .values("used_on", "due_on", code=F(use.code_field), equipment_name=F(f"{use.equipment_field}__name"))
        )[:limit]
        for row in rows:
            state = CalibrationState.NEVER if row["due_on"] is None else CalibrationState.OVERDUE
            found.append({**row, "label": use.label, "state": state, "state_label": CalibrationState(state).label})
    found.sort(key=lambda row: row["used_on"], reverse=True)
    return found[:limit]


# ------------------------------------------------------------------------------------------ readings


def _merged_windows(windows: Sequence[tuple[datetime, datetime]], pad: timedelta) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted((start - pad, end + pad) for start, end in windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    if len(merged) > MAX_OR_WINDOWS:
        merged = [(merged[0][0], max(end for _, end in merged))]
    return merged


def readings_for_windows(
    windows_by_room: dict[Equipment, Sequence[tuple[datetime, datetime]]],
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each room, (time_s, dew_point_c) arrays of the readings in its windows, padded by the room's largest
    sensor gap so that the dew point at a window's edge can be interpolated. One query for all rooms."""
    condition = Q()
    for room, windows in windows_by_room.items():
        if not windows:
            continue
        for start, end in _merged_windows(windows, timedelta(seconds=room.sensor_max_gap_s)):
            condition |= Q(room_id=room.pk, time__gte=start, time__lte=end)
    result: dict[int, tuple[np.ndarray, np.ndarray]] = {room.pk: (np.empty(0), np.empty(0)) for room in windows_by_room}
    if not condition:
        return result
    rows = SensorReading.objects.filter(condition).order_by("room_id", "time")
    rows = rows.values_list("room_id", "time", "dew_point_c")
    grouped: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for room_id, time, dew_point_c in rows:
        times, dews = grouped[room_id]
        times.append(time.timestamp())
        dews.append(dew_point_c)
    for room_id, (times, dews) in grouped.items():
        result[room_id] = (np.asarray(times, dtype=float), np.asarray(dews, dtype=float))
    return result


def readings_arrays(room: Equipment, windows: Sequence[tuple[datetime, datetime]]) -> tuple[np.ndarray, np.ndarray]:
    return readings_for_windows({room: windows})[room.pk]


def room_readings_recent(room: Equipment, *, hours: float = 48) -> list[SensorReading]:
    since = timezone.now() - timedelta(hours=hours)
    return list(SensorReading.objects.filter(room=room, time__gte=since).order_by("-time")[:500])


# ------------------------------------------------------------------------------------------ exposure


def _aware(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True)
class DatedExcursion:
    room: Equipment
    started_at: datetime
    ended_at: datetime
    worst_dew_point_c: float
    excess_c_h: float
    limit_c: float

    @property
    def duration_h(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() / 3600.0

    @classmethod
    def of(cls, room: Equipment, excursion: Excursion) -> DatedExcursion:
        return cls(room, _aware(excursion.start_s), _aware(excursion.end_s), excursion.worst_dew_point_c,
                   excursion.excess_c_h, room.dew_point_limit_c)


@dataclass
class RoomExposure:
    room: Equipment
    events: list[StorageEvent]
    exposure: Exposure


@dataclass
class ItemExposure:
    """An item's exposure over all its open/close events, per room and in total."""

    item: TracedItem
    events: list[StorageEvent] = field(default_factory=list)
    rooms: list[RoomExposure] = field(default_factory=list)
    excursions: list[DatedExcursion] = field(default_factory=list)
    computed_at: datetime | None = None

    @property
    def open_event(self) -> StorageEvent | None:
        return next((event for event in self.events if event.closed_at is None), None)

    @property
    def has_events(self) -> bool:
        return bool(self.events)

    def _sum(self, name: str) -> float:
        return float(sum(getattr(part.exposure, name) for part in self.rooms))

    @property
    def open_h(self) -> float:
        return self._sum("open_h")

    @property
    def below_limit_h(self) -> float:
        return self._sum("below_limit_h")

    @property
    def above_limit_h(self) -> float:
        return self._sum("above_limit_h")

    @property
    def no_data_h(self) -> float:
        return self._sum("no_data_h")

    @property
    def excess_c_h(self) -> float:
        return self._sum("excess_c_h")

    @property
    def vapour_pressure_pa_h(self) -> float:
        return self._sum("vapour_pressure_pa_h")

    @property
    def worst_dew_point_c(self) -> float | None:
        worst = [part.exposure.worst_dew_point_c for part in self.rooms if part.exposure.worst_dew_point_c is not None]
        return max(worst) if worst else None

    @property
    def covered_h(self) -> float:
        return self.below_limit_h + self.above_limit_h

    @property
    def mean_vapour_pressure_pa(self) -> float | None:
        return self.vapour_pressure_pa_h / self.covered_h if self.covered_h > 0 else None

    @property
    def effective_dew_point_c(self) -> float | None:
        """The constant dew point giving the same water-vapour dose over the covered time (inverse Magnus)."""
        mean = self.mean_vapour_pressure_pa
        return dew_point_from_vapour_pressure_c(mean) if mean else None


def item_exposure(item: TracedItem, *, now: datetime | None = None) -> ItemExposure:
    """The exposure of ``item`` from its storage events and its rooms' readings: two queries, vectorised maths.

    An event still open counts up to ``now``; time without readings is reported as ``no_data_h``.
    """
    return item_exposure_between(item, now=now)


def item_exposure_between(
    item: TracedItem, *, start: datetime | None = None, end: datetime | None = None, now: datetime | None = None
) -> ItemExposure:
    """The exposure of ``item`` counting only its open time between ``start`` and ``end`` (e.g. between two
    conductivity measurements of an exposure study)."""
    now = now or timezone.now()
    full = ItemExposure(item=item, computed_at=now)
    full.events = list(StorageEvent.objects.filter(item=item).select_related("room").order_by("opened_at", "id"))
    low, high = start or datetime.min.replace(tzinfo=UTC), end or now
    clipped: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    rooms: dict[int, Equipment] = {}
    events_by_room: dict[int, list[StorageEvent]] = defaultdict(list)
    for event in full.events:
        begin, finish = max(event.opened_at, low), min(event.closed_at or now, high)
        if finish > begin:
            clipped[event.room_id].append((begin, finish))
            rooms[event.room_id] = event.room
            events_by_room[event.room_id].append(event)
    arrays = readings_for_windows({rooms[room_id]: windows for room_id, windows in clipped.items()})
    for room_id, windows in clipped.items():
        room = rooms[room_id]
        time_s, dew_point_c = arrays[room_id]
        room_exposure = exposure(
            time_s, dew_point_c, [(a.timestamp(), b.timestamp()) for a, b in windows],
            limit_c=room.dew_point_limit_c if room.dew_point_limit_c is not None else 0.0,
            max_gap_s=room.sensor_max_gap_s,
        )
        full.rooms.append(RoomExposure(room=room, events=events_by_room[room_id], exposure=room_exposure))
        full.excursions.extend(DatedExcursion.of(room, excursion) for excursion in room_exposure.excursions)
    full.rooms.sort(key=lambda part: part.room.name)
    full.excursions.sort(key=lambda excursion: excursion.started_at)
    return full


# ------------------------------------------------------------------------------------------ flags and logs


def flags_recent(*, limit: int = 20) -> list[ExcursionFlag]:
    return list(ExcursionFlag.objects.select_related("item", "room").order_by("-started_at", "-id")[:limit])


def items_exposed_during(room: Equipment, start: datetime, end: datetime) -> QuerySet[TracedItem]:
    """Items open in ``room`` at any time between ``start`` and ``end``."""
    events = StorageEvent.objects.filter(room=room, opened_at__lt=end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gt=start)
    )
    return TracedItem.objects.filter(pk__in=events.values("item_id")).order_by("code")


def room_logs(room: Equipment, *, limit: int = 20) -> list[EnvironmentLog]:
    return list(room.environment_logs.select_related("uploaded_by")[:limit])


def room_open_events(room: Equipment) -> list[StorageEvent]:
    return list(room.storage_events.filter(closed_at__isnull=True).select_related("item", "opened_by"))


def room_flags(room: Equipment, *, limit: int = 50) -> list[ExcursionFlag]:
    return list(room.excursion_flags.select_related("item").order_by("-started_at", "-id")[:limit])
