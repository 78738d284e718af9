"""Demo films, through the services: dry cathodes at three loadings and two slurry cathodes (the dry-vs-slurry
comparison), a ~30 µm dry Li6PS5Cl separator, a graphite anode, and sheets cut from each for the cells.

Takes ``context.items["lots"]`` (name → MaterialLot) and ``context.items["sse_batch"]`` from materials. Hands
on ``cathode_film``, ``separator_film``, ``anode_film``, ``slurry_cathode_film`` and lists of at least four
sheets each in ``cathode_sheets``, ``separator_sheets``, ``anode_sheets``. Each film's final thickness is
chosen for a plausible porosity (dry films denser than slurry films), from the lots' own densities.
"""

from __future__ import annotations

from assbtrack.jobs.services import job_submit
from assbtrack.tracing.choices import ItemKind
from assbtrack.tracing.services import item_release
from materials.choices import Atmosphere, MaterialRole
from materials.services import lot_create

from .choices import FilmProcess, MixerType, PassKind
from .selectors import POROSITY_PLOT_JOB, THICKNESS_PLOT_JOB, porosity_plot_inputs, thickness_plot_inputs
from .services import film_create, film_pass_add, film_result_record, sheets_cut

# Passes as fractions of the way from the loose sheet (4× final) down to the final thickness.
PASS_SHAPE = (4.0, 2.6, 1.8, 1.35, 1.1, 1.0)


def _lot(context, lots: dict, key: str, *, contains: tuple[str, ...], role: str, create: dict):
    """A lot of the materials demo by key or name, or a new one (through the materials service)."""
    if key in lots:
        return lots[key]
    for lot in lots.values():
        if lot.role == role and any(word in lot.chemical_name.lower() for word in contains):
            return lot
    lot = lot_create(project=context.project, user=context.users["technician"], role=role,
                     storage_atmosphere=Atmosphere.ARGON, **create)
    item_release(item=lot.item, user=context.users["scientist"], reason="certificate of analysis checked")
    lots[key] = lot
    context.log.append(f"electrodes: added lot {lot.item.code} ({lot.chemical_name}) for the films")
    return lot


def _thickness_um(rows, film_mass_g: float, area_cm2: float, porosity: float) -> float:
    """The thickness that gives ``porosity``: t = m / (A · ρ_th · (1 − p)), ρ_th = 1/Σ(wᵢ/ρᵢ)."""
    total = sum(mass for _, mass, _ in rows)
    inverse_density = sum(mass / total / density for _, mass, density in rows)
    return round(film_mass_g / (area_cm2 / inverse_density * (1.0 - porosity)) * 1e4, 1)


def _film(context, *, kind: str, process: str, rows, area_cm2: float, film_mass_g: float, porosity: float,
          conductivity_ms_per_cm: float | None = None, notes: str = ""):
    """Mix, roll pass by pass, record the result: one film as a technician makes it."""
    technician = context.users["technician"]
    film = film_create(
        project=context.project, user=technician, kind=kind, process=process,
        components=[(record.item, mass) for record, mass, _ in rows], area_cm2=area_cm2,
        mixer_type=MixerType.PLANETARY_CENTRIFUGAL, mixing_speed_rpm=2000.0 if process == FilmProcess.DRY else 1500.0,
        mixing_time_s=120.0 if process == FilmProcess.DRY else 600.0,
        batch_size_g=round(sum(mass for _, mass, _ in rows), 4), notes=notes,
    )
    final = _thickness_um(rows, film_mass_g, area_cm2, porosity)
    for number, factor in enumerate(PASS_SHAPE, start=1):
        shearing = process == FilmProcess.DRY and number <= 2
        film_pass_add(
            film=film, user=technician, roll_temperature_c=90.0 if shearing else 110.0,
            gap_um=round(final * factor * 0.8, 1), line_force_n_per_mm=40.0 * number,
            speed_m_per_min=0.5 if shearing else 1.0, thickness_um=round(final * factor, 1),
            kind=PassKind.SHEAR if shearing else PassKind.CALENDER,
        )
    return film_result_record(
        film=film, user=technician, thickness_um=final, mass_g=film_mass_g, free_standing=process == FilmProcess.DRY,
        film_conductivity_ms_per_cm=conductivity_ms_per_cm,
    )


def _release_with_sheets(context, film, *, count: int, area_cm2: float):
    scientist = context.users["scientist"]
    item_release(item=film.item, user=scientist, reason="thickness and porosity within spec")
    sheets = sheets_cut(film=film, user=context.users["technician"], count=count, area_cm2=area_cm2)
    for sheet in sheets:
        sheet.item = item_release(item=sheet.item, user=scientist, reason="cut from a released film")
    film.item.refresh_from_db()
    return sheets


