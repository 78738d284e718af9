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

The core builds the sections every passport has; what depends on a kind comes from the kind registry
(``assbtrack/tracing/registry.py``), filled by each app's ``passport.py``: the item's own general and performance
attributes (``register_passport``), the chemistry of records upstream (``register_passport_chemistry``) and
whole sections such as ``measurements`` and ``cyclingSummary`` (``register_passport_section``).

The build costs a fixed number of queries whatever the size of the chain: one walk
(``lineage_upstream``), one query per kind present (``lineage_hydrate``), one per contributed section (the
measurements, the cycling tests) and one for the model results. Keys a project lists in ``confidential_fields``
(a section such as ``processParameters`` or an attribute such as ``materialComposition.components``) are
left out for partners and kept for lab staff.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AnonymousUser, User

from assbtrack.access.selectors import user_is_lab_staff
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.tracing.choices import HELD_STATUSES
from assbtrack.tracing.models import TracedItem
from assbtrack.tracing.registry import PassportSubject, kind_info, passport_kinds, passport_sections
from assbtrack.tracing.reports import record_facts
from assbtrack.tracing.selectors import deviations_for, lineage_hydrate, lineage_upstream

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


def _general(item: TracedItem, record, subject: PassportSubject) -> dict:
    return {
        "batteryIdentifier": item.code,
        "batteryCategory": subject.category,
        "manufacturingDate": item.created_at.isoformat(),
        "batteryStatus": "original",
        "assbtrackStatus": item.status,
        "batteryMass": {"value": subject.mass_kg(record), "unit": "kg"},
        "project": item.project.code,
    }


def _chemistry(records: dict[int, object], nodes) -> str:
    names: dict[str, set[str]] = {}
    for node in nodes:
        chemistry = kind_info(node.kind).chemistry
        if chemistry is not None and node.id in records:
            name = chemistry.name(records[node.id])
            if name:
                names.setdefault(chemistry.label, set()).add(name)
    return ", ".join(["all-solid-state", *(f"{label} {', '.join(sorted(values))}"
                                          for label, values in sorted(names.items()))])


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
    info = kind_info(item.kind)
    if info.passport is None:
        raise ValueError(f"{item.code} is a {item.kind}; passports exist for {', '.join(passport_kinds())}")
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

    core = {
        "generalProductInformation": _general(item, record, info.passport),
        "materialComposition": {"batteryChemistry": _chemistry(records, nodes), "components": components},
        "performanceAndDurability": info.passport.performance(record),
        "processParameters": process,
        "qualityControl": [
            {"code": node.code, "kind": node.kind, "status": node.status, "statusReason": node.status_reason,
             "held": node.status in HELD_STATUSES}
            for node in [*nodes]
        ],
        "deviations": _deviations([item.pk, *lineage.nodes], codes),
        "modelResults": _model_results([item.pk, *codes]),
    }
    # The sections the apps contribute (measurements, cycling summary), each after the core section it names.
    contributed: dict[str, list[tuple[str, list[dict]]]] = {}
    for section in passport_sections():
        ids = [item.pk] if item.kind in section.kinds else []
        ids += [node.id for node in nodes if node.kind in section.kinds]
        contributed.setdefault(section.after, []).append((section.name, section.build(ids)))
    document = {}
    for name, value in core.items():
        document[name] = value
        document.update(contributed.pop(name, []))
    for rest in contributed.values():  # after a section no longer in the core: at the end rather than lost
        document.update(rest)
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
