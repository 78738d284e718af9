"""Every write of the electrodes app: make a film from lots and batches, roll it, record its result, cut sheets.

Each service runs in one transaction and raises ``ValidationError`` keyed by the field a form or an
API client sent; a component row's problems are keyed ``components[i].source`` or
``components[i].mass_g`` (i counts from 0 in the order given), so a form can show them beside the row.
The metrics come from the pure functions of ``electrodes.films``; nothing here recomputes them by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assbtrack.access.models import Project
from assbtrack.domain.inputs import ModelInputError
from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.models import Equipment
from assbtrack.instruments.selectors import calibration_overdue_warning
from assbtrack.instruments.services import equipment_for_use
from assbtrack.quality.services import control_charts_refresh_on_commit
from assbtrack.tracing.choices import HELD_STATUSES, ItemKind, LineageRole, QuantityUnit
from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.plausibility import film_porosity_warning, warnings_confirm
from assbtrack.tracing.problems import Problems
from assbtrack.tracing.refusals import error_rekey
from assbtrack.tracing.registry import consuming_path
from assbtrack.tracing.services import (
    draw_problem,
    edge_create,
    item_create,
    records_bulk_create,
    warnings_confirmed_record,
)
from assbtrack.tracing.values import checked_number as _number
from assbtrack.tracing.values import checked_number_optional as _optional_number
from materials.models import SynthesisBatch
from materials.selectors import batch_conductivity_ms_per_cm

from . import films as film_science
from .choices import (
    FILM_KINDS,
    MASS_BALANCE_TOLERANCE,
    MAX_COMPONENTS,
    MAX_SHEETS_PER_CUT,
    SHEET_COLUMNS,
    FilmProcess,
    MixerType,
    PassKind,
)
from .models import CalenderingPass, Film, FilmComponent, Sheet
from .selectors import ComponentSource, component_source, separator_batch


def _row(index: int, field: str) -> str:
    return f"components[{index}].{field}"


def _rekey_edge_error(error: ValidationError, index: int) -> dict[str, list[str]]:
    """edge_create speaks of "parent", "amount" and "unit"; a form row knows "source" and "mass_g"."""
    fields = {"parent": "source", "amount": "mass_g", "unit": "mass_g", "role": "source"}
    return error_rekey(error, {key: _row(index, field) for key, field in fields.items()},
                       _row(index, "source")).message_dict


def _resolve_components(
    *, project: Project, kind: str, components: Sequence[tuple[TracedItem, float]],
    recipe_weight_percents: Sequence[float | None] | None,
) -> tuple[list[ComponentSource], list[float], list[float]]:
    """Check each row on its own, then the recipe as a whole; every problem found is reported at once."""
    if not components:
        raise ValidationError({"components": "a film needs at least one component"})
    if len(components) > MAX_COMPONENTS:
        raise ValidationError({"components": f"a film takes at most {MAX_COMPONENTS} components"})
    problems: dict[str, list[str]] = {}
    sources: list[ComponentSource] = []
    masses: list[float] = []
    seen: dict[int, int] = {}
    for index, row in enumerate(components):
        try:
            item, mass_g = row
        except (TypeError, ValueError):
            raise ValidationError({"components": f"row {index + 1} must be (lot or batch, mass in g)"}) from None
        try:
            masses.append(_number(mass_g, _row(index, "mass_g"), greater_than=0.0, maximum=1e6))
        except ValidationError as error:
            masses.append(math.nan)
            for field, messages in error.message_dict.items():
                problems.setdefault(field, []).extend(messages)
        if not isinstance(item, TracedItem):
            problems.setdefault(_row(index, "source"), []).append("choose a lot or batch")
            continue
        if item.project_id != project.pk:
            problems.setdefault(_row(index, "source"), []).append(
                f"{item.code} belongs to another project; a film uses lots and batches of its own project"
            )
            continue
        if item.pk in seen:
            problems.setdefault(_row(index, "source"), []).append(
                f"{item.code} is already in row {seen[item.pk] + 1}; put its whole mass in one row"
            )
            continue
        seen[item.pk] = index
        try:
            source = component_source(item)
        except ValidationError as error:
            problems.setdefault(_row(index, "source"), []).extend(error.message_dict["source"])
            continue
        if source.density_g_per_cm3 is None:
            problems.setdefault(_row(index, "source"), []).append(
                f"{item.code} has no density recorded; the film's porosity needs it: correct {item.code}"
            )
        if source.role == LineageRole.ACTIVE_MATERIAL and not source.specific_capacity_mah_per_g:
            problems.setdefault(_row(index, "source"), []).append(
                f"{item.code} has no specific capacity recorded; the areal capacity needs it"
            )
        if source.role == LineageRole.ACTIVE_MATERIAL and kind == ItemKind.SEPARATOR_FILM:
            problems.setdefault(_row(index, "source"), []).append(
                f"{item.code} is an active material; a separator film holds none"
            )
        sources.append(source)
        if not math.isnan(masses[-1]):
            # Now, so that an overdrawn or held source is reported with every other problem; the lineage
            # checks again under the row lock when the film is written.
            problem = draw_problem(item, Decimal(repr(masses[-1])), QuantityUnit.GRAM)
            if problem is not None:
                where, message = problem
                problems.setdefault(_row(index, "source" if where == "parent" else "mass_g"), []).append(message)
    if problems:
        raise ValidationError(problems)

    roles = {source.role for source in sources}
    if kind in (ItemKind.CATHODE_FILM, ItemKind.ANODE_FILM) and LineageRole.ACTIVE_MATERIAL not in roles:
        raise ValidationError({"components": "a cathode or anode film needs an active material lot"})
    if kind == ItemKind.SEPARATOR_FILM and LineageRole.ELECTROLYTE not in roles:
        raise ValidationError({"components": "a separator film needs a solid electrolyte (an SSE batch)"})

    try:
        fractions = [float(value) for value in film_science.weight_fractions(masses)]
    except ModelInputError as error:
        raise ValidationError({"components": error.reason}) from None
    if recipe_weight_percents is not None and any(value not in (None, "") for value in recipe_weight_percents):
        _check_recipe(recipe_weight_percents, fractions, len(components))
    return sources, masses, fractions


def _check_recipe(recipe_weight_percents: Sequence[float | None], fractions: list[float], rows: int) -> None:
    """The recipe's percentages must add up to 100 %, and the weighed masses must match the recipe."""
    if len(recipe_weight_percents) != rows:
        raise ValidationError({"components": "give a recipe weight (%) for every row, or for none"})
    problems: dict[str, list[str]] = {}
    recipe: list[float] = []
    for index, value in enumerate(recipe_weight_percents):
        if value is None or value == "":
            problems.setdefault(_row(index, "weight_percent"), []).append(
                "give a recipe weight (%) for every row, or for none"
            )
            continue
        try:
            recipe.append(_number(value, _row(index, "weight_percent"), greater_than=0.0, maximum=100.0) / 100.0)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                problems.setdefault(field, []).extend(messages)
    if problems:
        raise ValidationError(problems)
    try:
        film_science.check_weight_fractions(recipe, field="components")
    except ModelInputError as error:
        raise ValidationError({"components": f"recipe {error.reason}"}) from None
    tolerance = film_science.WEIGHT_FRACTION_TOLERANCE
    for index, (wanted, weighed) in enumerate(zip(recipe, fractions, strict=True)):
        if abs(wanted - weighed) > tolerance:
            problems.setdefault(_row(index, "mass_g"), []).append(
                f"the weighed masses give {weighed:.2%} of this component, the recipe {wanted:.2%} "
                f"(allowed: ±{tolerance:.1%})"
            )
    if problems:
        raise ValidationError(problems)