def load(context) -> None:
    lots = context.items.get("lots")
    batch = context.items.get("sse_batch")
    if not lots or batch is None:
        context.log.append("electrodes: no lots or SSE batch from materials; no films made")
        return
    lots = dict(lots)
    sse = batch.density_g_per_cm3 or 1.86
    ncm = _lot(context, lots, "NCM811", contains=("ncm", "nickel"), role=MaterialRole.ACTIVE_MATERIAL,
               create={"chemical_name": "LiNi0.8Co0.1Mn0.1O2", "formula": "LiNi0.8Co0.1Mn0.1O2", "mass_g": 500.0,
                       "density_g_per_cm3": 4.78, "specific_capacity_mah_per_g": 200.0})
    carbon = _lot(context, lots, "carbon", contains=("carbon",), role=MaterialRole.CARBON,
                  create={"chemical_name": "Carbon black", "formula": "C", "mass_g": 100.0, "density_g_per_cm3": 2.0})
    ptfe = _lot(context, lots, "PTFE", contains=("ptfe",), role=MaterialRole.BINDER,
                create={"chemical_name": "PTFE binder powder", "formula": "(C2F4)n", "mass_g": 100.0,
                        "density_g_per_cm3": 2.2})
    nbr = _lot(context, lots, "NBR", contains=("nitrile", "nbr"), role=MaterialRole.BINDER,
               create={"chemical_name": "Nitrile butadiene rubber (NBR) binder, for slurries", "formula": "NBR",
                       "mass_g": 50.0, "supplier": "Elastomer GmbH", "density_g_per_cm3": 1.0})
    graphite = _lot(context, lots, "graphite", contains=("graphite", "silicon"), role=MaterialRole.ACTIVE_MATERIAL,
                    create={"chemical_name": "Spherical graphite", "formula": "C", "mass_g": 200.0,
                            "supplier": "Anode Materials Co.", "density_g_per_cm3": 2.26,
                            "specific_capacity_mah_per_g": 350.0})
    context.items["lots"] = lots

    def cathode_rows(total_g: float, binder, binder_fraction: float, carbon_fraction: float, sse_fraction: float):
        active = 1.0 - binder_fraction - carbon_fraction - sse_fraction
        return [
            (ncm, round(total_g * active, 4), ncm.density_g_per_cm3),
            (batch, round(total_g * sse_fraction, 4), sse),
            (carbon, round(total_g * carbon_fraction, 4), carbon.density_g_per_cm3),
            (binder, round(total_g * binder_fraction, 4), binder.density_g_per_cm3),
        ]

    # Dry cathodes, NCM811 80 / Li6PS5Cl 18.5 / carbon 1 / PTFE 0.5 wt %, at three loadings.
    dry = []
    for total_g, porosity in ((2.0, 0.12), (3.0, 0.15), (1.25, 0.10)):
        dry.append(_film(
            context, kind=ItemKind.CATHODE_FILM, process=FilmProcess.DRY,
            rows=cathode_rows(total_g, ptfe, 0.005, 0.01, 0.185), area_cm2=80.0, film_mass_g=round(total_g * 0.96, 4),
            porosity=porosity, notes="dry process: PTFE fibrillated in the mixer, then sheared and calendered",
        ))
    # Slurry cathodes for comparison: NBR in xylene, 78 / 18 / 2 / 2 wt %; dried films stay more porous.
    slurry = []
    for total_g, porosity in ((2.0, 0.24), (3.0, 0.28)):
        slurry.append(_film(
            context, kind=ItemKind.CATHODE_FILM, process=FilmProcess.SLURRY,
            rows=cathode_rows(total_g, nbr, 0.02, 0.02, 0.18), area_cm2=80.0, film_mass_g=round(total_g * 0.95, 4),
            porosity=porosity, notes="slurry in xylene, cast on a carrier and dried at 80 °C",
        ))
    # A ~30 µm dry separator, Li6PS5Cl 99.5 / PTFE 0.5 wt %, with its conductivity against the pristine batch.
    separator = _film(
        context, kind=ItemKind.SEPARATOR_FILM, process=FilmProcess.DRY,
        rows=[(batch, 1.99, sse), (ptfe, 0.01, ptfe.density_g_per_cm3)], area_cm2=380.0, film_mass_g=1.92,
        porosity=0.10, conductivity_ms_per_cm=1.1, notes="free-standing dry separator, 0.5 wt % PTFE",
    )
    # A graphite composite anode sized for N/P ≈ 1.1 against the first dry cathode.
    anode = _film(
        context, kind=ItemKind.ANODE_FILM, process=FilmProcess.DRY,
        rows=[(graphite, 0.9, graphite.density_g_per_cm3), (batch, 0.57, sse),
              (carbon, 0.0225, carbon.density_g_per_cm3), (ptfe, 0.0075, ptfe.density_g_per_cm3)],
        area_cm2=76.0, film_mass_g=1.44, porosity=0.20, notes="graphite composite anode",
    )

    context.items["cathode_film"] = dry[0]
    context.items["slurry_cathode_film"] = slurry[0]
    context.items["separator_film"] = separator
    context.items["anode_film"] = anode
    context.items["cathode_sheets"] = _release_with_sheets(context, dry[0], count=8, area_cm2=8.0)
    context.items["separator_sheets"] = _release_with_sheets(context, separator, count=8, area_cm2=12.0)
    context.items["anode_sheets"] = _release_with_sheets(context, anode, count=8, area_cm2=8.5)

    scientist = context.users["scientist"]
    films = [*dry, *slurry, separator, anode]
    for film in films:
        job_submit(kind=THICKNESS_PLOT_JOB, inputs=thickness_plot_inputs(film), user=scientist, subject=film.item)
    for kind in (ItemKind.CATHODE_FILM, ItemKind.SEPARATOR_FILM, ItemKind.ANODE_FILM):
        job_submit(kind=POROSITY_PLOT_JOB, inputs=porosity_plot_inputs(films, kind=kind), user=scientist)

    main = dry[0]
    context.log.append(
        f"electrodes: dry cathodes {', '.join(f.code for f in dry)} ({main.code}: "
        f"{main.areal_capacity_mah_per_cm2:.2f} mAh/cm², porosity {main.porosity:.1%}), slurry cathodes "
        f"{', '.join(f.code for f in slurry)}, separator {separator.code} ({separator.thickness_um:.0f} µm, "
        f"{separator.conductivity_retention or 0:.0%} of the batch's conductivity), anode {anode.code}; sheets "
        f"{len(context.items['cathode_sheets'])} + {len(context.items['separator_sheets'])} + "
        f"{len(context.items['anode_sheets'])}"
    )
