"""Choices of the instruments app: kinds of equipment and the calibration states."""

from django.db import models


class EquipmentKind(models.TextChoices):
    BALL_MILL = "ball_mill", "Ball mill"
    CALENDER = "calender", "Hot roller / calender"
    PRESS_UNIAXIAL = "press_uniaxial", "Press (uniaxial)"
    PRESS_ISOSTATIC = "press_isostatic", "Press (isostatic)"
    IMPEDANCE_ANALYSER = "impedance_analyser", "Impedance analyser"
    CYCLER = "cycler", "Battery cycler"
    GLOVEBOX = "glovebox", "Glovebox"
    DRY_ROOM = "dry_room", "Dry room"
    OTHER = "other", "Other"


# Kinds whose atmosphere is logged (dew point) and where material is handled out of sealed storage.
ROOM_KINDS = (EquipmentKind.DRY_ROOM, EquipmentKind.GLOVEBOX)
PRESS_KINDS = (EquipmentKind.PRESS_UNIAXIAL, EquipmentKind.PRESS_ISOSTATIC)

# The dew point a room must stay at or below when none is given: −40 °C is the usual limit for
# handling sulfide electrolytes in a dry room; −70 °C (≈ 2.6 ppm H2O) for an argon glovebox.
DEFAULT_DEW_POINT_LIMIT_C = {EquipmentKind.DRY_ROOM: -40.0, EquipmentKind.GLOVEBOX: -70.0}


class CalibrationState(models.TextChoices):
    OK = "ok", "In calibration"
    OVERDUE = "overdue", "Calibration overdue"
    NEVER = "never", "Never calibrated"
