"""Reports built on lineage: impact (recall), composition ("what went into this?"), search, QR labels, CSV and PDF.

Each report costs a fixed number of queries: one lineage query, one per kind to hydrate records,
one for the partner grants; never one per item.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import segno
from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.db.models import Q
from django.http import HttpRequest

from assbtrack.access.models import ProjectGrant

from .fields import code_from_text
from .models import TracedItem
from .registry import kind_info, registered_kinds
from .selectors import (
    HeldAncestor,
    Lineage,
    LineageNode,
    affected_by_codes,
    deviations_for,
    held_ancestors_visible_to,
    items_visible_to,
    lineage_downstream,
    lineage_hydrate,
    lineage_upstream,
)


def code_from_scan(text: str) -> str:
    """The item code in what a scanner typed (a bare code, the QR's "CODE URL" text, a page address)."""
    return code_from_text(text) or text.strip().upper()


def item_qr_payload(item: TracedItem, url: str) -> str:
    """What a label's QR code holds: the code (what a form needs) and the page address (what a phone opens)."""
    return f"{item.code} {url}"


def item_qr_svg(item: TracedItem, request: HttpRequest | None = None, *, scale: int = 3) -> str:
    """A QR code holding the item's code and its page address, as inline SVG."""
    url = item.get_absolute_url()
    if request is not None:
        url = request.build_absolute_uri(url)
    qr = segno.make(item_qr_payload(item, url), error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=scale, xmldecl=False, svgns=True, nl=False, border=2,
            title=f"QR code of {item.code}")
    return buffer.getvalue().decode()


# --- CSV ---------------------------------------------------------------------------------------


LINEAGE_COLUMNS = ["depth", "code", "kind", "status", "affected", "affected_by", "role", "amount", "unit", "linked_to"]


def _affected_cells(held: list[HeldAncestor]) -> list[str]:
    return ["true" if held else "false", " ".join(affected_by_codes(held))]


def lineage_csv_rows(lineage: Lineage, held: dict[int, list[HeldAncestor]]) -> Iterator[list]:
    """One row per link; ``held`` is ``held_ancestors_for`` of the nodes (the affected columns)."""
    for row in lineage.rows():
        node, link = row["node"], row["link"]
        amount = "" if link.amount is None else f"{link.amount.normalize():f}"
        yield [node.depth, node.code, node.kind, node.status, *_affected_cells(held.get(node.id, [])), link.role,
               amount, link.unit, row["other"]]


# --- impact (recall) report ----------------------------------------------------------------------


@dataclass
class ImpactRow:
    node: LineageNode
    record: object | None
    used_in: list[str]
    organisations: list[str]


@dataclass
class ImpactReport:
    item: TracedItem
    lineage: Lineage
    rows: list[ImpactRow] = field(default_factory=list)
    # signed deviations recorded for items downstream: what was released or used despite a hold
    deviations: list = field(default_factory=list)
    held: dict[int, list[HeldAncestor]] = field(default_factory=dict)

    @property
    def held_count(self) -> int:
        return sum(1 for row in self.rows if row.node.is_held)

    def csv_rows(self) -> Iterator[list]:
        for row in self.rows:
            yield [row.node.code, row.node.kind, row.node.status, *_affected_cells(self.held.get(row.node.id, [])),
                   row.node.depth, " ".join(row.used_in), "; ".join(row.organisations)]


IMPACT_COLUMNS = ["code", "kind", "status", "affected", "affected_by", "depth", "used_in", "partner_organisations"]


def _organisations_by_project(project_ids: set[int]) -> dict[int, list[str]]:
    grants = ProjectGrant.objects.filter(project_id__in=project_ids).select_related("organisation")
    by_project: dict[int, list[str]] = defaultdict(list)
    for grant in grants.order_by("organisation__name"):
        by_project[grant.project_id].append(grant.organisation.name)
    return by_project


def impact_report(item: TracedItem, user: User | AnonymousUser) -> ImpactReport:
    lineage = lineage_downstream(item, user=user)
    records = lineage_hydrate(lineage)
    codes = {node.id: node.code for node in lineage.nodes.values()}
    used_in: dict[int, list[str]] = defaultdict(list)
    for link in lineage.links:
        if link.parent_id in codes and link.child_id in codes:
            used_in[link.parent_id].append(codes[link.child_id])
    organisations = _organisations_by_project({node.project_id for node in lineage.nodes.values()})
    held = held_ancestors_visible_to(lineage.nodes, user=user)
    report = ImpactReport(item=item, lineage=lineage, held=held)
    for node in lineage.ordered():
        report.rows.append(
            ImpactRow(node, records.get(node.id), sorted(used_in[node.id]), organisations.get(node.project_id, []))
        )
    report.deviations = deviations_for(lineage.nodes)
    return report


def impact_pdf(report: ImpactReport) -> bytes:
    """The impact report as a printable PDF (A4, one table)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=f"Impact report {report.item.code}")
    story = [
        Paragraph(f"Impact report: {report.item.code}", styles["Title"]),
        Paragraph(
            f"Status {report.item.status}{': ' + report.item.status_reason if report.item.status_reason else ''}. "
            f"{len(report.rows)} items downstream, {report.held_count} held.", styles["Normal"],
        ),
        Spacer(1, 12),
    ]
    data = [["Code", "Kind", "Status", "Affected", "Affected by", "Depth", "Used in", "Partners"]]
    data += [[str(cell) for cell in row] for row in report.csv_rows()]
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eaecf0")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d0d5dd")),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
    ]))
    story.append(table)
    document.build(story)
    return buffer.getvalue()


# --- composition ("what went into this?") ---------------------------------------------------------


SKIPPED_FACT_FIELDS = {"item", "id"}


def record_facts(record: models.Model) -> list[tuple[str, str]]:
    """Label/value pairs of a record: the kind's own ``facts`` if registered, else every filled-in field."""
    info = kind_info(record.item.kind) if hasattr(record, "item") else None
    if info is not None and info.facts is not None:
        return info.facts(record)
    facts = []
    for model_field in record._meta.concrete_fields:
        if model_field.name in SKIPPED_FACT_FIELDS or model_field.is_relation:
            continue
        value = getattr(record, model_field.name)
        if value in (None, ""):
            continue
        if model_field.choices:
            value = getattr(record, f"get_{model_field.name}_display")()
        elif isinstance(value, float):
            value = f"{value:.4g}"
        facts.append((str(model_field.verbose_name), str(value)))
    return facts


def composition_report(item: TracedItem, user: User | AnonymousUser) -> dict:
    lineage = lineage_upstream(item, user=user)
    records = lineage_hydrate(lineage)
    rows = []
    for row in lineage.rows():
        record = records.get(row["node"].id)
        rows.append({**row, "facts": record_facts(record) if record is not None else []})
    held = held_ancestors_visible_to([item.pk], user=user).get(item.pk, [])
    return {"lineage": lineage, "rows": rows, "held": held}


# --- search ---------------------------------------------------------------------------------------


def _text_fields(model: type[models.Model]) -> list[str]:
    return [
        f.name for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField)) and not f.choices
    ]