@consuming_path("use")
@transaction.atomic
def film_create(
    *,
    project: Project,
    user: User,
    kind: str,
    process: str,
    components: Sequence[tuple[TracedItem, float]],
    area_cm2: float,
    mixer_type: str = "",
    mixing_speed_rpm: float | None = None,
    mixing_time_s: float | None = None,
    batch_size_g: float | None = None,
    notes: str = "",
    recipe_weight_percents: Sequence[float | None] | None = None,
) -> Film:
    """A new film (cathode, anode or separator) from lots and SSE batches, with its mixing.

    Each component becomes a lineage edge drawing its mass from the lot or batch, so a film can use
    neither more than is left nor a quarantined or rejected one (the core refuses both; the message
    is keyed to the row). With ``recipe_weight_percents`` (one per row) the recipe must add up to
    100 % and the weighed masses must match it within 0.1 %.
    """
    problems = Problems()  # every refusal of the form at once: the film's fields and each component row
    if kind not in FILM_KINDS:
        problems.add("kind", f"choose a film kind: {', '.join(str(k.label) for k in FILM_KINDS)}")
    if process not in FilmProcess.values:
        problems.add("process", f"choose one of {', '.join(FilmProcess.values)}")
    if mixer_type and mixer_type not in MixerType.values:
        problems.add("mixer_type", f"choose one of {', '.join(MixerType.values)}")
    area = problems.check(_number, area_cm2, "area_cm2", greater_than=0.0, maximum=1e7)
    mixing = {
        name: problems.check(_optional_number, value, name, greater_than=0.0, maximum=maximum)
        for name, value, maximum in (("mixing_speed_rpm", mixing_speed_rpm, 1e5),
                                     ("mixing_time_s", mixing_time_s, 1e7), ("batch_size_g", batch_size_g, 1e6))
    }
    resolved = problems.check(
        _resolve_components, project=project, kind=kind, components=components,
        recipe_weight_percents=recipe_weight_percents,
    )
    problems.raise_if_any()
    sources, masses, fractions = resolved

    item = item_create(
        kind=kind, project=project, user=user, quantity=Decimal(repr(area)), unit=QuantityUnit.SQUARE_CENTIMETRE,
        notes=notes,
    )
    film = Film(item=item, process=process, mixer_type=mixer_type, area_cm2=area, **mixing)
    film.full_clean()
    film.save()

    rows = []
    for index, (source, mass_g, fraction) in enumerate(zip(sources, masses, fractions, strict=True)):
        try:
            edge_create(
                parent=source.item, child=item, role=source.role, user=user,
                amount=Decimal(repr(mass_g)), unit=QuantityUnit.GRAM,
            )
        except ValidationError as error:
            # The edge's savepoint is rolled back; carry on so every row's refusal is shown at once.
            for field, messages in _rekey_edge_error(error, index).items():
                for message in messages:
                    problems.add(field, message)
            continue
        rows.append(
            FilmComponent(
                film=film, source=source.item, position=index + 1, role=source.role, name=source.name[:200],
                mass_g=mass_g, weight_fraction=fraction, density_g_per_cm3=source.density_g_per_cm3,
                specific_capacity_mah_per_g=source.specific_capacity_mah_per_g,
            )
        )
    problems.raise_if_any()
    for row in rows:
        row.full_clean(exclude=["film", "source"])
    FilmComponent.objects.bulk_create(rows)
    return film


