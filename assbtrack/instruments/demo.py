"""Demo data of the instruments app, loaded after the chain: the lab's equipment (one press overdue for
calibration), a cycler with channels, a dry room with three days of sensor log including one dew-point
excursion, and the demo SSE batch and separator film opened in the dry room across it.

Takes ``context.items["sse_batch"]`` and ``["separator_film"]`` when the chain demos made them.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from .choices import EquipmentKind
from .services import (
    calibration_add,
    channel_add,
    environment_log_import,
    equipment_create,
    storage_event_record,
)

EQUIPMENT = (
    ("Mill 1", EquipmentKind.BALL_MILL, "Fritsch Pulverisette 7 premium line", "Glovebox 1", 200),
    ("Calender 1", EquipmentKind.CALENDER, "Hot roll press, 100 mm rolls", "Dry room A", 150),
    ("Press U1", EquipmentKind.PRESS_UNIAXIAL, "Specac 25 t", "Glovebox 1", -20),  # 20 days overdue
    ("Press I1", EquipmentKind.PRESS_ISOSTATIC, "Warm isostatic press", "Hall 3", 300),
    ("EIS 1", EquipmentKind.IMPEDANCE_ANALYSER, "Biologic SP-300", "Lab B.112", 90),
    ("Cycler 1", EquipmentKind.CYCLER, "Biologic BCS-815", "Lab B.114", 250),
    ("Glovebox 1", EquipmentKind.GLOVEBOX, "MBraun LABstar", "Lab B.112", 120),
    ("Dry room A", EquipmentKind.DRY_ROOM, "Munters dew-point −50 °C", "Hall 3", 60),
)


def _dew_point_c(hours: float) -> float:
    """A dry room near −48 °C with a daily swing, and a door left open 30 h ago for about two hours."""
    base = -48.0 + 1.5 * math.sin(2 * math.pi * hours / 24.0)
    bump = 16.0 * math.exp(-(((hours - 42.0) / 0.8) ** 2))
    return round(base + bump, 2)


def load(context) -> None:
    user = context.users["technician"]
    today = timezone.localdate()
    made = {}
    for name, kind, make_model, location, days_left in EQUIPMENT:
        equipment = equipment_create(user=user, kind=kind, name=name, make_model=make_model, location=location,
                                     serial_number=f"DEMO-{len(made) + 1:03d}")
        calibration_add(equipment=equipment, user=user, calibrated_on=today - timedelta(days=365 - days_left),
                        due_on=today + timedelta(days=days_left), performed_by="Calibration service")
        made[name] = equipment
    for channel in range(1, 9):
        channel_add(equipment=made["Cycler 1"], label=str(channel), user=user)

    room = made["Dry room A"]
    start = (timezone.now() - timedelta(hours=72)).replace(minute=0, second=0, microsecond=0)
    lines = ["time,dew_point_c,temperature_c,relative_humidity_percent"]
    for step in range(72 * 6 + 1):  # every 10 min
        hours = step / 6
        lines.append(f"{(start + timedelta(hours=hours)).isoformat()},{_dew_point_c(hours)},21.0,0.3")
    log = environment_log_import(room=room, user=user, content=("\n".join(lines) + "\n").encode(),
                                 file_name="dry-room-A-demo.csv")
    opened = 0
    for key, offset_h in (("sse_batch", 40.0), ("separator_film", 20.0)):
        record = context.items.get(key)
        if record is None:
            continue
        item = getattr(record, "item", record)
        storage_event_record(item=item, room=room, user=user, opened_at=start + timedelta(hours=offset_h),
                             closed_at=start + timedelta(hours=offset_h + 4), notes="weighing and pressing")
        opened += 1
    context.log.append(
        f"instruments: {len(made)} pieces of equipment (Press U1 overdue), 8 cycler channels, "
        f"{log.readings_added} dry-room readings with one excursion, {opened} items opened in the dry room"
    )
