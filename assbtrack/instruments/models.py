"""Equipment and its calibrations, cycler channels, room sensor logs, storage open/close events and excursion flags.

Calibrations and sensor readings are append-only. Excursion flags are derived (recomputed from the
readings and the storage events by ``excursion_flags_refresh``); they are stored so that the QC
dashboard can list flagged items without reading every log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from assbtrack.access.models import Project
from assbtrack.tracing.models import TracedItem

from .choices import ROOM_KINDS, EquipmentKind


class Equipment(models.Model):
    """A mill, calender, press, impedance analyser, cycler, glovebox or dry room of the lab."""

    kind = models.CharField("kind", max_length=24, choices=EquipmentKind.choices, db_index=True)
    name = models.CharField("name", max_length=100, unique=True, help_text="What the lab calls it, e.g. 'Mill 2'.")
    make_model = models.CharField("make and model", max_length=120, blank=True)
    serial_number = models.CharField("serial number", max_length=80, blank=True)
    location = models.CharField("location", max_length=120, blank=True)
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="equipment",
        verbose_name="project", help_text="Leave empty for shared lab equipment.",
    )
    dew_point_limit_c = models.FloatField(
        "dew-point limit (°C)", null=True, blank=True,
        help_text="Rooms only: the dew point the room must stay at or below while material is open.",
    )
    sensor_max_gap_min = models.FloatField(
        "largest gap between sensor readings (min)", default=30.0,
        help_text="Rooms only: a longer silence of the sensor counts as no data rather than being bridged.",
    )
    retired = models.BooleanField("retired", default=False)
    notes = models.TextField("notes", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("created at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "equipment"
        verbose_name_plural = "equipment"
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "serial_number"], condition=~Q(serial_number=""), name="equipment_unique_serial"
            ),
            models.CheckConstraint(
                condition=Q(dew_point_limit_c__isnull=True) | Q(dew_point_limit_c__gte=-100, dew_point_limit_c__lte=30),
                name="equipment_dew_point_limit_range",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=ROOM_KINDS) | Q(dew_point_limit_c__isnull=False),
                name="equipment_room_has_limit",
            ),
            models.CheckConstraint(condition=Q(sensor_max_gap_min__gt=0), name="equipment_max_gap_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display().lower()})"

    @property
    def is_room(self) -> bool:
        return self.kind in ROOM_KINDS

    @property
    def sensor_max_gap_s(self) -> float:
        return self.sensor_max_gap_min * 60.0

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("instruments:detail", args=[self.pk])


class CyclerChannel(models.Model):
    """One channel of a battery cycler: a cycling test names the channel its cell is on."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="channels", verbose_name="cycler"
    )
    label = models.CharField("channel", max_length=20, help_text="As printed on the cycler, e.g. '3' or 'B-07'.")
    notes = models.CharField("notes", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "cycler channel"
        ordering = ["equipment_id", "label"]
        constraints = [models.UniqueConstraint(fields=["equipment", "label"], name="channel_unique_label")]

    def __str__(self) -> str:
        return f"{self.equipment.name} channel {self.label}"


def certificate_path(instance: Calibration, filename: str) -> str:
    return f"instruments/calibrations/{instance.equipment_id}/{filename}"


class Calibration(models.Model):
    """A calibration of a piece of equipment, valid until ``due_on``. Append-only: a new one supersedes."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="calibrations", verbose_name="equipment"
    )
    calibrated_on = models.DateField("calibrated on")
    due_on = models.DateField("next calibration due on")
    performed_by = models.CharField("performed by", max_length=120, blank=True, help_text="Person or service lab.")
    certificate = models.FileField("certificate", upload_to=certificate_path, blank=True, max_length=300)
    notes = models.TextField("notes", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("recorded at", auto_now_add=True)

    class Meta:
        verbose_name = "calibration"
        ordering = ["-calibrated_on", "-id"]
        indexes = [models.Index(fields=["equipment", "-calibrated_on"], name="calibration_equipment_date")]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gt=F("calibrated_on")), name="calibration_due_after_date"),
        ]

    def __str__(self) -> str:
        return f"{self.equipment_id}: calibrated {self.calibrated_on}, due {self.due_on}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("calibrations are append-only; record a new calibration instead")
        super().save(*args, **kwargs)


class EnvironmentLog(models.Model):
    """One sensor file imported for a room: where its readings came from, and how many were new."""

    room = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="environment_logs", verbose_name="room")
    file_name = models.CharField("file", max_length=200)
    sha256 = models.CharField("file hash (SHA-256)", max_length=64)
    timezone_name = models.CharField("time zone of naive times", max_length=60, default="UTC")
    first_at = models.DateTimeField("first reading at", null=True, blank=True)
    last_at = models.DateTimeField("last reading at", null=True, blank=True)
    readings_added = models.PositiveIntegerField("readings added", default=0)
    readings_skipped = models.PositiveIntegerField(
        "readings already on record", default=0, help_text="Times the room had a reading for already (overlap)."
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("imported at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "environment log"
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["room", "sha256"], name="environmentlog_unique_file")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.readings_added} readings)"


class SensorReading(models.Model):
    """One line of a room's sensor log. Bulk-inserted; never edited."""

    room = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="readings", verbose_name="room")
    log = models.ForeignKey(EnvironmentLog, on_delete=models.PROTECT, related_name="readings", verbose_name="log")
    time = models.DateTimeField("time")
    dew_point_c = models.FloatField("dew point (°C)")
    temperature_c = models.FloatField("temperature (°C)", null=True, blank=True)
    relative_humidity_percent = models.FloatField("relative humidity (%)", null=True, blank=True)

    class Meta:
        verbose_name = "sensor reading"
        constraints = [
            models.UniqueConstraint(fields=["room", "time"], name="reading_unique_time"),
            models.CheckConstraint(condition=Q(dew_point_c__gte=-120, dew_point_c__lte=60), name="reading_dew_point"),
            models.CheckConstraint(
                condition=Q(relative_humidity_percent__isnull=True)
                | Q(relative_humidity_percent__gte=0, relative_humidity_percent__lte=100),
                name="reading_rh_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.time:%Y-%m-%d %H:%M}: {self.dew_point_c:g} °C"


class StorageEvent(models.Model):
    """A traced item taken out of sealed storage in a room (opened) and put back (closed)."""

    item = models.ForeignKey(TracedItem, on_delete=models.PROTECT, related_name="storage_events", verbose_name="item")
    room = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="storage_events", verbose_name="room")
    opened_at = models.DateTimeField("opened at", db_index=True)
    closed_at = models.DateTimeField("closed at", null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    notes = models.CharField("notes", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "storage open/close event"
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["room", "opened_at"], name="storage_room_opened")]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gt=F("opened_at")), name="storage_closed_after_open"
            ),
            models.UniqueConstraint(
                fields=["item"], condition=Q(closed_at__isnull=True), name="storage_one_open_per_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} open in {self.room_id} from {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ExcursionFlag(models.Model):
    """An item was open in a room while the room's dew point was above its limit (derived, recomputed)."""

    event = models.ForeignKey(
        StorageEvent, on_delete=models.CASCADE, related_name="flags", verbose_name="storage event"
    )
    item = models.ForeignKey(TracedItem, on_delete=models.PROTECT, related_name="excursion_flags", verbose_name="item")
    room = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="excursion_flags", verbose_name="room")
    started_at = models.DateTimeField("above the limit from")
    ended_at = models.DateTimeField("above the limit until")
    worst_dew_point_c = models.FloatField("worst dew point (°C)")
    limit_c = models.FloatField("dew-point limit (°C)")
    excess_c_h = models.FloatField("excess above the limit (°C·h)")
    flagged_at = models.DateTimeField("flagged at", auto_now_add=True)

    class Meta:
        verbose_name = "dew-point excursion flag"
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["item", "-started_at"], name="flag_item_started"),
            models.Index(fields=["-started_at"], name="flag_started"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__gt=F("started_at")), name="flag_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} in {self.room_id}: {self.worst_dew_point_c:g} °C above {self.limit_c:g} °C"

    @property
    def duration_h(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() / 3600.0
