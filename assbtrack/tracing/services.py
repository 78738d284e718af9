"""Every write to traced items and lineage: codes, edges (with mass balance), release, quarantine, reject.

Each service runs in one transaction and raises ``ValidationError`` keyed by the field a form or an
API client sent, so a refusal can be shown beside the field and nothing half-written remains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from assbtrack.access.models import Project
from assbtrack.access.roles import SCIENTIST
from assbtrack.access.selectors import user_roles
from assbtrack.access.signing_limits import (
    signing_failure_record,
    signing_failures_reset,
    signing_locked,
    signing_locked_message,
)

from .choices import CODE_DIGITS, HELD_STATUSES, KIND_PREFIX, ItemStatus, LineageRole, QuantityUnit
from .models import CodeCounter, ConfirmedWarning, Deviation, DeviationPurpose, LineageEdge, StatusEvent, TracedItem
from .plausibility import Implausible
from .registry import consuming_path, kind_info
from .selectors import Hold, held_ancestors_for, holds_upstream, is_ancestor
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


LINEAGE_WRITE_LOCK = 7_310_001  # an arbitrary, fixed key for PostgreSQL's advisory lock


def _serialise_lineage_writes() -> None:
    """One lineage write at a time, until the transaction ends.

    The cycle check reads the graph; two concurrent uses in opposite directions could each pass it
    and together close a cycle (or deadlock on each other's rows). On PostgreSQL a transaction-level
    advisory lock queues them; SQLite already runs one writing transaction at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINEAGE_WRITE_LOCK])


# --- Holds reach downstream: an item with a held ancestor is "affected" --------------------------------------
#
# Affected is computed from the lineage at the moment of the check (one recursive query), never copied, so
# lifting a hold clears it everywhere. An affected item is neither used as a parent nor released unless a
# scientist recorded a signed deviation naming each hold it overrides (``deviation_record``).


def hold_description(hold: Hold) -> str:
    """ "SSE-000005, quarantined on 3 Dec 2026 by scientist (conductivity below specification)"."""
    text = f"{hold.code}, {ItemStatus(hold.status).label.lower()}"
    if hold.at is not None:
        at = timezone.localtime(hold.at)
        text += f" on {at.day} {at:%b %Y}"
    if hold.by:
        text += f" by {hold.by}"
    if hold.reason:
        text += f" ({hold.reason})"
    return text


def affected_refusal(code: str, hold: Hold) -> str:
    return f"{code} is affected: it comes from {hold_description(hold)}"


def holds_without_deviation(item_id: int, *, purpose: str) -> list[Hold]:
    """The holds upstream of an item that no deviation for ``purpose`` overrides (empty: not blocked)."""
    holds = holds_upstream(item_id)
    if not holds:
        return []
    overridden = set(
        Deviation.objects.filter(item_id=item_id, purpose=purpose).values_list("held_item_id", "hold_event_id")
    )
    return [hold for hold in holds if (hold.item_id, hold.event_id) not in overridden]


def _refuse_if_affected(item: TracedItem, *, purpose: str, field: str) -> None:
    blocking = holds_without_deviation(item.pk, purpose=purpose)
    if blocking:
        raise ValidationError({field: [affected_refusal(item.code, hold) for hold in blocking]})


# Status follows use: a sheet built into a cell, a cell put into a module, a lot or a film with nothing left
# is consumed, whether it had been released or was still a draft (a hold is never lifted by use).
USED_UP_FROM = (ItemStatus.DRAFT, ItemStatus.RELEASED)


def _other_project_refusal(parent: TracedItem, child: TracedItem, *, row: int | None = None) -> str:
    """Lineage stays inside one project: what a partner is shown of a project is then all that made it."""
    codes = dict(Project.objects.filter(pk__in=[parent.project_id, child.project_id]).values_list("pk", "code"))
    prefix = f"row {row}: " if row is not None else ""
    return (f"{prefix}{parent.code} belongs to project {codes.get(parent.project_id)} and {child.code} to project "
            f"{codes.get(child.project_id)}: an item is used only in items of its own project")
def _overdraw_message(item: TracedItem, remaining: Decimal, asked: Decimal) -> str:
    return f"{item.code} has only {remaining.normalize():f} {item.unit} left; {asked.normalize():f} {item.unit} asked"