def _lock_film(film: Film) -> Film:
    return Film.objects.select_for_update().select_related("item").get(pk=film.pk)


@transaction.atomic
def film_pass_add(
    *,
    film: Film,
    user: User,
    roll_temperature_c: float,
    gap_um: float,
    line_force_n_per_mm: float,
    speed_m_per_min: float,
    thickness_um: float,
    kind: str = PassKind.CALENDER,
    equipment: Equipment | None = None,
    confirm_warnings: bool = False,
) -> CalenderingPass:
    """The next shearing or calendering pass; refused if it leaves the film thicker than the pass before."""
    locked = _lock_film(film)
    if locked.has_result:
        raise ValidationError(
            {"thickness_um": f"{locked.code}'s result is recorded; a pass after it would not be in its metrics"}
        )
    if locked.item.status in HELD_STATUSES:
        raise ValidationError({"film": f"{locked.code} is {locked.item.get_status_display().lower()}"})
    if kind not in PassKind.values:
        raise ValidationError({"kind": f"choose one of {', '.join(PassKind.values)}"})
    equipment = equipment_for_use(equipment, kinds=(EquipmentKind.CALENDER,), field="equipment")
    confirmed = warnings_confirm([calibration_overdue_warning(equipment)], confirmed=confirm_warnings)
    values = {
        "roll_temperature_c": _number(roll_temperature_c, "roll_temperature_c", minimum=-80.0, maximum=400.0),
        "gap_um": _number(gap_um, "gap_um", minimum=0.0, maximum=1e5),
        "line_force_n_per_mm": _number(line_force_n_per_mm, "line_force_n_per_mm", minimum=0.0, maximum=1e6),
        "speed_m_per_min": _number(speed_m_per_min, "speed_m_per_min", greater_than=0.0, maximum=1e4),
        "thickness_um": _number(thickness_um, "thickness_um", greater_than=0.0, maximum=1e5),
    }
    earlier = list(CalenderingPass.objects.filter(film=locked).order_by("pass_number"))
    thicknesses = [step.thickness_um for step in earlier] + [values["thickness_um"]]
    if film_science.check_thickness_decreases(thicknesses) is not None:
        last = earlier[-1]
        raise ValidationError(
            {"thickness_um": f"{values['thickness_um']:g} µm is thicker than after pass {last.pass_number} "
                             f"({last.thickness_um:g} µm): rolling only compresses a film; check the entry"}
        )
    step = CalenderingPass(
        film=locked, pass_number=(earlier[-1].pass_number + 1) if earlier else 1, kind=kind, created_by=user,
        equipment=equipment, **values,
    )
    step.full_clean(exclude=["film", "created_by"])
    step.save()
    warnings_confirmed_record(item=locked.item, user=user, warnings=confirmed)
    return step


