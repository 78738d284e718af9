"""What the core knows of each kind of item: its detail table, its page fragment, its release checks and what
it adds to passports and their bundles.

The domain apps register their kinds in ``AppConfig.ready()``; the core never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import models

ReleaseCheck = Callable[["models.Model"], list[str]]
Facts = Callable[["models.Model"], list[tuple[str, str]]]


@dataclass(frozen=True)
class PassportSubject:
    """A kind that has a passport (``/api/v1/<kind>/<code>/passport/``): what its own record says in the
    general section (``batteryCategory``, ``batteryMass``) and in ``performanceAndDurability``."""

    category: str
    mass_kg: Callable[[models.Model], float | None]
    performance: Callable[[models.Model], dict]


@dataclass(frozen=True)
class PassportChemistry:
    """What a record upstream of a passport says of the battery chemistry: ``label`` and the record's ``name``
    (a solid electrolyte and its composition); empty names are left out."""

    label: str
    name: Callable[[models.Model], str]


@dataclass
class KindInfo:
    kind: str
    model: type[models.Model] | None = None
    detail_template: str | None = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    release_checks: list[ReleaseCheck] = field(default_factory=list)
    # What the composition report prints for a record (label, value); default: every filled-in field.
    facts: Facts | None = None
    # Text fields the search box looks in; default: every free-text field of the record.
    search_fields: tuple[str, ...] = ()
    passport: PassportSubject | None = None
    chemistry: PassportChemistry | None = None
    # The URL name of the page that corrects a record of this kind (it takes the code), if there is one.
    correction_url_name: str | None = None


_KINDS: dict[str, KindInfo] = {}


def kind_info(kind: str) -> KindInfo:
    return _KINDS.setdefault(kind, KindInfo(kind=kind))


def register_kind(
    kind: str,
    *,
    model: type[models.Model],
    detail_template: str | None = None,
    select_related: tuple[str, ...] = (),
    prefetch_related: tuple[str, ...] = (),
    facts: Facts | None = None,
    search_fields: tuple[str, ...] = (),
) -> None:
    info = kind_info(kind)
    info.model = model
    info.detail_template = detail_template
    info.select_related = select_related
    info.prefetch_related = prefetch_related
    info.facts = facts
    info.search_fields = search_fields


def register_correction_page(kind: str, url_name: str) -> None:
    """The page that corrects a record of ``kind``: a refusal that needs another record's data links to it."""
    kind_info(kind).correction_url_name = url_name


def registered_kinds() -> list[KindInfo]:
    """The kinds that have a detail table, in a stable order."""
    return [info for _, info in sorted(_KINDS.items()) if info.model is not None]


def register_release_check(kind: str, check: ReleaseCheck) -> None:
    """``check(item)`` returns the reasons the item may not be released yet (empty when it may)."""
    info = kind_info(kind)
    if check not in info.release_checks:
        info.release_checks.append(check)


def register_passport(kind: str, subject: PassportSubject) -> None:
    """Items of ``kind`` get a passport whose own sections read their record through ``subject``."""
    kind_info(kind).passport = subject


def passport_kinds() -> tuple[str, ...]:
    """The kinds that have a passport, in a stable order."""
    return tuple(kind for kind, info in sorted(_KINDS.items()) if info.passport is not None)


def register_passport_chemistry(kind: str, chemistry: PassportChemistry) -> None:
    kind_info(kind).chemistry = chemistry


# --- Passport sections and bundle parts: per-kind content of every passport ---------------------------------


@dataclass(frozen=True)
class PassportSection:
    """A section of every passport, built from the item and the records upstream of it whose kind is in
    ``kinds``: ``build(item_ids)`` answers the section's rows in a fixed number of queries. The section follows
    the core section named ``after`` in the document."""

    name: str
    kinds: tuple[str, ...]
    build: Callable[[list[int]], list[dict]]
    after: str


@dataclass(frozen=True)
class BundleFile:
    """One file a bundle part wrote into the bundle's folder, and how the crate describes it."""

    name: str
    description: str
    encoding_format: str


@dataclass(frozen=True)
class BundlePart:
    """Files of a passport bundle read from the passport document (so what the caller may not see stays out).

    ``source_bytes(document)`` is the size of what ``write`` would read (it decides between building in the
    request and in a job); ``write(document, folder)`` writes the files into ``folder`` and describes them.
    """

    name: str
    source_bytes: Callable[[dict], int]
    write: Callable[[dict, Path], list[BundleFile]]


_PASSPORT_SECTIONS: dict[str, PassportSection] = {}
_BUNDLE_PARTS: dict[str, BundlePart] = {}


def register_passport_section(section: PassportSection) -> None:
    _PASSPORT_SECTIONS[section.name] = section


def passport_sections() -> list[PassportSection]:
    """The registered sections, in the order they were registered."""
    return list(_PASSPORT_SECTIONS.values())


def register_bundle_part(part: BundlePart) -> None:
    _BUNDLE_PARTS[part.name] = part


def bundle_parts() -> list[BundlePart]:
    return list(_BUNDLE_PARTS.values())


# --- Consuming paths: every function that writes lineage edges or releases items ---------------------------
#
# The hold rule (no held or affected parent, no affected release without a deviation) lives in the core
# writers; every function that calls one of them registers here, and a test finds each caller in the source
# and exercises each registered path with an affected parent, so a new path cannot skip the rule unseen.

CONSUMING_PATHS: dict[str, str] = {}


def consuming_path(purpose: str):
    """Register the decorated function as a path that uses parents (``"use"``) or releases items (``"release"``)."""
    if purpose not in ("use", "release"):
        raise ValueError(f"purpose must be 'use' or 'release', not {purpose!r}")

    def register(function):
        CONSUMING_PATHS[f"{function.__module__}.{function.__qualname__}"] = purpose
        return function

    return register
