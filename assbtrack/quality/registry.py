"""QC series that apps register from ``AppConfig.ready()``: which series a record belongs to, and their numbers.

A source answers, for one traced item, the series it is part of (the conductivity of the batches of its
composition and route, the loading, thickness and porosity of the films of its recipe, ...), each with
its points in time order. The core never imports an app: the apps fill this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QcPoint:
    item_id: int
    code: str
    measured_at: datetime
    value: float


@dataclass(frozen=True)
class QcSeriesData:
    key: str  # "<source>:<project code>:<group>", at most 250 characters
    title: str  # names the records: "Conductivity of Li6PS5Cl (mechanochemical) batches, PRJ-1"
    unit: str  # as shown on the axis: "mS/cm"
    value_label: str  # the axis label with its unit
    project_id: int
    points: Sequence[QcPoint]


@dataclass(frozen=True)
class QcSource:
    name: str
    label: str
    series_for_item: Callable[[object], list[QcSeriesData]]


_SOURCES: dict[str, QcSource] = {}


def register_qc_source(name: str, *, label: str, series_for_item: Callable[[object], list[QcSeriesData]]) -> None:
    _SOURCES[name] = QcSource(name, label, series_for_item)


def qc_sources() -> list[QcSource]:
    return sorted(_SOURCES.values(), key=lambda source: source.name)


# ------------------------------------------------------------------------------------ yield and scrap per step


@dataclass(frozen=True)
class YieldRow:
    """What went into a step and what came out usable, for one project and month (``month``: "2026-03")."""

    step: str
    month: str
    project: str
    amount_in: float
    amount_out: float


@dataclass(frozen=True)
class YieldStep:
    name: str
    label: str  # "Batch yield after conditioning"
    unit: str  # of the amounts: "g", "cm²", "cells"
    rows: Callable[[object], list[YieldRow]]  # projects queryset → rows, in one or two queries


_YIELD_STEPS: dict[str, YieldStep] = {}


def register_yield_step(name: str, *, label: str, unit: str, rows: Callable[[object], list[YieldRow]]) -> None:
    _YIELD_STEPS[name] = YieldStep(name, label, unit, rows)


def yield_steps() -> list[YieldStep]:
    return list(_YIELD_STEPS.values())


# ------------------------------------------------------------------------- design spaces (design_suggest)


@dataclass(frozen=True)
class DesignRecord:
    """One record a design-space model trains on: its code, its parameters (by name) and its outcome."""

    code: str
    x: dict[str, float]
    y: float


@dataclass(frozen=True)
class DesignStep:
    name: str
    label: str  # "Milling (SSE batches)"
    parameters: tuple[tuple[str, str], ...]  # (name with unit, label)
    outcomes: tuple[tuple[str, str, str], ...]  # (name with unit, label, default objective)
    records: Callable[[object, str], list[DesignRecord]]  # (project, outcome) → records with every parameter
    # (project=, user=, parameters=, source=) → the app's own planned record (a draft design, ...), written by the
    # app's service inside the caller's transaction; ``source`` names the model run and proposal for its notes
    plan: Callable[..., object] | None = None
    # for a step whose records are made at the bench (a batch): the URL name of the app's form, which opens with a
    # planned proposal's parameters (``?plan=<id>``) and links the record it saves to the plan
    record_form: str = ""


_DESIGN_STEPS: dict[str, DesignStep] = {}


def register_design_step(step: DesignStep) -> None:
    _DESIGN_STEPS[step.name] = step


def design_steps() -> list[DesignStep]:
    return list(_DESIGN_STEPS.values())


def design_step(name: str) -> DesignStep | None:
    return _DESIGN_STEPS.get(name)