def draw_problem(item: TracedItem, amount: Decimal | float, unit: str) -> tuple[str, str] | None:
    """What ``edge_create`` would refuse about drawing ``amount`` ``unit`` of ``item`` as it stands now, as
    (``"parent"`` or ``"amount"``, message); None if nothing.

    For services that check every row of a form before they write, so that all refusals come back at once;
    ``edge_create`` checks again under the row lock, which is what guarantees the mass balance.
    """
    if item.status in HELD_STATUSES:
        reason = f": {item.status_reason}" if item.status_reason else ""
        return "parent", f"{item.code} is {item.get_status_display().lower()}{reason}"
    if item.quantity is None:
        return None
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(repr(float(amount)))
        asked = convert_amount(value, unit or item.unit, item.unit)
    except (UnitMismatch, InvalidOperation, ValueError):
        return None  # edge_create says why, beside the unit
    remaining = item.quantity - item.quantity_used
    if asked > remaining:
        return "amount", _overdraw_message(item, remaining, asked)
    return None


@consuming_path("use")
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

    Refused: a self-use, a parent of another project than the child's, a use that would close a cycle, a
    held (quarantined or rejected) parent, an affected parent (a hold upstream of it) without a deviation for
    use, an amount in a unit that does not convert, and an amount beyond what the parent has left. The parent
    row is locked first, so two concurrent uses cannot both take the last gram. A parent with nothing left is
    consumed.
    """
    if parent.pk == child.pk:
        raise ValidationError({"parent": f"{parent.code} cannot be used in itself"})
    if role not in LineageRole.values:
        raise ValidationError({"role": f"unknown role {role!r}"})
    _serialise_lineage_writes()
    locked = TracedItem.objects.select_for_update().get(pk=parent.pk)
    if locked.project_id != child.project_id:
        raise ValidationError({"parent": _other_project_refusal(locked, child)})
    if locked.status in HELD_STATUSES:
        reason = f": {locked.status_reason}" if locked.status_reason else ""
        raise ValidationError({"parent": f"{locked.code} is {locked.get_status_display().lower()}{reason}"})
    _refuse_if_affected(locked, purpose=DeviationPurpose.USE, field="parent")
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
            raise ValidationError({"amount": _overdraw_message(locked, remaining, stock_amount)})
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
        if locked.quantity_used == locked.quantity and locked.status in USED_UP_FROM:
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
    item._history_user = user  # also outside a web request (commands, tasks)
    item.save(update_fields=["status", "status_reason", "updated_at"])
    return event


def _check_signature(user: User, password: str | None) -> bool:
    """A status change from the web is signed by re-entering the password; ``None`` means unsigned."""
    if password is None:
        return False
    if signing_locked(user.pk):
        raise ValidationError({"password": signing_locked_message()})
    if not password or not user.check_password(password):
        signing_failure_record(user.pk)
        raise ValidationError({"password": "the password is not correct, so the change was not signed"})
    signing_failures_reset(user.pk)
    return True


def _lock(item: TracedItem) -> TracedItem:
    return TracedItem.objects.select_for_update().get(pk=item.pk)


def item_release_problems(item: TracedItem) -> list[str]:
    """Why ``item`` cannot be released now (empty when it can): status first, then ``item_release_blockers``."""
    if item.status not in (ItemStatus.DRAFT, ItemStatus.QUARANTINED):
        return [f"{item.code} is {item.get_status_display().lower()}; only draft or quarantined items are released"]
    return item_release_blockers(item)


def item_release_blockers(item: TracedItem) -> list[str]:
    """What holds a release back whatever the status: the holds upstream that no deviation for release
    overrides, then the kind's QC checks. The same queries for every item of a kind (an item page's budget)."""
    problems = [
        affected_refusal(item.code, hold)
        for hold in holds_without_deviation(item.pk, purpose=DeviationPurpose.RELEASE)
    ]
    for check in kind_info(item.kind).release_checks:
        problems.extend(check(item))
    return problems


@consuming_path("release")
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
    if locked.quantity is not None and locked.quantity_used >= locked.quantity:
        _status_set(locked, ItemStatus.CONSUMED, user=user, reason="released with nothing left")
    return locked


@transaction.atomic
def item_quarantine(*, item: TracedItem, user: User, reason: str, password: str | None = None) -> TracedItem:
    """Hold ``item``: it can no longer be used, and everything downstream shows as affected."""
    return items_quarantine(items=[item], user=user, reason=reason, password=password, refuse_rejected=True)[0]


@transaction.atomic
def items_quarantine(
    *,
    items: Iterable[TracedItem],
    user: User,
    reason: str,
    password: str | None = None,
    refuse_rejected: bool = False,
) -> list[TracedItem]:
    """Quarantine every item in one transaction (a recall): all of them, or none if one is refused.

    In a recall, items already rejected stay rejected and items already quarantined keep their first
    reason; ``refuse_rejected`` makes a rejected item an error instead (a single item's quarantine).
    """
    if not user.has_perm("tracing.quarantine_item"):
        raise ValidationError({"user": f"{user.username} may not quarantine items"})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "a quarantine needs a reason"})
    signed = _check_signature(user, password)
    held = []
    ids = sorted({item.pk for item in items})
    for locked in TracedItem.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        if locked.status == ItemStatus.REJECTED and refuse_rejected:
            raise ValidationError({"status": f"{locked.code} is rejected already"})
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


@transaction.atomic
def deviation_record(
    *,
    item: TracedItem,
    user: User,
    purpose: str,
    reason: str,
    password: str | None,
    held_item_ids: Iterable[int],
) -> list[Deviation]:
    """A signed deviation: ``item`` may be released or used as a parent despite each named hold upstream.

    Only a scientist (``tracing.record_deviation``), only with the password re-entered, only with a
    reason, and only for holds that stand upstream of the item now; one append-only row per hold, so a
    hold placed later (or placed again after a lift) blocks again.
    """
    if not user.has_perm("tracing.record_deviation"):
        raise ValidationError({"user": f"{user.username} may not record deviations: a scientist does"})
    if purpose not in DeviationPurpose.values:
        raise ValidationError({"purpose": f"choose one of {', '.join(DeviationPurpose.values)}"})
    if not (reason or "").strip():
        raise ValidationError({"reason": "a deviation needs a reason"})
    if password is None:
        raise ValidationError({"password": "a deviation is signed: re-enter your password"})
    _check_signature(user, password)
    locked = _lock(item)
    if locked.status in HELD_STATUSES:
        raise ValidationError(
            {"status": f"{locked.code} is {locked.get_status_display().lower()} itself: lift its own hold instead"}
        )
    holds = {hold.item_id: hold for hold in holds_upstream(locked.pk)}
    if not holds:
        raise ValidationError({"holds": f"{locked.code} is not affected: nothing upstream is on hold"})
    chosen = list(dict.fromkeys(int(held_id) for held_id in held_item_ids))
    if not chosen:
        raise ValidationError({"holds": "name the hold(s) this deviation overrides"})
    unknown = [held_id for held_id in chosen if held_id not in holds]
    if unknown:
        raise ValidationError({"holds": f"item {unknown[0]} is not a hold upstream of {locked.code}"})
    done = set(
        Deviation.objects.filter(item=locked, purpose=purpose, held_item_id__in=chosen)
        .values_list("held_item_id", "hold_event_id")
    )
    again = [holds[held_id].code for held_id in chosen if (held_id, holds[held_id].event_id) in done]
    if again:
        raise ValidationError({"holds": f"a deviation for this already overrides the hold of {', '.join(again)}"})
    now = timezone.now()
    deviations = []
    for held_id in chosen:
        deviation = Deviation(
            item=locked, purpose=purpose, held_item_id=held_id, hold_event_id=holds[held_id].event_id,
            reason=reason.strip(), user=user, created_at=now,
        )
        deviation.signature = status_signature(deviation)
        deviation.full_clean(exclude=["item", "held_item", "hold_event", "user", "signature"])
        deviation.save()
        deviations.append(deviation)
    return deviations


def warnings_confirmed_record(
    *, item: TracedItem, user: User, warnings: Iterable[Implausible]
) -> list[ConfirmedWarning]:
    """Keep on ``item`` the implausible values its writer confirmed (``plausibility.warnings_confirm``);
    called by the service that writes the record, in its transaction."""
    rows = [ConfirmedWarning(item=item, code=warning.code, field=warning.field, message=warning.message,
                             confirmed_by=user) for warning in warnings]
    for row in rows:
        row.full_clean(exclude=["item", "confirmed_by"])
        row.save()
    return rows


def record_change_check(*, item: TracedItem, reason: str) -> str:
    """Released records are not edited silently: an edit needs a reason, which goes into the history."""
    if item.status != ItemStatus.DRAFT and not (reason or "").strip():
        status = item.get_status_display().lower()
        raise ValidationError({"change_reason": f"{item.code} is {status}: say why it is changed"})
    return (reason or "").strip()


@transaction.atomic
def record_update(*, record, changes: Mapping[str, Any], user: User, reason: str = ""):
    """Change fields of a traced record (a lot, batch, film, sheet, cell, module): the admin's one writer.

    The record's item is locked while it is checked: a record that is no longer a draft needs ``reason``
    (``record_change_check``), which the history keeps with the editor; then the record is validated as a
    whole, as its create service validated it, before anything is saved. A refusal changes nothing.
    """
    item = TracedItem.objects.select_for_update().get(pk=record.item_id)
    reason = record_change_check(item=item, reason=reason)
    for name, value in changes.items():
        setattr(record, name, value)
    record.full_clean()
    record._change_reason = reason
    record._history_user = user
    record.save()
    return record


def record_correction_check(*, item: TracedItem, user: User, reason: str) -> str:
    """Who may correct a record, and the history's reason for the new version.

    Its creator or a scientist may correct it. A draft is corrected in place (the history keeps the version
    before); a record past draft (released, quarantined) is corrected only with a reason, which the new version
    carries, so the audit shows what was released, what it became and why. Nothing is ever deleted.
    """
    if not (user.is_superuser or item.created_by_id == user.pk or SCIENTIST in user_roles(user)):
        raise ValidationError({"change_reason": f"only the person who recorded {item.code} or a scientist may "
                                                "correct it"})
    reason = record_change_check(item=item, reason=reason)
    if item.status == ItemStatus.DRAFT:
        return f"corrected: {reason}" if reason else "corrected (draft)"
    return f"correction of a {item.get_status_display().lower()} record: {reason}"


# --- Bulk paths: many items or edges in one transaction, for imports and synthetic labs ----------------
#
# They keep the rules that matter at scale (gap-free codes, units, held parents, mass balance, unique
# roles) but check them in aggregate, with a handful of queries per batch instead of a few per row.
# There is NO cycle check: a bulk path is for lineage whose shape is known to be acyclic (a synthetic
# lab built layer by layer, an export of another assbtrack). Single uses from a person go through
# ``edge_create``, which refuses a cycle.

BULK_BATCH_ROWS = 2000
# Parents read, locked and updated per statement; well under SQLite's 999 parameters per query.
BULK_PARENT_BATCH = 400
QUANTITY_DECIMALS = 6
QUANTITY_WHOLE_DIGITS = 10  # max_digits 16 minus 6 decimal places


def _chunks(values: list, size: int) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _bulk_quantity(value, index: int) -> Decimal | None:
    try:
        quantity = _as_quantity(value, "quantities")
    except ValidationError:
        raise ValidationError({"quantities": f"row {index + 1}: {value!r} is not a finite number"}) from None
    if quantity is None:
        return None
    if quantity < 0:
        raise ValidationError({"quantities": f"row {index + 1}: cannot be negative"})
    _, digits, exponent = quantity.as_tuple()
    decimals = max(0, -exponent)
    whole_digits = max(0, len(digits) + exponent)
    if decimals > QUANTITY_DECIMALS or whole_digits > QUANTITY_WHOLE_DIGITS:
        raise ValidationError(
            {"quantities": f"row {index + 1}: {quantity} does not fit {QUANTITY_WHOLE_DIGITS} digits "
             f"before and {QUANTITY_DECIMALS} after the point"}
        )
    return quantity


@transaction.atomic
def items_bulk_create(
    *,
    kind: str,
    project: Project,
    user: User,
    quantities: list,
    unit: str,
    notes: str = "",
    history: bool = True,
) -> list[TracedItem]:
    """``len(quantities)`` new draft items of ``kind``, with consecutive codes, in one transaction.

    The block of codes is taken with ONE counter UPDATE (by n), so it is gap-free and no concurrent
    creation can interleave; the rows go in with ``bulk_create`` in batches. ``quantities`` may hold
    ``None`` for items without a quantity. ``history=False`` skips the creation rows of the audit
    history (for throw-away data only: a real import keeps them).
    """
    if kind not in KIND_PREFIX:
        raise ValidationError({"kind": f"unknown kind {kind!r}"})
    if unit and unit not in QuantityUnit.values:
        raise ValidationError({"unit": f"unknown unit {unit!r}; use one of {', '.join(QuantityUnit.values)}"})
    values = [_bulk_quantity(value, index) for index, value in enumerate(quantities)]
    if not values:
        return []
    if not unit and any(value is not None for value in values):
        raise ValidationError({"unit": "a quantity needs a unit"})

    count = len(values)
    CodeCounter.objects.bulk_create([CodeCounter(kind=kind, last_number=0)], ignore_conflicts=True)
    CodeCounter.objects.filter(kind=kind).update(last_number=F("last_number") + count)
    last = CodeCounter.objects.values_list("last_number", flat=True).get(kind=kind)
    first = last - count + 1
    prefix = KIND_PREFIX[kind]
    items = [
        TracedItem(
            code=f"{prefix}-{first + offset:0{CODE_DIGITS}d}", kind=kind, project=project,
            quantity=value, unit=unit if value is not None else "", notes=notes, created_by=user,
        )
        for offset, value in enumerate(values)
    ]
    TracedItem.objects.bulk_create(items, batch_size=BULK_BATCH_ROWS)
    if history:
        TracedItem.history.bulk_history_create(
            items, batch_size=BULK_BATCH_ROWS, default_user=user, default_change_reason="bulk create"
        )
    return items


@consuming_path("use")
@transaction.atomic
def edges_bulk_create(
    *,
    edges: list[tuple],
    user: User,
    history: bool = True,
) -> list[LineageEdge]:
    """Record many uses at once: ``edges`` are ``(parent_id, child_id, amount, unit, role)`` tuples.

    Checked in aggregate before anything is written (``ValidationError`` naming the parent or the row):
    roles, self-use, repeated uses, parents of another project than their child's, held parents, affected
    parents without a deviation for use (one lineage query per batch of parents), units, and mass balance per
    parent: the sum of the new uses of each parent must fit what it has left. Parents are locked in id order,
    their ``quantity_used`` grows by one UPDATE per batch of parents, and a draft or released parent that is
    used up becomes consumed, as with ``edge_create``. No cycle check: see the note above.
    """
    rows: list[tuple[int, int, Decimal | None, str, str]] = []
    seen: set[tuple[int, int, str]] = set()
    for index, edge in enumerate(edges):
        try:
            parent_id, child_id, amount, unit, role = edge
        except (TypeError, ValueError):
            raise ValidationError(
                {"edges": f"row {index + 1}: expected (parent_id, child_id, amount, unit, role)"}
            ) from None
        if role not in LineageRole.values:
            raise ValidationError({"role": f"row {index + 1}: unknown role {role!r}"})
        if parent_id == child_id:
            raise ValidationError({"parent": f"row {index + 1}: item {parent_id} cannot be used in itself"})
        if (parent_id, child_id, role) in seen:
            raise ValidationError({"parent": f"row {index + 1}: item {child_id} uses {parent_id} as {role} twice"})
        seen.add((parent_id, child_id, role))
        try:
            amount = _as_quantity(amount, "amount")
        except ValidationError:
            raise ValidationError({"amount": f"row {index + 1}: {amount!r} is not a finite number"}) from None
        if amount is not None and amount <= 0:
            raise ValidationError({"amount": f"row {index + 1}: must be greater than zero"})
        rows.append((parent_id, child_id, amount, unit or "", role))
    if not rows:
        return []

    parent_ids = sorted({row[0] for row in rows})
    parents: dict[int, tuple] = {}
    for batch in _chunks(parent_ids, BULK_PARENT_BATCH):
        locked = (
            TracedItem.objects.select_for_update().filter(pk__in=batch).order_by("pk")
            .values_list("pk", "code", "status", "status_reason", "quantity", "quantity_used", "unit", "project_id")
        )
        parents.update({row[0]: row[1:] for row in locked})
    missing = [parent_id for parent_id in parent_ids if parent_id not in parents]
    if missing:
        raise ValidationError({"parent": f"no item with id {missing[0]}"})
    child_ids = sorted({row[1] for row in rows})
    children: dict[int, tuple[str, int]] = {}
    for batch in _chunks(child_ids, BULK_PARENT_BATCH):
        children.update({pk: (code, project_id) for pk, code, project_id in
                         TracedItem.objects.filter(pk__in=batch).values_list("pk", "code", "project_id")})
    if len(children) != len(child_ids):
        raise ValidationError({"child": "some children do not exist"})
    for index, (parent_id, child_id, _amount, _unit, _role) in enumerate(rows):
        if parents[parent_id][6] != children[child_id][1]:
            parent = TracedItem(pk=parent_id, code=parents[parent_id][0], project_id=parents[parent_id][6])
            child = TracedItem(pk=child_id, code=children[child_id][0], project_id=children[child_id][1])
            raise ValidationError({"parent": _other_project_refusal(parent, child, row=index + 1)})
    affected: set[int] = set()
    for batch in _chunks(parent_ids, BULK_PARENT_BATCH):
        affected.update(held_ancestors_for(batch))
    blocked: dict[int, list[Hold]] = {}
    for parent_id in sorted(affected):  # only affected parents cost more queries: one hold walk each
        holds = holds_without_deviation(parent_id, purpose=DeviationPurpose.USE)
        if holds:
            blocked[parent_id] = holds

    drawn: dict[int, Decimal] = {}
    new_edges: list[LineageEdge] = []
    for index, (parent_id, child_id, amount, unit, role) in enumerate(rows):
        code, status, reason, quantity, _used, stock_unit, _project = parents[parent_id]
        if status in HELD_STATUSES:
            why = f": {reason}" if reason else ""
            raise ValidationError({"parent": f"{code} is {ItemStatus(status).label.lower()}{why}"})
        if parent_id in blocked:
            raise ValidationError(
                {"parent": [f"row {index + 1}: {affected_refusal(code, hold)}" for hold in blocked[parent_id]]}
            )
        stock_amount = None
        if amount is not None:
            if quantity is None:
                raise ValidationError({"amount": f"{code} has no recorded quantity to draw from"})
            try:
                stock_amount = convert_amount(amount, unit or stock_unit, stock_unit)
            except UnitMismatch as error:
                raise ValidationError({"unit": f"row {index + 1}: {error}"}) from None
            drawn[parent_id] = drawn.get(parent_id, Decimal(0)) + stock_amount
        elif quantity is not None:
            raise ValidationError({"amount": f"say how much of {code} was used ({stock_unit})"})
        new_edges.append(
            LineageEdge(parent_id=parent_id, child_id=child_id, role=role, amount=stock_amount,
                        unit=stock_unit if stock_amount is not None else "", created_by=user)
        )
    for parent_id, total in drawn.items():
        code, _status, _reason, quantity, used, stock_unit, _project = parents[parent_id]
        remaining = quantity - used
        if total > remaining:
            raise ValidationError(
                {"parent": f"{code} has only {remaining.normalize():f} {stock_unit} left; "
                 f"{total.normalize():f} {stock_unit} asked by this import"}
            )

    from django.db import IntegrityError

    try:
        with transaction.atomic():
            LineageEdge.objects.bulk_create(new_edges, batch_size=BULK_BATCH_ROWS)
    except IntegrityError:
        raise ValidationError(
            {"parent": "one of these uses is recorded already (same parent, child and role)"}
        ) from None
    if history:
        LineageEdge.history.bulk_history_create(
            new_edges, batch_size=BULK_BATCH_ROWS, default_user=user, default_change_reason="bulk create"
        )

    drawn_ids = sorted(drawn)
    for batch in _chunks(drawn_ids, BULK_PARENT_BATCH):
        _quantity_used_add(batch, drawn)

    used_up = [
        parent_id for parent_id in drawn_ids
        if parents[parent_id][1] in USED_UP_FROM
        and parents[parent_id][3] - parents[parent_id][4] - drawn[parent_id] == 0
    ]
    if used_up:
        first_child: dict[int, int] = {}
        for row in rows:
            first_child.setdefault(row[0], row[1])
        _used_up_bulk_consume(used_up, first_child, user=user, history=history)
    return new_edges


def _used_up_bulk_consume(parent_ids: list[int], first_child: dict[int, int], *, user: User, history: bool) -> None:
    """Mark used-up parents consumed, as ``edge_create`` does one by one: per batch of parents, one read, one
    insert of status events, one UPDATE and (with ``history``) one insert of history rows."""
    now = timezone.now()
    for batch in _chunks(parent_ids, BULK_PARENT_BATCH):
        items = list(TracedItem.objects.filter(pk__in=batch).order_by("pk"))
        child_codes = dict(
            TracedItem.objects.filter(pk__in={first_child[item.pk] for item in items}).values_list("pk", "code")
        )
        events = []
        for item in items:
            reason = f"used up by {child_codes[first_child[item.pk]]} (bulk)"
            events.append(StatusEvent(item=item, from_status=item.status, to_status=ItemStatus.CONSUMED, reason=reason,
                                      user=user, created_at=now))
            item.status, item.status_reason, item.updated_at = ItemStatus.CONSUMED, reason, now
            item._change_reason = reason
        StatusEvent.objects.bulk_create(events, batch_size=BULK_BATCH_ROWS)
        TracedItem.objects.bulk_update(items, ["status", "status_reason", "updated_at"], batch_size=BULK_PARENT_BATCH)
        if history:
            TracedItem.history.bulk_history_create(items, batch_size=BULK_BATCH_ROWS, default_user=user)


def _quantity_used_add(parent_ids: list[int], drawn: dict[int, Decimal]) -> None:
    """Add each parent's ``drawn`` amount to its ``quantity_used``: ONE statement for the whole batch.

    An UPDATE ... FROM a VALUES list (SQLite 3.33+ and PostgreSQL alike); the database's mass-balance
    constraint still guards every row.
    """
    from django.db import connection

    table = connection.ops.quote_name(TracedItem._meta.db_table)
    values = ", ".join(["(CAST(%s AS BIGINT), CAST(%s AS NUMERIC))"] * len(parent_ids))
    sql = (
        f"WITH used(item_id, amount) AS (VALUES {values}) "
        f"UPDATE {table} SET quantity_used = {table}.quantity_used + used.amount "
        f"FROM used WHERE {table}.id = used.item_id"
    )
    params: list = []
    for parent_id in parent_ids:
        params += [parent_id, drawn[parent_id]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def records_bulk_create(
    model,
    *,
    rows: list[dict],
    kind: str | tuple[str, ...] | None = None,
    history: bool = True,
    user: User | None = None,
) -> list:
    """Many rows of a domain table at once (the bulk path behind each app's ``*_bulk_create``).

    With ``kind`` (one kind or a tuple of kinds), each row names its traced item (``item_id``, made by
    ``items_bulk_create``) and every item must be of that kind: checked with one query per batch. Every
    row is checked field by field (types, choices, lengths, validators: ``clean_fields``) with the
    refusal keyed ``rows.<i>.<field>``;
    relations and the rules that span fields are left to the database's foreign keys and constraints,
    which refuse the whole batch. Rows go in with ``bulk_create``; ``history=False`` skips the creation
    rows of the audit history (throw-away data only).
    """
    from django.db.models import ForeignKey, OneToOneField

    relations = [field.name for field in model._meta.concrete_fields if isinstance(field, (ForeignKey, OneToOneField))]
    records = []
    for index, values in enumerate(rows):
        record = model(**values)
        try:
            record.clean_fields(exclude=relations)
        except ValidationError as error:
            raise ValidationError(
                {f"rows.{index}.{field}": problems for field, problems in error.message_dict.items()}
            ) from None
        records.append(record)
    if not records:
        return []
    if kind is not None:
        ids = [record.pk for record in records]
        if None in ids or len(set(ids)) != len(ids):
            raise ValidationError({"rows": "each row needs its own item_id"})
        kinds = [str(one) for one in ((kind,) if isinstance(kind, str) else kind)]
        for batch in _chunks(ids, BULK_PARENT_BATCH):
            found = TracedItem.objects.filter(pk__in=batch, kind__in=kinds).count()
            if found != len(batch):
                raise ValidationError({"rows": f"some item_id is not an item of kind {' or '.join(kinds)}"})
    with transaction.atomic():
        model.objects.bulk_create(records, batch_size=BULK_BATCH_ROWS)
        if history and hasattr(model, "history"):
            model.history.bulk_history_create(
                records, batch_size=BULK_BATCH_ROWS, default_user=user, default_change_reason="bulk create"
            )
    return records
