"""The passport of a cell or module: one document with everything upstream of it.

The layout follows the content guidance of the Battery Pass consortium's data model (general product
information, material composition, performance and durability): the section and attribute names
``generalProductInformation``, ``batteryIdentifier``, ``manufacturingDate``, ``batteryCategory``,
``batteryStatus``, ``batteryMass``, ``materialComposition``, ``batteryChemistry``, ``components``,
``performanceAndDurability``, ``ratedCapacity``, ``nominalVoltage``, ``ratedEnergy`` and ``capacityFade``
are taken from it (values in the units the guidance uses: kg, Ah, V, Wh, %).

assbtrack's own extensions (no Battery Pass attribute exists for them) are: ``project``,
``assbtrackStatus``, ``processParameters``, ``measurements``, ``qualityControl``, ``cyclingSummary``,
``modelResults``, ``lineage``, and inside the sections ``cycleAt80PercentRetention``,
``firstDischargeCapacity``, ``specificEnergy`` and ``energyDensity``.

The build costs a fixed number of queries whatever the size of the chain: one walk
(``lineage_upstream``), one query per kind present (``lineage_hydrate``), one for the measurements, one
for the cycling tests and one for the model results. Keys a project lists in ``confidential_fields``
(a section such as ``processParameters`` or an attribute such as ``materialComposition.components``) are
left out for partners and kept for lab staff.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AnonymousUser, User

from assbtrack.access.selectors import user_is_lab_staff
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.tracing.choices import HELD_STATUSES, ItemKind
from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.registry import kind_info
from assbtrack.tracing.reports import record_facts
from assbtrack.tracing.selectors import deviations_for, lineage_hydrate, lineage_upstream

PASSPORT_KINDS = (ItemKind.CELL, ItemKind.MODULE)

# JSON-LD: Battery Pass attribute names and assbtrack's extensions as terms of the assbtrack vocabulary,
# identifiers and dates as schema.org terms. Each quantity (``{"value", "unit"}``) that has a BattINFO class
# (EMMO domain-electrochemistry or EMMO core, as published with domain-battery 0.20.2, domain-electrochemistry
# 0.37.2 and EMMO 1.0.2) carries that class as its ``@type``; quantities without an exact class (capacity fade
# as a percentage, first discharge capacity, cycle at 80 %) stay untyped rather than typed wrongly.
ASSBTRACK_VOCAB = "urn:assbtrack:passport:"
EMMO = "https://w3id.org/emmo#"
ELECTROCHEMISTRY = "https://w3id.org/emmo/domain/electrochemistry#"
BATTINFO_TYPES = {
    "batteryMass": "emmo:EMMO_ed4af7ae_63a2_497e_bb88_2309619ea405",  # Mass
    "ratedCapacity": "echem:electrochemistry_9b3b4668_0795_4a35_9965_2af383497a26",  # RatedCapacity
    "nominalVoltage": "echem:electrochemistry_639b844a_e801_436b_985d_28926129ead6",  # NominalVoltage
    "ratedEnergy": "echem:electrochemistry_19e27aa3_0970_43a6_86d3_e3cdd956134d",  # NominalEnergy
    "specificEnergy": "emmo:EMMO_e218c625_6a39_47a9_8d08_a2ef41c152a9",  # SpecificEnergy
    "energyDensity": "echem:electrochemistry_4aa1b96e_44a0_4b1a_a0ac_723d0223d80b",  # EnergyDensity
}
JSONLD_CONTEXT = {
    "@vocab": ASSBTRACK_VOCAB,
    "schema": "https://schema.org/",
    "emmo": EMMO,
    "echem": ELECTROCHEMISTRY,
    "batteryIdentifier": "schema:identifier",
    "manufacturingDate": {"@id": "schema:dateCreated", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
    "code": "schema:identifier",
    "name": "schema:name",
    "value": "schema:value",
    "unit": "schema:unitText",
}


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _fade_percent(retention: float | None) -> float | None:
    return None if retention is None else round((1.0 - retention) * 100.0, 4)


def _general(item: TracedItem, record) -> dict:
    mass_kg = None
    if item.kind == ItemKind.CELL and record.mass_g:
        mass_kg = record.mass_g / 1000.0
    elif item.kind == ItemKind.MODULE and record.cells_mass_kg:
        mass_kg = record.cells_mass_kg
    return {
        "batteryIdentifier": item.code,
        "batteryCategory": "laboratory prototype cell" if item.kind == ItemKind.CELL else "laboratory prototype module",
        "manufacturingDate": item.created_at.isoformat(),
        "batteryStatus": "original",
        "assbtrackStatus": item.status,
        "batteryMass": {"value": mass_kg, "unit": "kg"},
        "project": item.project.code,
    }


def _performance(item: TracedItem, record) -> dict:
    if item.kind == ItemKind.MODULE:
        return {
            "ratedCapacity": {"value": record.nominal_capacity_ah, "unit": "Ah"},
            "nominalVoltage": {"value": record.nominal_voltage_v, "unit": "V"},
            "ratedEnergy": {"value": record.system_energy_kwh * 1000.0, "unit": "Wh"},
        }
    return {
        "ratedCapacity": {"value": record.nominal_capacity_ah, "unit": "Ah"},
        "nominalVoltage": {"value": record.nominal_voltage_v, "unit": "V"},
        "ratedEnergy": {"value": record.energy_wh, "unit": "Wh"},
        "capacityFade": {"value": _fade_percent(record.retention_at_last), "unit": "%"},
        "cycleAt80PercentRetention": record.cycle_at_80_percent,
        "firstDischargeCapacity": {"value": record.first_discharge_capacity_mah, "unit": "mAh"},
        "specificEnergy": {"value": record.specific_energy_wh_per_kg, "unit": "Wh/kg"},
        "energyDensity": {"value": record.energy_density_wh_per_l, "unit": "Wh/L"},
    }


def _chemistry(records: dict[int, object], nodes) -> str:
    names = sorted({
        getattr(records.get(node.id), "composition", "") for node in nodes if node.kind == ItemKind.SSE_BATCH
    } - {""})
    return "all-solid-state" + (f", solid electrolyte {', '.join(names)}" if names else "")


def _cycling(cell_ids: list[int]) -> list[dict]:
    # cells is a domain app: the core reads its tables only when a passport is built, never at import
    from cells.models import CyclingTest

    tests = CyclingTest.objects.filter(cell_id__in=cell_ids).select_related("cell__item").order_by("created_at", "id")
    return [
        {
            "cell": test.cell.item.code, "test": test.pk, "temperatureC": test.temperature_c,
            "stackPressureMpa": test.stack_pressure_mpa, "cRate": test.c_rate, "cycleCount": test.cycle_count,
            "firstDischargeCapacityMah": test.first_discharge_capacity_mah,
            "retentionAt100": test.retention_at_100, "retentionAtLast": test.retention_at_last,
            "cycleAt80Percent": test.cycle_at_80_percent, "status": test.status,
        }
        for test in tests
    ]


def _measurements(batch_ids: list[int]) -> list[dict]:
    # materials is a domain app: the core reads its tables only when a passport is built, never at import
    from materials.models import ConductivityMeasurement

    rows = (ConductivityMeasurement.objects.current().filter(batch_id__in=batch_ids)
            .select_related("batch__item").order_by("measured_at", "id"))
    return [
        {
            "item": row.batch.item.code, "quantity": "ionic conductivity", "valueMsPerCm": row.conductivity_ms_per_cm,
            "temperatureC": row.temperature_c, "stackPressureMpa": row.stack_pressure_mpa,
            "measuredAt": row.measured_at.isoformat(),
        }
        for row in rows
    ]


def _model_results(item_ids: list[int]) -> list[dict]:
    jobs = (Job.objects.filter(subject_id__in=item_ids, status=JobStatus.SUCCEEDED)
            .select_related("subject").prefetch_related("files").order_by("created_at", "id"))
    return [
        {
            "job": job.pk, "kind": job.kind, "item": job.subject.code, "result": job.result,
            "files": [f"/jobs/{job.pk}/files/{job_file.name}" for job_file in job.files.all()],
        }
        for job in jobs
    ]


def _deviations(item_ids: list[int], codes: dict[int, str]) -> list[dict]:
    """Signed deviations of the item and of everything upstream of it the caller may see; a held item the
    caller may not see is named "withheld"."""
    return [
        {
            "code": deviation.item.code, "purpose": deviation.purpose,
            "heldItem": codes.get(deviation.held_item_id, "withheld"),
            "heldItemStatus": deviation.hold_event.to_status if deviation.hold_event else "",
            "holdPlacedAt": deviation.hold_event.created_at.isoformat() if deviation.hold_event else None,
            "reason": deviation.reason, "recordedBy": deviation.user.username,
            "recordedAt": deviation.created_at.isoformat(), "inForce": deviation.in_force,
            "signatureValid": deviation.signature_valid,
        }
        for deviation in deviations_for(item_ids)
    ]


def _drop_confidential(document: dict, keys: list[str]) -> None:
    for key in keys:
        section, _, attribute = str(key).partition(".")
        if not attribute:
            document.pop(section, None)
        elif isinstance(document.get(section), dict):
            document[section].pop(attribute, None)


def passport_build(item: TracedItem, *, user: User | AnonymousUser) -> dict:
    """The passport document of a cell or module the caller may read (the caller's scope is checked before)."""
    if item.kind not in PASSPORT_KINDS:
        raise ValueError(f"{item.code} is a {item.kind}; passports exist for cells and modules")
    info = kind_info(item.kind)
    record = info.model.objects.select_related("item", "item__project").get(pk=item.pk)
    lineage = lineage_upstream(item, user=user)
    records = lineage_hydrate(lineage)
    nodes = lineage.ordered()
    codes = {node.id: node.code for node in nodes}
    codes[item.pk] = item.code

    components = [
        {
            "code": codes.get(link.parent_id, ""), "kind": lineage.nodes[link.parent_id].kind,
            "usedIn": codes.get(link.child_id, ""), "role": link.role,
            "amount": _number(link.amount), "unit": link.unit,
        }
        for link in sorted(lineage.links, key=lambda link: (codes.get(link.child_id, ""), codes.get(link.parent_id)))
        if link.parent_id in lineage.nodes
    ]
    process = [{"code": item.code, "kind": item.kind, "facts": dict(record_facts(record))}]
    process += [
        {"code": node.code, "kind": node.kind, "facts": dict(record_facts(records[node.id]))}
        for node in nodes if node.id in records
    ]
    cell_ids = [item.pk] if item.kind == ItemKind.CELL else []
    cell_ids += [node.id for node in nodes if node.kind == ItemKind.CELL]
    batch_ids = [node.id for node in nodes if node.kind == ItemKind.SSE_BATCH]

    document = {
        "generalProductInformation": _general(item, record),
        "materialComposition": {"batteryChemistry": _chemistry(records, nodes), "components": components},
        "performanceAndDurability": _performance(item, record),
        "processParameters": process,
        "measurements": _measurements(batch_ids),
        "qualityControl": [
            {"code": node.code, "kind": node.kind, "status": node.status, "statusReason": node.status_reason,
             "held": node.status in HELD_STATUSES}
            for node in [*nodes]
        ],
        "deviations": _deviations([item.pk, *lineage.nodes], codes),
        "cyclingSummary": _cycling(cell_ids),
        "modelResults": _model_results([item.pk, *codes]),
    }
    if not user_is_lab_staff(user):
        _drop_confidential(document, item.project.confidential_fields or [])
    return document


def passport_jsonld(document: dict, *, iri: str) -> dict:
    """The same passport as JSON-LD: a context mapping the keys to IRIs, the passport's own IRI and type, and
    the BattINFO class of each quantity that has one as its ``@type``."""
    linked = {"@context": JSONLD_CONTEXT, "@id": iri, "@type": f"{ASSBTRACK_VOCAB}BatteryPassport", **document}
    for section in ("generalProductInformation", "performanceAndDurability"):
        if not isinstance(linked.get(section), dict):
            continue
        linked[section] = {
            key: ({"@type": BATTINFO_TYPES[key], **value} if key in BATTINFO_TYPES and isinstance(value, dict)
                  else value)
            for key, value in linked[section].items()
        }
    return linked
