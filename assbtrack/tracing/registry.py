"""What the core knows of each kind of item: its detail table, its page fragment and its release checks.

The domain apps register their kinds in ``AppConfig.ready()``; the core never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models

ReleaseCheck = Callable[["models.Model"], list[str]]


@dataclass
class KindInfo:
    kind: str
    model: type[models.Model] | None = None
    detail_template: str | None = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    release_checks: list[ReleaseCheck] = field(default_factory=list)


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
) -> None:
    info = kind_info(kind)
    info.model = model
    info.detail_template = detail_template
    info.select_related = select_related
    info.prefetch_related = prefetch_related


def register_release_check(kind: str, check: ReleaseCheck) -> None:
    """``check(item)`` returns the reasons the item may not be released yet (empty when it may)."""
    info = kind_info(kind)
    if check not in info.release_checks:
        info.release_checks.append(check)
