"""The electrodes QC series of the control charts: areal loading, final thickness and porosity of the films
of one recipe (the same kind of film made from the same components, by name) in one project, in the order
their results were recorded."""

from __future__ import annotations

import hashlib

from django.db.models import Avg, Count, Exists, Max, OuterRef, Prefetch, Sum
from django.db.models.functions import TruncMonth

from assbtrack.quality.registry import DesignRecord, QcPoint, QcSeriesData, YieldRow

from .choices import FILM_KINDS, FilmProcess
from .models import Film, FilmComponent, Sheet

SERIES = (
    ("areal_loading_mg_per_cm2", "Areal loading", "mg/cm²", "Areal loading (mg/cm²)"),
    ("thickness_um", "Thickness", "µm", "Final thickness (µm)"),
    ("porosity", "Porosity", "–", "Porosity (fraction 0–1)"),
)


def _recipe(film: Film) -> str:
    return " + ".join(sorted({component.name for component in film.components.all()}))


def film_series_for_item(item) -> list[QcSeriesData]:
    if item.kind not in FILM_KINDS:
        return []
    films = list(
        Film.objects.filter(item__project_id=item.project_id, item__kind=item.kind, result_recorded_at__isnull=False)
        .select_related("item", "item__project")
        .prefetch_related(Prefetch("components", queryset=FilmComponent.objects.only("film_id", "name")))
        .order_by("result_recorded_at", "item_id")
    )
    this = next((film for film in films if film.pk == item.pk), None)
    if this is None:
        return []
    recipe = _recipe(this)
    same = [film for film in films if _recipe(film) == recipe]
    project = this.item.project
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    kind_label = this.item.get_kind_display().lower()
    series = []
    for field, name, unit, axis in SERIES:
        points = [QcPoint(film.pk, film.item.code, film.result_recorded_at, float(getattr(film, field)))
                  for film in same if getattr(film, field) is not None]
        series.append(QcSeriesData(
            key=f"electrodes.{field}:{project.code}:{item.kind}:{digest}",
            title=f"{name} of {kind_label}s {recipe[:150]}, {project.code}",
            unit=unit, value_label=axis, project_id=project.pk, points=points,
        ))
    return series


def film_to_sheet_rows(projects) -> list[YieldRow]:
    """Film to sheet: the area of the films that were cut in, the area of their sheets (usable) out, by the month
    the film was made. Two queries."""
    films = (
        Film.objects.filter(item__project__in=projects).filter(Exists(Sheet.objects.filter(film=OuterRef("pk"))))
        .annotate(month=TruncMonth("item__created_at"))
        .values("month", "item__project__code").annotate(area=Sum("area_cm2"))
    )
    totals = {(row["month"], row["item__project__code"]): [row["area"], 0.0] for row in films}
    sheets = (
        Sheet.objects.filter(film__item__project__in=projects).annotate(month=TruncMonth("film__item__created_at"))
        .values("month", "film__item__project__code").annotate(area=Sum("area_cm2"))
    )
    for row in sheets:
        totals.setdefault((row["month"], row["film__item__project__code"]), [0.0, 0.0])[1] += row["area"]
    return [YieldRow("film_to_sheet", month.strftime("%Y-%m"), project, amount_in, amount_out)
            for (month, project), (amount_in, amount_out) in totals.items()]


DRY_FILM_PARAMETERS = (
    ("binder_fraction", "PTFE weight fraction (0–1)"),
    ("roll_temperature_c", "Mean roll temperature over the passes (°C)"),
    ("pass_count", "Shearing and calendering passes (–)"),
    ("line_force_n_per_mm", "Highest line force (N/mm)"),
)


def dry_film_design_records(project, outcome: str) -> list[DesignRecord]:
    """Dry films of the project with a result, a binder share and at least one pass (one query)."""
    rows = (
        Film.objects.filter(item__project=project, process=FilmProcess.DRY, result_recorded_at__isnull=False,
                            binder_fraction__isnull=False)
        .annotate(pass_count=Count("passes"), roll_temperature_c=Avg("passes__roll_temperature_c"),
                  line_force_n_per_mm=Max("passes__line_force_n_per_mm"))
        .filter(pass_count__gt=0).exclude(**{f"{outcome}__isnull": True})
        .order_by("item_id")
        .values("item__code", "binder_fraction", "roll_temperature_c", "pass_count", "line_force_n_per_mm", outcome)
    )
    return [DesignRecord(row["item__code"], {name: float(row[name]) for name, _ in DRY_FILM_PARAMETERS},
                         float(row[outcome])) for row in rows]