def _domain_components(film: Film, components: list[FilmComponent], mass_g: float) -> list:
    """The components scaled to the film's weighed mass: the recipe's fractions, the film's real mass."""
    return [
        film_science.FilmComponent(
            name=component.source.code,
            mass_g=component.weight_fraction * mass_g,
            density_g_per_cm3=component.density_g_per_cm3,
            specific_capacity_mah_per_g=component.specific_capacity_mah_per_g,
            is_active=component.is_active,
        )
        for component in components
    ]


@transaction.atomic
def film_result_record(
    *,
    film: Film,
    user: User,
    thickness_um: float,
    mass_g: float,
    free_standing: bool,
    film_conductivity_ms_per_cm: float | None = None,
    confirm_warnings: bool = False,
) -> Film:
    """Final thickness and mass → loading, capacity, density, porosity, binder share (and, for a
    separator, its conductivity against the pristine batch). Stored on the film.

    The loading uses the film's weighed mass, with the weight fractions of its components (what was
    weighed into the mixer). Refused: a film heavier than its components, a thickness above the last
    pass, a porosity below zero (a density above the theoretical one means a wrong thickness or mass),
    and any change once sheets have been cut from the film.
    """
    locked = _lock_film(film)
    if locked.sheets.exists():
        raise ValidationError({"thickness_um": f"sheets were cut from {locked.code}; its result is fixed"})
    thickness = _number(thickness_um, "thickness_um", greater_than=0.0, maximum=1e5)
    mass = _number(mass_g, "mass_g", greater_than=0.0, maximum=1e6)
    if not isinstance(free_standing, bool):
        raise ValidationError({"free_standing": "say whether the film is free-standing (yes or no)"})
    conductivity = _optional_number(film_conductivity_ms_per_cm, "film_conductivity_ms_per_cm", minimum=0.0,
                                    maximum=1e4)
    if conductivity is not None and locked.item.kind != ItemKind.SEPARATOR_FILM:
        raise ValidationError({"film_conductivity_ms_per_cm": "only a separator film's conductivity is recorded"})

    components = list(locked.components.select_related("source").order_by("position"))
    if not components:
        raise ValidationError({"mass_g": f"{locked.code} has no components"})
    weighed_g = sum(component.mass_g for component in components)
    if mass > weighed_g * (1.0 + MASS_BALANCE_TOLERANCE):
        raise ValidationError(
            {"mass_g": f"{mass:g} g is more than the {weighed_g:g} g of components that went into {locked.code}"}
        )
    last_pass = locked.passes.order_by("-pass_number").first()
    if last_pass is not None and thickness > last_pass.thickness_um:
        raise ValidationError(
            {"thickness_um": f"{thickness:g} µm is thicker than after the last pass ({last_pass.thickness_um:g} µm "
                             f"after pass {last_pass.pass_number}): check the entry"}
        )

    domain = _domain_components(locked, components, mass)
    try:
        metrics = film_science.film_metrics(domain, area_cm2=locked.area_cm2, thickness_um=thickness)
        binder = film_science.binder_fraction(
            domain, binder_names={component.source.code for component in components if component.is_binder}
        )
    except ModelInputError as error:
        raise ValidationError({"thickness_um": f"{error.field}: {error.reason}"}) from None
    if metrics.porosity < 0:
        raise ValidationError(
            {"thickness_um": f"gives a density of {metrics.density_g_per_cm3:.3g} g/cm³, above the "
                             f"{metrics.theoretical_density_g_per_cm3:.3g} g/cm³ its components allow (porosity "
                             f"{metrics.porosity:.1%}): check the thickness and the mass"}
        )

    confirmed = warnings_confirm([film_porosity_warning(metrics.porosity, locked.code)], confirmed=confirm_warnings)

    batch_conductivity = retention = None
    if conductivity is not None:
        reference = separator_batch(components)
        batch_record = SynthesisBatch.objects.filter(pk=reference.source_id).first() if reference else None
        batch_conductivity = batch_conductivity_ms_per_cm(batch_record) if batch_record else None
        if batch_conductivity:
            retention = film_science.separator_conductivity_retention(
                conductivity, batch_conductivity
            ).retention_fraction

    locked.thickness_um = thickness
    locked.mass_g = mass
    locked.free_standing = free_standing
    locked.film_conductivity_ms_per_cm = conductivity
    locked.batch_conductivity_ms_per_cm = batch_conductivity
    locked.conductivity_retention = retention
    locked.areal_loading_mg_per_cm2 = metrics.areal_loading_mg_per_cm2
    locked.areal_capacity_mah_per_cm2 = metrics.areal_capacity_mah_per_cm2
    locked.density_g_per_cm3 = metrics.density_g_per_cm3
    locked.theoretical_density_g_per_cm3 = metrics.theoretical_density_g_per_cm3
    locked.porosity = metrics.porosity
    locked.binder_fraction = binder
    active = [fraction for fraction, component in zip(metrics.weight_fractions, components, strict=True)
              if component.is_active]
    locked.active_weight_fraction = sum(active) if active else None
    locked.result_recorded_at = timezone.now()
    locked.result_recorded_by = user
    locked.full_clean()
    locked._change_reason = "result recorded"
    locked.save()
    control_charts_refresh_on_commit(item=locked.item, user=user)
    warnings_confirmed_record(item=locked.item, user=user, warnings=confirmed)
    return locked


