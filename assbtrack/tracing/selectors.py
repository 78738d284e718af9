"""Reads of the lineage graph. Each trace is ONE recursive query, whatever the depth or fan-out.

The walk uses ``UNION`` (not ``UNION ALL``) so that an ancestor shared by several branches is visited
once and a corrupt cycle cannot loop forever. The same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Max, QuerySet

from assbtrack.access.selectors import projects_visible_to, scope_to_user, user_is_lab_staff

from .choices import HELD_STATUSES, ItemStatus
from .models import Deviation, LineageEdge, StatusEvent, TracedItem
from .registry import kind_info, registered_kinds

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"


class LineageNode(NamedTuple):
    """One item of a trace (a named tuple for the same reason as ``LineageLink``)."""

    id: int
    code: str
    kind: str
    status: str
    status_reason: str
    project_id: int
    depth: int

    @property
    def is_held(self) -> bool:
        return self.status in HELD_STATUSES


class LineageLink(NamedTuple):
    """One edge of a trace. A named tuple rather than a dataclass: a trace of thousands of items makes
    tens of thousands of these, and a tuple is made several times faster."""

    parent_id: int
    child_id: int
    amount: Decimal | None
    unit: str
    role: str


@dataclass
class Lineage:
    """The items reached from ``root`` in one direction, and every edge between them."""

    root: TracedItem
    direction: str
    nodes: dict[int, LineageNode] = field(default_factory=dict)
    links: list[LineageLink] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.nodes)

    def ordered(self) -> list[LineageNode]:
        return sorted(self.nodes.values(), key=lambda node: (node.depth, node.kind, node.code))

    def held(self) -> list[LineageNode]:
        return [node for node in self.ordered() if node.is_held]

    def rows(self) -> list[dict]:
        """One row per link, nearest first: the far node, the link, and the code on the near side."""
        codes = {node.id: node.code for node in self.nodes.values()}
        codes[self.root.pk] = self.root.code
        far, near = ("parent_id", "child_id") if self.direction == UPSTREAM else ("child_id", "parent_id")
        rows = [
            {"node": self.nodes[getattr(link, far)], "link": link, "other": codes[getattr(link, near)]}
            for link in self.links
        ]
        rows.sort(key=lambda row: (row["node"].depth, row["node"].code, row["other"]))
        return rows


def _walk_sql(direction: str) -> str:
    """The walk, then two kinds of rows: each edge met (tag 0) and each item reached (tag 1, once each).

    Items come once, not once per edge into them: a trace of 5,000 items has about twice as many edges.
    The columns line up by type for PostgreSQL's UNION (ids, ids, amount, then texts).
    """
    edge = LineageEdge._meta.db_table
    item = TracedItem._meta.db_table
    # upstream: from a child to its parents; downstream: from a parent to its children.
    near, far = ("child_id", "parent_id") if direction == UPSTREAM else ("parent_id", "child_id")
    return f"""
        WITH RECURSIVE walk(id) AS (
            SELECT CAST(%s AS BIGINT)
            UNION
            SELECT e.{far} FROM {edge} e JOIN walk w ON e.{near} = w.id
        )
        SELECT 0, e.parent_id, e.child_id, e.amount, e.unit, e.role, NULL, NULL
        FROM walk w JOIN {edge} e ON e.{near} = w.id
        UNION ALL
        SELECT 1, i.id, i.project_id, NULL, i.code, i.kind, i.status, i.status_reason
        FROM walk w JOIN {item} i ON i.id = w.id
    """


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Reading and building a trace makes tens of thousands of small objects, none in a reference cycle:
    a garbage collection triggered half-way would scan the whole process for nothing (tens of ms)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def lineage_trace(
    item: TracedItem, *, direction: str, visible_project_ids: set[int] | None = None
) -> Lineage:
    """Everything upstream (what went into ``item``) or downstream (what used it), in one query.

    With ``visible_project_ids`` the nodes of other projects are left out, with their edges, so a
    partner never learns of an item outside the projects shared with them.
    """
    if direction not in (UPSTREAM, DOWNSTREAM):
        raise ValueError(f"direction must be {UPSTREAM!r} or {DOWNSTREAM!r}")
    with _collection_paused():
        with connection.cursor() as cursor:
            cursor.execute(_walk_sql(direction), [item.pk])
            rows = cursor.fetchall()
        return _lineage_from_rows(item, direction, rows, visible_project_ids)


def _lineage_from_rows(
    item: TracedItem, direction: str, rows: list[tuple], visible_project_ids: set[int] | None
) -> Lineage:
    lineage = Lineage(root=item, direction=direction)
    nodes: dict[int, tuple] = {}
    edge_rows: list[tuple] = []
    for row in rows:
        if row[0]:
            if visible_project_ids is None or row[2] in visible_project_ids or row[1] == item.pk:
                nodes[row[1]] = row
        else:
            edge_rows.append(row)
    links: list[LineageLink] = []
    append = links.append
    for _tag, parent_id, child_id, amount, unit, role, _status, _reason in edge_rows:
        if parent_id in nodes and child_id in nodes:
            if amount is not None and amount.__class__ is not Decimal:
                amount = Decimal(str(amount))
            append(LineageLink(parent_id, child_id, amount, unit, role))
    depths = _depths(item.pk, links, direction)
    if len(depths) < len(nodes):  # scoping cut some items off from the root: their links go too
        links = [link for link in links if link[0] in depths and link[1] in depths]
    for node_id, row in nodes.items():
        depth = depths.get(node_id)
        if depth:  # the root (depth 0) is not a node of its own trace
            lineage.nodes[node_id] = LineageNode(node_id, row[4], row[5], row[6], row[7], row[2], depth)
    links.sort(key=lambda link: (depths[link[0]], link[0], link[1]))
    lineage.links = links
    return lineage


def _depths(root_id: int, links: list[LineageLink], direction: str) -> dict[int, int]:
    """Shortest distance from the root (which is 0); nodes cut off by scoping are unreachable, so absent."""
    following: dict[int, list[int]] = defaultdict(list)
    near, far = (1, 0) if direction == UPSTREAM else (0, 1)
    for link in links:
        following[link[near]].append(link[far])
    depths = {root_id: 0}
    frontier = [root_id]
    depth = 0
    while frontier:
        depth += 1
        reached = []
        for current in frontier:
            for nxt in following.get(current, ()):
                if nxt not in depths:
                    depths[nxt] = depth
                    reached.append(nxt)
        frontier = reached
    return depths


def lineage_upstream(item: TracedItem, *, user: User | AnonymousUser | None = None) -> Lineage:
    return lineage_trace(item, direction=UPSTREAM, visible_project_ids=_visible_ids(user))


def lineage_downstream(item: TracedItem, *, user: User | AnonymousUser | None = None) -> Lineage:
    return lineage_trace(item, direction=DOWNSTREAM, visible_project_ids=_visible_ids(user))


def _visible_ids(user: User | AnonymousUser | None) -> set[int] | None:
    if user is None or user_is_lab_staff(user):
        return None
    return set(projects_visible_to(user).values_list("pk", flat=True))


def lineage_hydrate(lineage: Lineage) -> dict[int, object]:
    """The domain record of every node: one query per kind present, never one per node."""
    ids_by_kind: dict[str, list[int]] = defaultdict(list)
    for node in lineage.nodes.values():
        ids_by_kind[node.kind].append(node.id)
    records: dict[int, object] = {}
    for kind, ids in ids_by_kind.items():
        info = kind_info(kind)
        if info.model is None:
            continue
        query = info.model.objects.filter(pk__in=ids).select_related("item", *info.select_related)
        records.update({record.pk: record for record in query})
    return records


WITHHELD = "withheld"


class HeldAncestor(NamedTuple):
    """A quarantined or rejected item upstream of another. For a reader who may not see its project,
    only the fact survives: ``withheld`` is True and code, kind and reason are hidden."""

    id: int | None
    code: str
    kind: str
    status: str
    status_reason: str
    project_id: int | None
    withheld: bool = False


def _id_list_sql(ids: list[int]) -> tuple[str, list]:
    """A one-column row source of ``ids`` bound as ONE parameter (a JSON array on SQLite, an array on
    PostgreSQL), so a page or an export block of any size is one statement without a limit on parameters."""
    if connection.vendor == "postgresql":
        return "SELECT unnest(CAST(%s AS BIGINT[]))", [ids]
    return "SELECT CAST(value AS INTEGER) FROM json_each(%s)", [json.dumps(ids)]


def held_ancestors_for(
    item_ids: Iterable[int], *, visible_project_ids: set[int] | QuerySet | None = None
) -> dict[int, list[HeldAncestor]]:
    """For each of ``item_ids``, the quarantined or rejected items upstream of it: ONE recursive query for a
    whole page (or export block) of items, on SQLite and PostgreSQL alike.

    This is the one definition of *affected*: an item is affected when this lists something for it. The
    ancestors are strict: an item that is itself held is *held*, not affected by itself (it is affected too
    when something upstream of it is held). Items with nothing held upstream are absent from the answer.

    With ``visible_project_ids`` (a partner's projects: a set of ids, or a queryset of projects, which is
    then a subquery of the same statement), a held ancestor in another project still makes the item
    affected, but comes back as one ``withheld`` entry per item, without its code, kind or reason.
    Within each item the ancestors come by code, a withheld entry last.
    """
    ids = list(dict.fromkeys(int(item_id) for item_id in item_ids if item_id is not None))
    if not ids:
        return {}
    edge = LineageEdge._meta.db_table
    item = TracedItem._meta.db_table
    start_sql, params = _id_list_sql(ids)
    held = ", ".join(["%s"] * len(HELD_STATUSES))
    visible_sql, visible_params = "1", []
    if isinstance(visible_project_ids, QuerySet):
        projects_sql, visible_params = visible_project_ids.order_by().values("pk").query.sql_with_params()
        visible_sql = f"CASE WHEN i.project_id IN ({projects_sql}) THEN 1 ELSE 0 END"
    elif visible_project_ids is not None:
        ids_sql, visible_params = _id_list_sql(sorted(visible_project_ids))
        visible_sql = f"CASE WHEN i.project_id IN ({ids_sql}) THEN 1 ELSE 0 END"
    sql = f"""
        WITH RECURSIVE start_ids(id) AS ({start_sql}),
        up(start_id, id) AS (
            SELECT e.child_id, e.parent_id FROM {edge} e JOIN start_ids s ON e.child_id = s.id
            UNION
            SELECT up.start_id, e.parent_id FROM {edge} e JOIN up ON e.child_id = up.id
        )
        SELECT up.start_id, i.id, i.code, i.kind, i.status, i.status_reason, i.project_id, {visible_sql}
        FROM up JOIN {item} i ON i.id = up.id
        WHERE i.status IN ({held})
    """
    rows_by_start: dict[int, list[tuple]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *visible_params, *[str(status) for status in HELD_STATUSES]])
        for row in cursor.fetchall():
            rows_by_start[row[0]].append(row)
    result: dict[int, list[HeldAncestor]] = {}
    for start_id, rows in rows_by_start.items():
        rows.sort(key=lambda row: row[2])
        seen: list[HeldAncestor] = []
        withheld = False
        for _start, held_id, code, kind, status, reason, project_id, visible in rows:
            if not visible:
                withheld = True
                continue
            seen.append(HeldAncestor(held_id, code, kind, status, reason, project_id))
        if withheld:
            seen.append(HeldAncestor(None, WITHHELD, "", "", "", None, withheld=True))
        result[start_id] = seen
    return result


def affected_by_codes(ancestors: Iterable[HeldAncestor]) -> list[str]:
    """The codes of held ancestors as a reader may see them (``withheld`` for the others): the
    ``affected_by`` of the API and exports."""
    return [ancestor.code for ancestor in ancestors]


def visible_project_ids_for(user: User | AnonymousUser | None) -> QuerySet | None:
    """The projects ``user`` may read (a queryset, used as a subquery: no query of its own), or None for
    lab staff and internal callers, who see every project."""
    if user is None or user_is_lab_staff(user):
        return None
    return projects_visible_to(user)


def held_ancestors_visible_to(
    item_ids: Iterable[int], *, user: User | AnonymousUser | None
) -> dict[int, list[HeldAncestor]]:
    """``held_ancestors_for`` of ``item_ids`` as ``user`` may see them: the *affected* of every page, API
    answer and report (a held ancestor of a project not shared with a partner is ``withheld``)."""
    return held_ancestors_for(list(item_ids), visible_project_ids=visible_project_ids_for(user))


def mark_affected(objects: Iterable, *, user: User | AnonymousUser | None) -> list:
    """Give every item of a page (traced items, or records with an ``item``) its ``held_ancestors`` list,
    computed with one lineage query for the whole page; templates show "affected" from it."""
    objects = list(objects)
    items = [getattr(obj, "item", obj) for obj in objects]
    held = held_ancestors_visible_to([item.pk for item in items], user=user)
    for item in items:
        item.held_ancestors = held.get(item.pk, [])
    return objects


def affected_items_sql() -> tuple[str, list]:
    """SQL (and its parameters) for the ids of every affected item: everything downstream of a held item.
    For filters (``id IN (...)``) and counts: one statement, whatever the number of items."""
    edge = LineageEdge._meta.db_table
    item = TracedItem._meta.db_table
    held = ", ".join(["%s"] * len(HELD_STATUSES))
    sql = f"""
        WITH RECURSIVE down(id) AS (
            SELECT e.child_id FROM {edge} e JOIN {item} i ON i.id = e.parent_id WHERE i.status IN ({held})
            UNION
            SELECT e.child_id FROM {edge} e JOIN down ON e.parent_id = down.id
        )
        SELECT id FROM down
    """
    return sql, [str(status) for status in HELD_STATUSES]


def filter_affected(queryset: QuerySet, *, affected: bool, item_field: str = "pk") -> QuerySet:
    """``queryset`` kept to affected items (or to the others): a subquery, not a list of ids."""
    from django.db.models.expressions import RawSQL

    sql, params = affected_items_sql()
    condition = {f"{item_field}__in": RawSQL(sql, params)}
    return queryset.filter(**condition) if affected else queryset.exclude(**condition)


def affected_count(user: User | AnonymousUser) -> int:
    """How many of the items ``user`` may see are affected by a hold upstream: one query."""
    return filter_affected(items_visible_to(user), affected=True).count()


def is_ancestor(candidate_id: int, of_id: int) -> bool:
    """Whether ``candidate_id`` is upstream of ``of_id`` (or the same item): used to refuse cycles."""
    if candidate_id == of_id:
        return True
    edge = LineageEdge._meta.db_table
    sql = f"""
        WITH RECURSIVE up(id) AS (
            SELECT parent_id FROM {edge} WHERE child_id = %s
            UNION
            SELECT e.parent_id FROM {edge} e JOIN up ON e.child_id = up.id
        )
        SELECT 1 FROM up WHERE id = %s LIMIT 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [of_id, candidate_id])
        return cursor.fetchone() is not None


