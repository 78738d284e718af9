"""Every write of the instruments app: equipment, channels, calibrations, sensor logs, storage events, flags.

Services take keyword-only arguments, run in one transaction and raise ``ValidationError`` keyed by the
form field. Using equipment is never refused for its calibration: ``calibration_warning`` gives the
message a form shows, and the records are flagged on their pages and on the QC dashboard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assbtrack.access.models import Project
from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.refusals import full_clean_fields as _full_clean
from assbtrack.tracing.values import number_value

from .choices import DEFAULT_DEW_POINT_LIMIT_C, ROOM_KINDS, EquipmentKind
from .exposure import exposure
from .models import (
    Calibration,
    CyclerChannel,
    EnvironmentLog,
    Equipment,
    ExcursionFlag,
    SensorReading,
    StorageEvent,
)
from .selectors import readings_arrays
from .sensorlog import read_sensor_csv

READING_BATCH = 2000
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of tablets and servers differ a little


# ------------------------------------------------------------------------------------------ equipment


@transaction.atomic
def equipment_create(
    *,
    user: User,
    kind: str,
    name: str,
    location: str = "",
    serial_number: str = "",
    make_model: str = "",
    project: Project | None = None,
    dew_point_limit_c: float | None = None,
    sensor_max_gap_min: float | None = None,
    notes: str = "",
) -> Equipment:
    """A new piece of equipment. A room without a dew-point limit gets the usual one for its kind."""
    if kind not in EquipmentKind.values:
        raise ValidationError({"kind": f"unknown kind {kind!r}"})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "is required"})
    if Equipment.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"there is already equipment called {name!r}"})
    serial_number = (serial_number or "").strip()
    if serial_number and Equipment.objects.filter(kind=kind, serial_number=serial_number).exists():
        raise ValidationError({"serial_number": f"a {EquipmentKind(kind).label.lower()} with this serial exists"})
    limit = number_value(dew_point_limit_c, "dew_point_limit_c", required=False, minimum=-100.0, maximum=30.0)
    if limit is None and kind in ROOM_KINDS:
        limit = DEFAULT_DEW_POINT_LIMIT_C[kind]
    if limit is not None and kind not in ROOM_KINDS:
        raise ValidationError({"dew_point_limit_c": "only dry rooms and gloveboxes have a dew-point limit"})
    gap = number_value(sensor_max_gap_min, "sensor_max_gap_min", required=False, greater_than=0.0,
                       maximum=24 * 60.0)
    equipment = Equipment(
        kind=kind, name=name, location=(location or "").strip(), serial_number=serial_number,
        make_model=(make_model or "").strip(), project=project, dew_point_limit_c=limit,
        sensor_max_gap_min=gap if gap is not None else 30.0, notes=notes or "", created_by=user,
    )
    _full_clean(equipment, exclude=["created_by", "project"])
    equipment._history_user = user
    equipment.save()
    return equipment


@transaction.atomic
def channel_add(*, equipment: Equipment, label: str, user: User, notes: str = "") -> CyclerChannel:
    if equipment.kind != EquipmentKind.CYCLER:
        raise ValidationError({"label": f"{equipment.name} is not a cycler; only cyclers have channels"})
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "is required"})
    if equipment.channels.filter(label=label).exists():
        raise ValidationError({"label": f"{equipment.name} has a channel {label} already"})
    channel = CyclerChannel(equipment=equipment, label=label, notes=notes or "")
    _full_clean(channel, exclude=["equipment"])
    channel._history_user = user
    channel.save()
    return channel


@transaction.atomic
def calibration_add(
    *,
    equipment: Equipment,
    user: User,
    calibrated_on: date,
    due_on: date,
    certificate: UploadedFile | None = None,
    performed_by: str = "",
    notes: str = "",
) -> Calibration:
    """Record a calibration; the newest one (by date) decides whether the equipment is in calibration."""
    errors: dict[str, list[str]] = {}
    if not isinstance(calibrated_on, date):
        errors.setdefault("calibrated_on", []).append("is required (a date)")
    elif calibrated_on > timezone.localdate() + timedelta(days=1):
        errors.setdefault("calibrated_on", []).append("is in the future")
    if not isinstance(due_on, date):
        errors.setdefault("due_on", []).append("is required (a date)")
    elif isinstance(calibrated_on, date) and due_on <= calibrated_on:
        errors.setdefault("due_on", []).append("must be after the calibration date")
    if errors:
        raise ValidationError(errors)
    calibration = Calibration(
        equipment=equipment, calibrated_on=calibrated_on, due_on=due_on, performed_by=(performed_by or "").strip(),
        notes=notes or "", created_by=user,
    )
    if certificate:
        calibration.certificate = certificate
    _full_clean(calibration, exclude=["equipment", "created_by"])
    calibration.save()
    return calibration


def equipment_for_use(equipment: Equipment | None, *, kinds: Iterable[str], field: str) -> Equipment | None:
    """The equipment a record names, checked: of a fitting kind and not retired. Calibration is not checked here:
    out-of-calibration equipment is used with a warning (``selectors.calibration_warning``), never refused."""
    if equipment is None or equipment == "":
        return None
    if not isinstance(equipment, Equipment):
        raise ValidationError({field: "choose equipment from the list"})
    kinds = tuple(kinds)
    if equipment.kind not in kinds:
        names = " or ".join(EquipmentKind(kind).label.lower() for kind in kinds)
        raise ValidationError({field: f"{equipment.name} is a {equipment.get_kind_display().lower()}, not a {names}"})
    if equipment.retired:
        raise ValidationError({field: f"{equipment.name} is retired"})
    return equipment


# ------------------------------------------------------------------------------------------ sensor logs


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone_name": f"unknown time zone {name!r} (e.g. UTC, Europe/Berlin)"}) from None


@transaction.atomic
def environment_log_import(
    *, room: Equipment, user: User, content: bytes, file_name: str, timezone_name: str = "UTC"
) -> EnvironmentLog:
    """Import a room's sensor CSV: all lines or none; readings at times already on record are skipped.

    Refused with every problem listed (``file``: "line 12, dew_point_c: ..."): a file with any bad line,
    the same file twice, a room that is not a dry room or glovebox. Afterwards the excursion flags of the
    items open in the room during the log are recomputed.
    """
    if room.kind not in ROOM_KINDS:
        raise ValidationError({"room": f"{room.name} is not a dry room or glovebox"})
    zone = _zone(timezone_name)
    digest = hashlib.sha256(content).hexdigest()
    earlier = EnvironmentLog.objects.filter(room=room, sha256=digest).first()
    if earlier is not None:
        raise ValidationError(
            {"file": f"this file was imported already for {room.name} on {earlier.uploaded_at:%Y-%m-%d %H:%M}"}
        )
    parsed = read_sensor_csv(content, default_tz=zone)
    if not parsed.ok:
        messages = [
            f"line {line}{', ' + column if column else ''}: {reason}" for line, column, reason in parsed.problems
        ]
        if parsed.more_problems:
            messages.append(f"… and {parsed.more_problems} more problems")
        raise ValidationError({"file": messages})
    times = [reading.time for reading in parsed.readings]
    log = EnvironmentLog(
        room=room, file_name=(file_name or "sensor.csv")[:200], sha256=digest, timezone_name=zone.key,
        first_at=min(times), last_at=max(times), uploaded_by=user,
    )
    log._history_user = user
    log.save()
    rows = {}
    for reading in parsed.readings:  # a time twice in one file: the later line wins
        rows[reading.time] = reading
    existing = set(
        SensorReading.objects.filter(room=room, time__gte=log.first_at, time__lte=log.last_at).values_list(
            "time", flat=True
        )
    )
    new = [
        SensorReading(
            room=room, log=log, time=reading.time, dew_point_c=reading.dew_point_c,
            temperature_c=reading.temperature_c, relative_humidity_percent=reading.relative_humidity_percent,
        )
        for time, reading in sorted(rows.items())
        if time not in existing
    ]
    SensorReading.objects.bulk_create(new, batch_size=READING_BATCH)
    log.readings_added = len(new)
    log.readings_skipped = len(parsed.readings) - len(new)
    log.save(update_fields=["readings_added", "readings_skipped"])
    # events near the log's ends too: their edges are interpolated from the readings just outside them
    pad = timedelta(seconds=room.sensor_max_gap_s)
    events = StorageEvent.objects.filter(room=room, opened_at__lte=log.last_at + pad).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=log.first_at - pad)
    )
    excursion_flags_refresh(events=events)
    return log


# ------------------------------------------------------------------------------------------ storage events


def _moment(value: datetime | None, field: str) -> datetime:
    now = timezone.now()
    if value is None:
        return now
    if not isinstance(value, datetime):
        raise ValidationError({field: "must be a date and time"})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + FUTURE_TOLERANCE:
        raise ValidationError({field: "is in the future"})
    return value


def _room(room: Equipment | None) -> Equipment:
    if room is None:
        raise ValidationError({"room": "choose the dry room or glovebox"})
    if room.kind not in ROOM_KINDS:
        raise ValidationError({"room": f"{room.name} is not a dry room or glovebox"})
    if room.retired:
        raise ValidationError({"room": f"{room.name} is retired"})
    return room


def _overlapping(item: TracedItem, start: datetime, end: datetime | None, exclude: int | None = None):
    events = StorageEvent.objects.filter(item=item).filter(Q(closed_at__isnull=True) | Q(closed_at__gt=start))
    if end is not None:
        events = events.filter(opened_at__lt=end)
    if exclude is not None:
        events = events.exclude(pk=exclude)
    return events.order_by("opened_at").first()


@transaction.atomic
def storage_open(
    *, item: TracedItem, room: Equipment | None, user: User, at: datetime | None = None, notes: str = ""
) -> StorageEvent:
    """``item`` is taken out of sealed storage in ``room`` now (or ``at``); refused if it is open already."""
    room = _room(room)
    opened_at = _moment(at, "opened_at")
    locked = TracedItem.objects.select_for_update().get(pk=item.pk)
    current = StorageEvent.objects.filter(item=locked, closed_at__isnull=True).select_related("room").first()
    if current is not None:
        raise ValidationError(
            {"room": f"{locked.code} is open in {current.room.name} since {current.opened_at:%Y-%m-%d %H:%M}; "
             "close it first"}
        )
    clash = _overlapping(locked, opened_at, None)
    if clash is not None:
        raise ValidationError({"opened_at": f"{locked.code} was open until {clash.closed_at:%Y-%m-%d %H:%M}"})
    event = StorageEvent(item=locked, room=room, opened_at=opened_at, opened_by=user, notes=(notes or "")[:300])
    _full_clean(event, exclude=["item", "room", "opened_by", "closed_by"])
    event._history_user = user
    event.save()
    excursion_flags_refresh(events=[event])
    return event


@transaction.atomic
def storage_close(*, item: TracedItem, user: User, at: datetime | None = None) -> StorageEvent:
    """``item`` goes back into sealed storage; its exposure for the event is now fixed and flagged."""
    locked = TracedItem.objects.select_for_update().get(pk=item.pk)
    event = StorageEvent.objects.select_for_update().filter(item=locked, closed_at__isnull=True).first()
    if event is None:
        raise ValidationError({"closed_at": f"{locked.code} is not open (nothing to close)"})
    closed_at = _moment(at, "closed_at")
    if closed_at <= event.opened_at:
        raise ValidationError({"closed_at": f"must be after it was opened ({event.opened_at:%Y-%m-%d %H:%M})"})
    event.closed_at = closed_at
    event.closed_by = user
    event._history_user = user
    event.save(update_fields=["closed_at", "closed_by"])
    excursion_flags_refresh(events=[event])
    return event


@transaction.atomic
def storage_event_record(
    *, item: TracedItem, room: Equipment | None, user: User, opened_at: datetime, closed_at: datetime,
    notes: str = "",
) -> StorageEvent:
    """Record a past open/close interval (from a paper log); refused if it overlaps another of the item."""
    room = _room(room)
    opened_at = _moment(opened_at, "opened_at")
    closed_at = _moment(closed_at, "closed_at")
    if closed_at <= opened_at:
        raise ValidationError({"closed_at": "must be after the opening time"})
    locked = TracedItem.objects.select_for_update().get(pk=item.pk)
    clash = _overlapping(locked, opened_at, closed_at)
    if clash is not None:
        raise ValidationError(
            {"opened_at": f"{locked.code} was already open from {clash.opened_at:%Y-%m-%d %H:%M} at that time"}
        )
    event = StorageEvent(
        item=locked, room=room, opened_at=opened_at, closed_at=closed_at, opened_by=user, closed_by=user,
        notes=(notes or "")[:300],
    )
    _full_clean(event, exclude=["item", "room", "opened_by", "closed_by"])
    event._history_user = user
    event.save()
    excursion_flags_refresh(events=[event])
    return event


# ------------------------------------------------------------------------------------------ excursion flags


def excursion_flags_refresh(*, events: Iterable[StorageEvent], now: datetime | None = None) -> int:
    """Recompute the excursion flags of ``events`` from their rooms' readings; returns how many flags exist now.

    One query per room for the readings (all the events' windows of that room at once), then the
    exposure of each event by slicing the arrays. Flags are derived data: the old ones are replaced.
    """
    events = list(events)
    if not events:
        return 0
    now = now or timezone.now()
    ExcursionFlag.objects.filter(event__in=[event.pk for event in events]).delete()
    rooms = {event.room_id: event.room for event in events}
    flags: list[ExcursionFlag] = []
    for room_id, room in rooms.items():
        own = [event for event in events if event.room_id == room_id]
        windows = [(event.opened_at, event.closed_at or now) for event in own]
        time_s, dew_point_c = readings_arrays(room, windows)
        if time_s.size < 2 or room.dew_point_limit_c is None:
            continue
        for event, (start, end) in zip(own, windows):
            result = exposure(
                time_s, dew_point_c, [(start.timestamp(), end.timestamp())],
                limit_c=room.dew_point_limit_c, max_gap_s=room.sensor_max_gap_s,
            )
            for excursion in result.excursions:
                flags.append(
                    ExcursionFlag(
                        event=event, item_id=event.item_id, room=room,
                        started_at=datetime.fromtimestamp(excursion.start_s, tz=UTC),
                        ended_at=datetime.fromtimestamp(excursion.end_s, tz=UTC),
                        worst_dew_point_c=excursion.worst_dew_point_c, limit_c=room.dew_point_limit_c,
                        excess_c_h=excursion.excess_c_h,
                    )
                )
    flags = [flag for flag in flags if flag.ended_at > flag.started_at and np.isfinite(flag.worst_dew_point_c)]
    ExcursionFlag.objects.bulk_create(flags)
    return len(flags)