def _sheet_positions(taken: set[str], count: int) -> list[str]:
    """The next free places on the film, row by row, ``SHEET_COLUMNS`` to a row: r1c1, r1c2, …"""
    positions: list[str] = []
    number = 0
    while len(positions) < count:
        position = f"r{number // SHEET_COLUMNS + 1}c{number % SHEET_COLUMNS + 1}"
        if position not in taken:
            positions.append(position)
        number += 1
    return positions


@consuming_path("use")
@transaction.atomic
def sheets_cut(
    *, film: Film, user: User, count: int, area_cm2: float, positions: Sequence[str] | None = None
) -> list[Sheet]:
    """Cut ``count`` sheets of ``area_cm2`` each; each is a traced item drawing its area from the film."""
    locked = _lock_film(film)
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValidationError({"count": "must be a whole number"})
    if not 1 <= count <= MAX_SHEETS_PER_CUT:
        raise ValidationError({"count": f"cut between 1 and {MAX_SHEETS_PER_CUT} sheets at a time"})
    area = _number(area_cm2, "area_cm2", greater_than=0.0, maximum=1e7)
    if not locked.has_result:
        raise ValidationError({"count": f"record {locked.code}'s result first: a sheet carries the film's metrics"})
    if locked.item.status in HELD_STATUSES:
        reason = f": {locked.item.status_reason}" if locked.item.status_reason else ""
        raise ValidationError({"count": f"{locked.code} is {locked.item.get_status_display().lower()}{reason}"})
    item = TracedItem.objects.get(pk=locked.pk)
    remaining = float(item.quantity_remaining)
    needed = count * area
    if needed > remaining + 1e-9:
        raise ValidationError(
            {"count": f"{count} sheets of {area:g} cm² need {needed:g} cm²; {locked.code} has {remaining:g} cm² left"}
        )
    taken = set(locked.sheets.values_list("position", flat=True))
    if positions:
        positions = [str(position).strip().lower()[:20] for position in positions]
        if len(positions) != count:
            raise ValidationError({"positions": f"give {count} positions, one per sheet"})
        clash = sorted(set(positions) & taken) or sorted({p for p in positions if positions.count(p) > 1})
        if clash or any(not position for position in positions):
            raise ValidationError({"positions": f"positions must be new and distinct: {', '.join(clash) or 'blank'}"})
    else:
        positions = _sheet_positions(taken, count)

    sheets = []
    for position in positions:
        sheet_item = item_create(
            kind=ItemKind.SHEET, project=item.project, user=user, quantity=1, unit=QuantityUnit.PIECE,
            notes=f"cut from {locked.code} at {position}",
        )
        sheet = Sheet(item=sheet_item, film=locked, position=position, area_cm2=area)
        sheet.full_clean()
        sheet.save()
        try:
            edge_create(
                parent=item, child=sheet_item, role=LineageRole.CUT_FROM, user=user,
                amount=Decimal(repr(area)), unit=QuantityUnit.SQUARE_CENTIMETRE,
            )
        except ValidationError as error:
            raise ValidationError({"count": [m for ms in error.message_dict.values() for m in ms]}) from None
        item.refresh_from_db(fields=["quantity_used", "status"])
        sheets.append(sheet)
    return sheets


