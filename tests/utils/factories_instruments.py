"""Instruments test data through the instruments services: equipment, calibrations, sensor logs, storage events."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User

from assbtrack.access.models import Project
from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.models import Calibration, EnvironmentLog, Equipment
from assbtrack.instruments.services import calibration_add, environment_log_import, equipment_create

_numbers = itertools.count(1)


def make_equipment(user: User, *, kind: str = EquipmentKind.BALL_MILL, name: str | None = None,
                   project: Project | None = None, **kwargs) -> Equipment:
    number = next(_numbers)
    return equipment_create(user=user, kind=kind, name=name or f"{kind} {number}", serial_number=f"SN-{number}",
                            location="Lab B", project=project, **kwargs)


def make_room(user: User, *, limit_c: float = -40.0, max_gap_min: float = 30.0, name: str | None = None,
              kind: str = EquipmentKind.DRY_ROOM) -> Equipment:
    return make_equipment(user, kind=kind, name=name, dew_point_limit_c=limit_c, sensor_max_gap_min=max_gap_min)


def calibrate(equipment: Equipment, user: User, *, on: date, due: date) -> Calibration:
    return calibration_add(equipment=equipment, user=user, calibrated_on=on, due_on=due, performed_by="Service lab")


def sensor_csv(start: datetime, dew_points_c: list[float], *, step: timedelta = timedelta(hours=1),
               temperature_c: float = 21.0) -> bytes:
    """A sensor log with one reading per ``step`` from ``start`` (ISO times with their offset)."""
    lines = ["time,dew_point_c,temperature_c,relative_humidity_percent"]
    for index, dew in enumerate(dew_points_c):
        lines.append(f"{(start + index * step).isoformat()},{dew},{temperature_c},0.5")
    return ("\n".join(lines) + "\n").encode()


def import_log(room: Equipment, user: User, start: datetime, dew_points_c: list[float], *,
               step: timedelta = timedelta(hours=1), name: str = "sensor.csv") -> EnvironmentLog:
    return environment_log_import(room=room, user=user, content=sensor_csv(start, dew_points_c, step=step),
                                  file_name=name)
