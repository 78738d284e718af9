"""Reads of the electrodes app: films and sheets with their joins, the inputs of their plots, their jobs, and
the lots and batches a film is made from.

Every list is one query plus one per prefetched relation, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from assbtrack.access.selectors import scope_to_user
from assbtrack.jobs.handlers import job_handler
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import inputs_sha256
from assbtrack.tracing.choices import HELD_STATUSES, ItemKind, ItemStatus, LineageRole
from assbtrack.tracing.models import TracedItem
from materials.models import MaterialLot, SynthesisBatch

from .choices import FILM_KINDS, LOT_ROLE_TO_EDGE_ROLE, FilmProcess
from .models import CalenderingPass, Film, FilmComponent, Sheet

THICKNESS_PLOT_JOB = "electrodes_thickness_by_pass"
POROSITY_PLOT_JOB = "electrodes_porosity_vs_loading"
THICKNESS_PLOT_STEM = "thickness_by_pass"
POROSITY_PLOT_STEM = "porosity_vs_loading"


def films_queryset() -> QuerySet[Film]:
    return Film.objects.select_related("item", "item__project", "item__created_by").prefetch_related(
        Prefetch("components", queryset=FilmComponent.objects.select_related("source").order_by("position")),
        Prefetch(
            "passes",
            queryset=CalenderingPass.objects.select_related("equipment").prefetch_related("equipment__calibrations")
            .order_by("pass_number"),
        ),
    )


def films_visible_to(user: User | AnonymousUser) -> QuerySet[Film]:
    return scope_to_user(films_queryset(), user, project_field="item__project")


def film_get_for_user(code: str, user: User | AnonymousUser) -> Film | None:
    """The film with ``code`` if ``user`` may see it; with its components, passes and sheets."""
    return (
        films_visible_to(user)
        .prefetch_related(Prefetch("sheets", queryset=Sheet.objects.select_related("item").order_by("item_id")))
        .filter(item__code=code.strip().upper(), item__kind__in=FILM_KINDS)
        .first()
    )


def sheets_queryset() -> QuerySet[Sheet]:
    return Sheet.objects.select_related("item", "item__project", "film", "film__item")


def sheets_visible_to(user: User | AnonymousUser) -> QuerySet[Sheet]:
    return scope_to_user(sheets_queryset(), user, project_field="item__project")


def film_source_choices(limit: int = 500) -> list[dict]:
    """Lots and batches a film could take, for the code list of the component rows (one query)."""
    items = (
        TracedItem.objects.filter(kind__in=(ItemKind.MATERIAL_LOT, ItemKind.SSE_BATCH))
        .exclude(status__in=(*HELD_STATUSES, ItemStatus.CONSUMED))
        .select_related("materiallot", "synthesisbatch")
        .order_by("-id")[:limit]
    )
    choices = []
    for item in items:
        lot = getattr(item, "materiallot", None)
        batch = getattr(item, "synthesisbatch", None)
        name = lot.chemical_name if lot is not None else batch.composition if batch is not None else ""
        choices.append({"code": item.code, "name": name, "remaining": item.quantity_remaining, "unit": item.unit})
    return choices


# ---- plots: their inputs are the data drawn, so a job with the same inputs is the same picture ----


def thickness_plot_inputs(film: Film) -> dict:
    """The thickness-by-pass plot of ``film`` (its passes must be prefetched or they cost one query)."""
    passes = list(film.passes.all())
    return {
        "film": film.code,
        "pass_numbers": [step.pass_number for step in passes],
        "thicknesses_um": [step.thickness_um for step in passes],
    }


def porosity_plot_inputs(films: Iterable[Film], *, kind: str) -> dict:
    """Porosity against loading for the films of ``kind`` that have a result, one series per process."""
    series: dict[str, dict[str, list]] = {}
    for film in sorted(films, key=lambda f: f.pk):
        if film.item.kind != kind or film.porosity is None or film.areal_loading_mg_per_cm2 is None:
            continue
        label = FilmProcess(film.process).label
        entry = series.setdefault(label, {"codes": [], "loadings_mg_per_cm2": [], "porosities": []})
        entry["codes"].append(film.code)
        entry["loadings_mg_per_cm2"].append(film.areal_loading_mg_per_cm2)
        entry["porosities"].append(film.porosity)
    return {"kind": str(kind), "series": dict(sorted(series.items()))}


def films_for_porosity_plot(user: User | AnonymousUser, *, kind: str | None = None) -> list[Film]:
    """Films with a result (only what the plot draws), of one kind or of all."""
    films = scope_to_user(Film.objects.select_related("item"), user, project_field="item__project").filter(
        porosity__isnull=False, areal_loading_mg_per_cm2__isnull=False
    )
    if kind is not None:
        films = films.filter(item__kind=kind)
    return list(films.only("item__code", "item__kind", "process", "porosity", "areal_loading_mg_per_cm2"))


def plot_inputs_digest(job_kind: str, inputs: dict) -> str:
    handler = job_handler(job_kind)
    return inputs_sha256(job_kind, handler.version, handler.validate(inputs))


def plot_jobs_by_digest(job_kind: str, digests: Iterable[str]) -> dict[str, Job]:
    """The newest job (not failed, not a reuse) that drew each set of inputs: one query for all, with files.

    A reuse row has no files of its own; the job it reuses holds them, and has the same inputs.
    """
    wanted = [digest for digest in digests if digest]
    if not wanted:
        return {}
    jobs = (
        Job.objects.filter(kind=job_kind, inputs_sha256__in=wanted, reused_from__isnull=True)
        .exclude(status=JobStatus.FAILED)
        .prefetch_related("files")
        .order_by("-created_at", "-id")
    )
    found: dict[str, Job] = {}
    for job in jobs:
        found.setdefault(job.inputs_sha256, job)
    return found


def job_image(job: Job | None, stem: str) -> str | None:
    """The name of the PNG a finished plot job produced, if there is one (files must be prefetched)."""
    if job is None or job.status != JobStatus.SUCCEEDED:
        return None
    name = f"{stem}.png"
    return name if any(file.name == name for file in job.files.all()) else None


# ---- release checks (registered for the film kinds and for sheets) ----


def film_release_check(item) -> list[str]:
    film = Film.objects.filter(pk=item.pk).only("thickness_um").first()
    if film is None:
        return [f"{item.code} has no film record"]
    if film.thickness_um is None:
        return [f"{item.code} has no result yet (final thickness and mass): its metrics are unknown"]
    return []


def sheet_release_check(item) -> list[str]:
    sheet = Sheet.objects.select_related("film__item").filter(pk=item.pk).first()
    if sheet is None:
        return [f"{item.code} has no sheet record"]
    film_item = sheet.film.item
    if film_item.is_held:
        return [f"its film {film_item.code} is {film_item.get_status_display().lower()}"]
    return []


# ------------------------------------------------------------------------ film ingredients


@dataclass(frozen=True)
class ComponentSource:
    """A film ingredient resolved from a traced item: what it is and the numbers the metrics need."""

    item: TracedItem
    role: str
    name: str
    density_g_per_cm3: float | None
    specific_capacity_mah_per_g: float | None
    batch: SynthesisBatch | None = None


def component_source(item: TracedItem) -> ComponentSource:
    """The lot or SSE batch behind ``item``; ``ValidationError`` keyed "source" when it is neither."""
    if item.kind == ItemKind.SSE_BATCH:
        batch = SynthesisBatch.objects.filter(pk=item.pk).first()
        if batch is None:
            raise ValidationError({"source": f"{item.code} has no batch record"})
        return ComponentSource(
            item=item, role=LineageRole.ELECTROLYTE, name=batch.composition,
            density_g_per_cm3=batch.density_g_per_cm3, specific_capacity_mah_per_g=None, batch=batch,
        )
    if item.kind == ItemKind.MATERIAL_LOT:
        lot = MaterialLot.objects.filter(pk=item.pk).first()
        if lot is None:
            raise ValidationError({"source": f"{item.code} has no lot record"})
        role = LOT_ROLE_TO_EDGE_ROLE.get(lot.role)
        if role is None:
            raise ValidationError(
                {"source": f"{item.code} is a {lot.get_role_display().lower()} lot; a film takes active material, "
                           "electrolyte, carbon and binder lots"}
            )
        return ComponentSource(
            item=item, role=role, name=lot.chemical_name or lot.formula or item.code,
            density_g_per_cm3=lot.density_g_per_cm3,
            specific_capacity_mah_per_g=lot.specific_capacity_mah_per_g if role == LineageRole.ACTIVE_MATERIAL
            else None,
        )
    raise ValidationError(
        {"source": f"{item.code} is a {item.get_kind_display().lower()}; a film is made from material lots "
                   "and SSE batches"}
    )


def separator_batch(components: list[FilmComponent]) -> FilmComponent | None:
    """The SSE batch a separator is judged against: the heaviest batch in it (most separators have one)."""
    batches = [component for component in components if component.source.kind == ItemKind.SSE_BATCH]
    return max(batches, key=lambda component: component.mass_g) if batches else None