# --- bulk paths: imports and synthetic labs (see assbtrack.tracing.services.records_bulk_create) ------------


def films_bulk_create(
    *, rows: list[dict], components: list[dict], user: User, history: bool = True
) -> list[Film]:
    """Film records for film items made by ``items_bulk_create``, with their components.

    ``rows``: ``item_id`` and the film's fields; ``components``: ``film_id``, ``source_id`` and the
    component's fields. Each film's weight fractions must sum to 1. The lineage is written separately
    (``edges_bulk_create``); for a person's input there is ``film_create``.
    """
    totals: dict[int, float] = {}
    for component in components:
        totals[component.get("film_id")] = totals.get(component.get("film_id"), 0.0) + float(
            component.get("weight_fraction") or 0.0
        )
    for index, row in enumerate(rows):
        total = totals.get(row.get("item_id"))
        if total is not None and abs(total - 1.0) > 1e-6:
            raise ValidationError({f"rows.{index}.components": f"weight fractions sum to {total:.6f}, not 1"})
    films = records_bulk_create(Film, rows=rows, kind=FILM_KINDS, history=history, user=user)
    records_bulk_create(FilmComponent, rows=components, history=history, user=user)
    return films


def sheets_bulk_create(*, rows: list[dict], user: User, history: bool = True) -> list[Sheet]:
    """Sheet records for sheet items made by ``items_bulk_create`` (``item_id``, ``film_id`` and the fields)."""
    return records_bulk_create(Sheet, rows=rows, kind=ItemKind.SHEET, history=history, user=user)