def items_visible_to(user: User | AnonymousUser) -> QuerySet[TracedItem]:
    return scope_to_user(TracedItem.objects.select_related("project"), user)


def item_get_for_user(code: str, user: User | AnonymousUser) -> TracedItem | None:
    return items_visible_to(user).filter(code=code.strip().upper()).first()


def items_recent(user: User | AnonymousUser, *, limit: int = 15) -> list[TracedItem]:
    return list(items_visible_to(user).select_related("created_by")[:limit])


def status_counts(user: User | AnonymousUser) -> dict[str, int]:
    from django.db.models import Count

    rows = items_visible_to(user).order_by().values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def status_events_recent(user: User | AnonymousUser, *, to_statuses: tuple[str, ...], limit: int = 10) -> list:
    """The latest releases (or quarantines, rejections) the user may see, newest first: one query."""
    visible = items_visible_to(user).values("pk")
    events = StatusEvent.objects.filter(to_status__in=to_statuses, item__in=visible)
    return list(events.select_related("item", "user")[:limit])


def items_awaiting_qc(user: User | AnonymousUser, *, limit: int = 10) -> tuple[int, list[TracedItem]]:
    """Draft items of the kinds that have a QC gate (a registered release check): count and oldest first."""
    gated = [info.kind for info in registered_kinds() if info.release_checks]
    waiting = items_visible_to(user).filter(kind__in=gated, status=ItemStatus.DRAFT).order_by("created_at", "pk")
    return waiting.count(), list(waiting[:limit])


