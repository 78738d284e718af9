"""The cells QC series of the control charts: first-cycle discharge capacity and coulombic efficiency of the
cells of one design (format, stacking, connection, anode, layer count) in one project, one point per imported
cycling test, in the order the tests ran."""

from __future__ import annotations

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncMonth

from assbtrack.quality.registry import QcPoint, QcSeriesData, YieldRow
from assbtrack.tracing.choices import ItemKind, ItemStatus

from .choices import ImportStatus
from .models import Cell, CycleRecord, CyclingTest


def cell_series_for_item(item) -> list[QcSeriesData]:
    if item.kind != ItemKind.CELL:
        return []
    cell = Cell.objects.select_related("item__project").filter(pk=item.pk).first()
    if cell is None:
        return []
    first_ce = CycleRecord.objects.filter(test=OuterRef("pk")).order_by("cycle_number").values(
        "coulombic_efficiency")[:1]
    tests = list(
        CyclingTest.objects.filter(
            status=ImportStatus.IMPORTED, cell__item__project_id=cell.item.project_id,
            cell__cell_format=cell.cell_format, cell__stacking=cell.stacking, cell__connection=cell.connection,
            cell__anode_type=cell.anode_type, cell__layer_count=cell.layer_count,
        )
        .annotate(first_ce=Subquery(first_ce), ran_at=Coalesce("started_at", "imported_at"), code=F("cell__item__code"))
        .order_by("ran_at", "id")
        .values_list("cell_id", "code", "ran_at", "first_discharge_capacity_mah", "first_ce")
    )
    project = cell.item.project
    design = (f"{cell.get_cell_format_display()}, {cell.get_stacking_display()}, {cell.get_connection_display()}, "
              f"{cell.get_anode_type_display()}, {cell.layer_count} layers")
    key = (f"{project.code}:{cell.cell_format}:{cell.stacking}:{cell.connection}:{cell.anode_type}:"
           f"{cell.layer_count}")
    capacity = [QcPoint(cell_id, code, at, float(q)) for cell_id, code, at, q, _ in tests if q is not None]
    efficiency = [QcPoint(cell_id, code, at, float(ce)) for cell_id, code, at, _, ce in tests if ce is not None]
    return [
        QcSeriesData(key=f"cells.first_capacity:{key}", title=f"First-cycle discharge capacity, cells {design}, "
                     f"{project.code}", unit="mAh", value_label="First discharge capacity (mAh)",
                     project_id=project.pk, points=capacity),
        QcSeriesData(key=f"cells.first_ce:{key}", title=f"First-cycle coulombic efficiency, cells {design}, "
                     f"{project.code}", unit="–", value_label="First-cycle coulombic efficiency (fraction)",
                     project_id=project.pk, points=efficiency),
    ]


def cell_release_rows(projects) -> list[YieldRow]:
    """Cells released against rejected: the cells decided (released, consumed in a module, or rejected) in, the
    released and consumed ones out, by the month the cell was built. One query."""
    good = (ItemStatus.RELEASED, ItemStatus.CONSUMED)
    rows = (
        Cell.objects.filter(item__project__in=projects)
        .annotate(month=TruncMonth("item__created_at"))
        .values("month", "item__project__code")
        .annotate(released=Count("pk", filter=Q(item__status__in=good)),
                  rejected=Count("pk", filter=Q(item__status=ItemStatus.REJECTED)))
    )
    return [YieldRow("cell_release", row["month"].strftime("%Y-%m"), row["item__project__code"],
                     float(row["released"] + row["rejected"]), float(row["released"]))
            for row in rows if row["released"] + row["rejected"]]
