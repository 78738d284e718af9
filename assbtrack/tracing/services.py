"""Every write to traced items and lineage: codes, edges (with mass balance), release, quarantine, reject.

Each service runs in one transaction and raises ``ValidationError`` keyed by the field a form or an
API client sent, so a refusal can be shown beside the field and nothing half-written remains.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assbtrack.access.models import Project

from .choices import CODE_DIGITS, HELD_STATUSES, KIND_PREFIX, ItemStatus, LineageRole
from .models import CodeCounter, LineageEdge, StatusEvent, TracedItem
from .registry import kind_info
from .selectors import is_ancestor
from .signatures import status_signature
from .units import UnitMismatch, convert_amount


def code_allocate(kind: str) -> str:
    """The next code of ``kind``: must run inside the transaction that creates the item.

    The counter row is incremented with an UPDATE before it is read, so on PostgreSQL it stays
    locked until the creating transaction ends (a rollback returns the number: no gaps), and on
    SQLite the write lock is already held.
    """
    if kind not in KIND_PREFIX:
        raise ValidationError({"kind": f"unknown kind {kind!r}"})
    CodeCounter.objects.bulk_create([CodeCounter(kind=kind, last_number=0)], ignore_conflicts=True)
    CodeCounter.objects.filter(kind=kind).update(last_number=F("last_number") + 1)
    number = CodeCounter.objects.values_list("last_number", flat=True).get(kind=kind)
    return f"{KIND_PREFIX[kind]}-{number:0{CODE_DIGITS}d}"


def _as_quantity(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "must be a number"}) from None
    if not quantity.is_finite():
        raise ValidationError({field: "must be a finite number"})
    return quantity


@transaction.atomic
def item_create(
    *,
    kind: str,
    project: Project,
    user: User,
    quantity: Decimal | float | None = None,
    unit: str = "",
    notes: str = "",
) -> TracedItem:
    """A new traced item in draft, with the next code of its kind. Domain services call this first."""
    quantity = _as_quantity(quantity, "quantity")
    if quantity is not None and quantity < 0:
        raise ValidationError({"quantity": "cannot be negative"})
    if quantity is not None and not unit:
        raise ValidationError({"unit": "a quantity needs a unit"})
    item = TracedItem(
        code=code_allocate(kind),
        kind=kind,
        project=project,
        quantity=quantity,
        unit=unit,
        notes=notes,
        created_by=user,
    )
    item.full_clean(exclude=["created_by"])
    item.save()
    return item


@transaction.atomic
def edge_create(
    *,
    parent: TracedItem,
    child: TracedItem,
    role: str,
    user: User,
    amount: Decimal | float | None = None,
    unit: str = "",
) -> LineageEdge:
    """Record that ``child`` used ``amount`` of ``parent``.

    Refused: a self-use, a use that would close a cycle, a held (quarantined or rejected) parent, an
    amount in a unit that does not convert, and an amount beyond what the parent has left. The parent
    row is locked first, so two concurrent uses cannot both take the last gram.
    """
    if parent.pk == child.pk:
        raise ValidationError({"parent": f"{parent.code} cannot be used in itself"})
    if role not in LineageRole.values:
        raise ValidationError({"role": f"unknown role {role!r}"})
    locked = TracedItem.objects.select_for_update().get(pk=parent.pk)
    if locked.status in HELD_STATUSES:
        reason = f": {locked.status_reason}" if locked.status_reason else ""
        raise ValidationError({"parent": f"{locked.code} is {locked.get_status_display().lower()}{reason}"})
    if is_ancestor(child.pk, locked.pk):
        raise ValidationError({"parent": f"{child.code} is already upstream of {locked.code}: that would be a cycle"})

    amount = _as_quantity(amount, "amount")
    stock_amount = None
    if amount is not None:
        if amount <= 0:
            raise ValidationError({"amount": "must be greater than zero"})
        if locked.quantity is None:
            raise ValidationError({"amount": f"{locked.code} has no recorded quantity to draw from"})
        try:
            stock_amount = convert_amount(amount, unit or locked.unit, locked.unit)
        except UnitMismatch as error:
            raise ValidationError({"unit": str(error)}) from None
        remaining = locked.quantity - locked.quantity_used
        if stock_amount > remaining:
            raise ValidationError(
                {"amount": f"{locked.code} has only {remaining.normalize():f} {locked.unit} left; "
                 f"{stock_amount.normalize():f} {locked.unit} asked"}
            )
    elif locked.quantity is not None:
        raise ValidationError({"amount": f"say how much of {locked.code} was used ({locked.unit})"})

    edge = LineageEdge(
        parent=locked, child=child, role=role, amount=stock_amount, unit=locked.unit if amount else "",
        created_by=user,
    )
    edge.full_clean(exclude=["created_by", "parent", "child"])
    if LineageEdge.objects.filter(parent=locked, child=child, role=role).exists():
        raise ValidationError({"parent": f"{child.code} already uses {locked.code} as {role}"})
    edge.save()

    if stock_amount is not None:
        TracedItem.objects.filter(pk=locked.pk).update(quantity_used=F("quantity_used") + stock_amount)
        locked.refresh_from_db(fields=["quantity_used"])
        if locked.quantity_used == locked.quantity and locked.status == ItemStatus.RELEASED:
            _status_set(locked, ItemStatus.CONSUMED, user=user, reason=f"used up by {child.code}")
    return edge


def _status_set(
    item: TracedItem, status: str, *, user: User, reason: str, signed: bool = False
) -> StatusEvent:
    event = StatusEvent(
        item=item, from_status=item.status, to_status=status, reason=reason, user=user,
        created_at=timezone.now(), signed=signed,
    )
    if signed:
        event.signature = status_signature(event)
    event.save()
    item.status = status
    item.status_reason = reason
    item._change_reason = reason
    item.save(update_fields=["status", "status_reason", "updated_at"])
    return event


def _check_signature(user: User, password: str | None) -> bool:
    """A status change from the web is signed by re-entering the password; ``None`` means unsigned."""
    if password is None:
        return False
    if not password or not user.check_password(password):
        raise ValidationError({"password": "the password is not correct, so the change was not signed"})
    return True


def _lock(item: TracedItem) -> TracedItem:
    return TracedItem.objects.select_for_update().get(pk=item.pk)


def item_release_problems(item: TracedItem) -> list[str]:
    """Why ``item`` cannot be released now (empty when it can): status first, then the kind's QC checks."""
    if item.status not in (ItemStatus.DRAFT, ItemStatus.QUARANTINED):
        return [f"{item.code} is {item.get_status_display().lower()}; only draft or quarantined items are released"]
    problems: list[str] = []
    for check in kind_info(item.kind).release_checks:
        problems.extend(check(item))
    return problems


