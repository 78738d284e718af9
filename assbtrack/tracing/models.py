"""Traced items (every physical thing), the lineage edges between them, code counters and status events."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from assbtrack.access.models import Project

from .choices import HELD_STATUSES, ItemKind, ItemStatus, LineageRole, QuantityUnit
from .signatures import signature_verifies

QUANTITY_FIELD = {"max_digits": 16, "decimal_places": 6}


class TracedItem(models.Model):
    """The base record of every lot, batch, film, sheet, cell and module; the node of the lineage graph.

    The domain apps keep their details in tables whose primary key is this item (``TracedRecord``).
    ``quantity_used`` is only ever changed by ``edge_create`` under a row lock, and the database
    refuses a value above ``quantity``: mass balance holds even if a service is bypassed.
    """

    code = models.CharField("code", max_length=20, unique=True)
    kind = models.CharField("kind", max_length=20, choices=ItemKind.choices)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="items", verbose_name="project")
    status = models.CharField("status", max_length=12, choices=ItemStatus.choices, default=ItemStatus.DRAFT)
    status_reason = models.TextField("reason for the status", blank=True)
    quantity = models.DecimalField("quantity", null=True, blank=True, **QUANTITY_FIELD)
    quantity_used = models.DecimalField("quantity used", default=Decimal("0"), **QUANTITY_FIELD)
    unit = models.CharField("unit", max_length=4, choices=QuantityUnit.choices, blank=True)
    notes = models.TextField("notes", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="created by"
    )
    created_at = models.DateTimeField("created at", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "status"], name="item_kind_status"),
            models.Index(fields=["project", "kind", "-created_at"], name="item_project_kind_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0) | Q(quantity__isnull=True), name="item_quantity_ge_0"),
            models.CheckConstraint(condition=Q(quantity_used__gte=0), name="item_quantity_used_ge_0"),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity_used__lte=F("quantity")),
                name="item_mass_balance",
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | ~Q(unit=""), name="item_quantity_has_unit"
            ),
        ]
        permissions = [
            ("release_item", "Can release a traced item"),
            ("quarantine_item", "Can quarantine or reject a traced item"),
            ("record_deviation", "Can release or use an affected item under a signed deviation"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def quantity_remaining(self) -> Decimal | None:
        if self.quantity is None:
            return None
        return self.quantity - self.quantity_used

    @property
    def is_held(self) -> bool:
        return self.status in HELD_STATUSES

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("tracing:item", args=[self.code])


class CodeCounter(models.Model):
    """The last number handed out per kind; incremented inside the creating transaction, so no gaps."""

    kind = models.CharField(max_length=20, choices=ItemKind.choices, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind}: {self.last_number}"


class LineageEdge(models.Model):
    """"child used parent": the single table every lineage query walks."""

    parent = models.ForeignKey(TracedItem, on_delete=models.PROTECT, related_name="edges_out", verbose_name="parent")
    child = models.ForeignKey(TracedItem, on_delete=models.PROTECT, related_name="edges_in", verbose_name="child")
    amount = models.DecimalField("amount used", null=True, blank=True, **QUANTITY_FIELD)
    unit = models.CharField("unit", max_length=4, choices=QuantityUnit.choices, blank=True)
    role = models.CharField("role", max_length=24, choices=LineageRole.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("created at", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        indexes = [
            # Covering indexes for the recursive walks in both directions.
            models.Index(fields=["child", "parent"], name="edge_child_parent"),
            models.Index(fields=["parent", "child"], name="edge_parent_child"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("child")), name="edge_no_self_use"),
            models.CheckConstraint(condition=Q(amount__gt=0) | Q(amount__isnull=True), name="edge_amount_gt_0"),
            models.UniqueConstraint(fields=["parent", "child", "role"], name="edge_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} used {self.parent_id} as {self.role}"


class StatusEvent(models.Model):
    """One row per status change, with who, when and why: append-only.

    A change made from the web is *signed*: the user re-entered their password, and ``signature`` is
    an HMAC of the event's content under the server's key (``signatures.py``: ``django.core.signing``,
    rotated keys honoured through ``SECRET_KEY_FALLBACKS``), so an edit made behind the application's
    back (the row is never updated by it) no longer verifies.
    """

    item = models.ForeignKey(TracedItem, on_delete=models.PROTECT, related_name="status_events")
    from_status = models.CharField(max_length=12, choices=ItemStatus.choices)
    to_status = models.CharField(max_length=12, choices=ItemStatus.choices)
    reason = models.TextField("reason", blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("at", db_index=True)
    signed = models.BooleanField("signed with password", default=False)
    signature = models.CharField("signature (HMAC-SHA256)", max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["to_status", "-created_at"], name="statusevent_to_created")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.from_status} → {self.to_status}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("status events are append-only; record a new event instead")
        super().save(*args, **kwargs)

    def signed_content(self) -> str:
        return "|".join(
            [str(self.item_id), self.from_status, self.to_status, self.reason, str(self.user_id),
             self.created_at.isoformat()]
        )

    @property
    def signature_valid(self) -> bool:
        return signature_verifies(self)


class DeviationPurpose(models.TextChoices):
    RELEASE = "release", "Release"
    USE = "use", "Use as a parent"


class Deviation(models.Model):
    """A signed exception to one hold: ``item`` may be released (or used as a parent) although ``held_item``,
    upstream of it, is on hold. Append-only.

    The deviation names the hold itself (``hold_event``, the status event that put ``held_item`` on hold), so
    it overrides that hold only: once the hold is lifted and a new one is placed, the item is blocked again.
    ``signature`` is an HMAC of the content under the server's key, as for a signed status change.
    """

    item = models.ForeignKey(TracedItem, on_delete=models.PROTECT, related_name="deviations", verbose_name="item")
    purpose = models.CharField("for", max_length=8, choices=DeviationPurpose.choices)
    held_item = models.ForeignKey(
        TracedItem, on_delete=models.PROTECT, related_name="deviations_against", verbose_name="held ancestor"
    )
    hold_event = models.ForeignKey(
        StatusEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="deviations",
        verbose_name="hold overridden",
    )
    reason = models.TextField("reason")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("at", db_index=True)
    signature = models.CharField("signature (HMAC-SHA256)", max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "purpose"], name="deviation_item_purpose")]
        constraints = [
            models.CheckConstraint(condition=~Q(item=F("held_item")), name="deviation_not_own_hold"),
            models.CheckConstraint(condition=~Q(reason=""), name="deviation_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.purpose} despite {self.held_item_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("deviations are append-only; record a new one instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("deviations are append-only; they are never deleted")

    def signed_content(self) -> str:
        return "|".join(
            ["deviation", str(self.item_id), self.purpose, str(self.held_item_id), str(self.hold_event_id or ""),
             self.reason, str(self.user_id), self.created_at.isoformat()]
        )

    @property
    def signature_valid(self) -> bool:
        return signature_verifies(self)


class TracedRecord(models.Model):
    """Base of every domain table that describes a traced item (its primary key is the item)."""

    item = models.OneToOneField(
        TracedItem, on_delete=models.PROTECT, primary_key=True, related_name="%(class)s", verbose_name="item"
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.item.code

    @property
    def code(self) -> str:
        return self.item.code

    @property
    def status(self) -> str:
        return self.item.status

    def get_absolute_url(self) -> str:
        return self.item.get_absolute_url()



class ConfirmedWarning(models.Model):
    """A value that was implausible but possible, and the person who confirmed it when the record was written
    (an N/P below 1 on a lithium-metal cell, a porous dense film, an instrument overdue for calibration).
    Append-only: it says what was seen and accepted at the moment of entry."""

    item = models.ForeignKey(
        TracedItem, on_delete=models.PROTECT, related_name="confirmed_warnings", verbose_name="item"
    )
    code = models.CharField("warning", max_length=40)
    field = models.CharField("field", max_length=80, blank=True)
    message = models.TextField("what was confirmed")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name="confirmed by")
    confirmed_at = models.DateTimeField("confirmed at", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-confirmed_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(message=""), name="confirmed_warning_has_message")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.code} confirmed"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("confirmed warnings are append-only")
        super().save(*args, **kwargs)