def search_items(query: str, user: User | AnonymousUser, *, limit: int = 50) -> list[dict]:
    """Items whose code, notes or any text field of their record (composition, supplier lot, ...) match.

    One query for the items' own fields and one per registered kind: never one per result.
    """
    visible = items_visible_to(user)
    found: dict[int, dict] = {}
    for item in visible.filter(Q(code__icontains=query) | Q(notes__icontains=query))[:limit]:
        found[item.pk] = {"item": item, "matched": "code" if query.upper() in item.code else "notes"}
    for info in registered_kinds():
        fields = info.search_fields or _text_fields(info.model)
        if not fields:
            continue
        condition = Q()
        for name in fields:
            condition |= Q(**{f"{name}__icontains": query})
        visible_ids = visible.filter(kind=info.kind).values("pk")
        records = info.model.objects.filter(condition, pk__in=visible_ids).select_related("item", "item__project")
        for record in records[:limit]:
            lowered = query.lower()
            matched = next(
                (str(info.model._meta.get_field(name).verbose_name) for name in fields
                 if lowered in str(getattr(record, name) or "").lower()), "record",
            )
            found.setdefault(record.pk, {"item": record.item, "matched": matched})
    return sorted(found.values(), key=lambda row: row["item"].code)[:limit]


# --- labels ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelLayout:
    key: str
    title: str
    page: str  # CSS @page size
    columns: int
    label_width_mm: float
    label_height_mm: float
    margin_top_mm: float
    margin_left_mm: float
    gap_x_mm: float = 0.0
    gap_y_mm: float = 0.0


LABEL_LAYOUTS = {
    layout.key: layout
    for layout in (
        LabelLayout("a4-3x8", "A4, 3 × 8 (70 × 37 mm)", "A4", 3, 70, 37, 0.5, 0),
        LabelLayout("a4-3x7", "A4, 3 × 7 (63.5 × 38.1 mm, L7160)", "A4", 3, 63.5, 38.1, 15.1, 7.2, 2.5, 0),
        LabelLayout("a4-2x7", "A4, 2 × 7 (99.1 × 38.1 mm, L7163)", "A4", 2, 99.1, 38.1, 15.1, 4.7, 2.5, 0),
        LabelLayout("roll-50x25", "Roll, 50 × 25 mm", "50mm 25mm", 1, 50, 25, 0, 0),
    )
}