# --- holds upstream of one item, and the deviations that override them ------------------------------------


@dataclass(frozen=True)
class Hold:
    """A quarantined or rejected item upstream of another, with the status event that put it on hold."""

    item_id: int
    code: str
    status: str
    reason: str
    event_id: int | None
    at: object | None  # the hold's datetime (None for a hold recorded without an event)
    by: str


def holds_upstream(item_id: int) -> list[Hold]:
    """The holds upstream of one item, by code: one recursive query, and one more only if there are any.

    Each hold comes with its latest status event into the held status (who, when), which is what a
    deviation names: a hold lifted and placed again is a new event, so a new hold.
    """
    # the one definition of what is held upstream (held_ancestors_for), for this one item
    rows = [(held.id, held.code, held.status, held.status_reason)
            for held in held_ancestors_for([item_id]).get(item_id, [])]
    if not rows:
        return []
    latest: dict[int, StatusEvent] = {}
    statuses = {row[0]: row[2] for row in rows}
    events = StatusEvent.objects.filter(item_id__in=statuses).select_related("user").order_by("item_id", "-id")
    for event in events:
        if event.to_status == statuses[event.item_id]:
            latest.setdefault(event.item_id, event)
    holds = []
    for held_id, code, status, reason in rows:
        event = latest.get(held_id)
        holds.append(Hold(held_id, code, status, reason, event.pk if event else None,
                          event.created_at if event else None, event.user.username if event else ""))
    return holds


def deviations_of(item: TracedItem) -> list:
    """The deviations recorded for ``item``, newest first, each marked ``in_force`` (two queries)."""
    return deviations_for([item.pk])


def deviations_for(item_ids: Iterable[int]) -> list:
    """The deviations recorded for any of ``item_ids``, newest first: one query for them, one for their holds.

    Each is marked ``in_force`` while the hold it names still stands: its held ancestor is still held and
    the hold event it names is that item's latest status change (a lift, or a hold placed again, ends it).
    """
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return []
    deviations = list(
        Deviation.objects.filter(item_id__in=ids)
        .select_related("item", "user", "held_item", "hold_event", "hold_event__user")
    )
    if deviations:
        latest = dict(
            StatusEvent.objects.filter(item_id__in={deviation.held_item_id for deviation in deviations})
            .order_by().values("item_id").annotate(last=Max("id")).values_list("item_id", "last")
        )
        for deviation in deviations:
            deviation.in_force = (
                deviation.held_item.status in HELD_STATUSES
                and deviation.hold_event_id == latest.get(deviation.held_item_id)
            )
    return deviations