@transaction.atomic
def item_release(*, item: TracedItem, user: User, reason: str = "", password: str | None = None) -> TracedItem:
    if not user.has_perm("tracing.release_item"):
        raise ValidationError({"user": f"{user.username} may not release items"})
    signed = _check_signature(user, password)
    locked = _lock(item)
    problems = item_release_problems(locked)
    if problems:
        raise ValidationError({"status": problems})
    if locked.status == ItemStatus.QUARANTINED and not reason.strip():
        raise ValidationError({"reason": "say why the quarantine is lifted"})
    _status_set(locked, ItemStatus.RELEASED, user=user, reason=reason.strip() or "released", signed=signed)
    return locked


@transaction.atomic
def item_quarantine(*, item: TracedItem, user: User, reason: str, password: str | None = None) -> TracedItem:
    """Hold ``item``: it can no longer be used, and everything downstream shows as affected."""
    if item.status == ItemStatus.REJECTED:
        raise ValidationError({"status": f"{item.code} is rejected already"})
    return items_quarantine(items=[item], user=user, reason=reason, password=password)[0]


@transaction.atomic
def items_quarantine(
    *, items: Iterable[TracedItem], user: User, reason: str, password: str | None = None
) -> list[TracedItem]:
    """Quarantine every item in one transaction (a recall): all of them, or none if one is refused.

    Items already rejected stay rejected; items already quarantined keep their first reason.
    """
    if not user.has_perm("tracing.quarantine_item"):
        raise ValidationError({"user": f"{user.username} may not quarantine items"})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "a quarantine needs a reason"})
    signed = _check_signature(user, password)
    held = []
    ids = sorted({item.pk for item in items})
    for locked in TracedItem.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        if locked.status not in HELD_STATUSES:
            _status_set(locked, ItemStatus.QUARANTINED, user=user, reason=reason.strip(), signed=signed)
        held.append(locked)
    return held


@transaction.atomic
def item_reject(*, item: TracedItem, user: User, reason: str, password: str | None = None) -> TracedItem:
    if not user.has_perm("tracing.quarantine_item"):
        raise ValidationError({"user": f"{user.username} may not reject items"})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "a rejection needs a reason"})
    signed = _check_signature(user, password)
    locked = _lock(item)
    if locked.status == ItemStatus.REJECTED:
        raise ValidationError({"status": f"{locked.code} is rejected already"})
    _status_set(locked, ItemStatus.REJECTED, user=user, reason=reason.strip(), signed=signed)
    return locked


def record_change_check(*, item: TracedItem, reason: str) -> str:
    """Released records are not edited silently: an edit needs a reason, which goes into the history."""
    if item.status != ItemStatus.DRAFT and not (reason or "").strip():
        status = item.get_status_display().lower()
        raise ValidationError({"change_reason": f"{item.code} is {status}: say why it is changed"})
    return (reason or "").strip()
