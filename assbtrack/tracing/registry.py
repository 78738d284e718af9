"""What the core knows of each kind of item: its detail table, its page fragment and its release checks.

The domain apps register their kinds in ``AppConfig.ready()``; the core never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models

ReleaseCheck = Callable[["models.Model"], list[str]]
Facts = Callable[["models.Model"], list[tuple[str, str]]]


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
