"""Statistical process control of one QC series: an individuals chart and the Western Electric rules.

A QC series is one number per record in time order (the conductivity of the batches of one composition
and route, the areal loading of the films of one recipe, the first-cycle capacity of the cells of one
design, the pressure-map CV of one housing design). The scientist chooses the baseline: the first
``baseline_count`` values, taken to be in control, set the centre line and the limits; every value is
then judged against them.

- centre = mean of the baseline;
- σ = mean moving range of the baseline / d₂, d₂ = 1.128 for ranges of two consecutive values (the
  individuals-chart estimate: it follows the short-term spread, so a slow drift inside the baseline does
  not widen the limits the way the standard deviation would);
- UCL / LCL = centre ± 3σ, z = (value − centre) / σ.

The four rules (Western Electric Statistical Quality Control Handbook, 1956), each judged at the point
that completes the pattern, on one side of the centre at a time:

- ``we1``: the point is beyond 3σ;
- ``we2``: the point is beyond 2σ and at least 2 of the 3 points ending at it are beyond 2σ on that side;
- ``we3``: the point is beyond 1σ and at least 4 of the 5 points ending at it are beyond 1σ on that side;
- ``we4``: the 8 points ending at it are all strictly on that side of the centre.

Near the start of a series the windows of ``we2`` and ``we3`` hold the points there are (the first two
points beyond 2σ on one side already make "2 of 3"); ``we4`` needs 8 points. "Beyond" is strict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .inputs import Inputs, ModelInputError

D2_MOVING_RANGE = 1.128  # expected range of two normal values, in σ
MIN_VALUES = 8
MAX_VALUES = 100_000
RULES = ("we1", "we2", "we3", "we4")
RULE_TEXT = {
    "we1": "one point beyond 3σ",
    "we2": "two of three points beyond 2σ on one side",
    "we3": "four of five points beyond 1σ on one side",
    "we4": "eight points in a row on one side of the centre",
}
# (threshold in σ, points in the window, how many of them beyond the threshold on one side)
_WINDOWS = {"we1": (3.0, 1, 1), "we2": (2.0, 3, 2), "we3": (1.0, 5, 4), "we4": (0.0, 8, 8)}


@dataclass(frozen=True)
class ControlLimits:
    center: float
    sigma: float

    @property
    def ucl(self) -> float:
        return self.center + 3.0 * self.sigma

    @property
    def lcl(self) -> float:
        return self.center - 3.0 * self.sigma

    def z(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=float) - self.center) / self.sigma


@dataclass(frozen=True, order=True)
class Violation:
    index: int
    rule: str


def control_limits(baseline: Sequence[float] | np.ndarray, *, field: str = "values") -> ControlLimits:
    """Centre and moving-range σ of the baseline; a baseline that never moves has no σ (bad input)."""
    values = np.asarray(baseline, dtype=float)
    if values.size < 2:
        raise ModelInputError(field, "the baseline needs at least 2 values")
    sigma = float(np.mean(np.abs(np.diff(values)))) / D2_MOVING_RANGE
    center = float(np.mean(values))
    if not sigma > 1e-12 * max(1.0, abs(center)):
        raise ModelInputError(field, "the baseline values never change (σ = 0): no control limits can be set")
    return ControlLimits(center=center, sigma=sigma)


def western_electric(z: Sequence[float] | np.ndarray, rules: Sequence[str] = RULES) -> list[Violation]:
    """Every (point, rule) pair that fires, sorted by index then rule."""
    scores = np.asarray(z, dtype=float)
    found: list[Violation] = []
    for rule in rules:
        threshold, window, needed = _WINDOWS[rule]
        for side in (1.0, -1.0):
            beyond = side * scores > threshold
            # how many of the ``window`` points ending at each index are beyond on this side
            counts = np.convolve(beyond.astype(int), np.ones(window, dtype=int))[: scores.size]
            if rule == "we4":
                hits = counts >= needed
            else:
                hits = beyond & (counts >= needed)
            found.extend(Violation(int(index), rule) for index in np.flatnonzero(hits))
    return sorted(set(found))


@dataclass(frozen=True)
class ControlChart:
    limits: ControlLimits
    baseline_count: int
    z: np.ndarray
    violations: tuple[Violation, ...]

    def rules_at(self, index: int) -> list[str]:
        return [v.rule for v in self.violations if v.index == index]


def control_chart(values: Sequence[float], *, baseline_count: int | None = None,
                  rules: Sequence[str] = RULES) -> ControlChart:
    series = np.asarray(values, dtype=float)
    count = series.size if baseline_count is None else baseline_count
    limits = control_limits(series[:count])
    z = limits.z(series)
    return ControlChart(limits=limits, baseline_count=count, z=z, violations=tuple(western_electric(z, rules)))


def read_spc_inputs(data: Mapping[str, Any]) -> tuple[list[float], int, list[str]]:
    """The checked ``values``, ``baseline_count`` and ``rules``; a baseline with no spread is refused here too (its
    limits are cheap), so a submitted job never fails on it."""
    inputs = Inputs(data)
    values = inputs.numbers("values", min_items=MIN_VALUES, max_items=MAX_VALUES)
    baseline_count = inputs.integer("baseline_count", default=len(values), minimum=MIN_VALUES, maximum=len(values))
    chosen = inputs.raw("rules", default=list(RULES))
    if not isinstance(chosen, list) or not chosen:
        raise ModelInputError("rules", f"must be a non-empty list of {', '.join(RULES)}")
    for index, rule in enumerate(chosen):
        if rule not in RULES:
            raise ModelInputError(f"rules[{index}]", f"must be one of {', '.join(RULES)}")
    inputs.finish()
    try:
        control_limits(values[:baseline_count])
    except ModelInputError as error:
        raise ModelInputError("baseline_count" if "baseline_count" in data else "values", error.reason) from None
    return values, baseline_count, sorted(set(chosen))


def run_spc(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``spc`` model of MODELS.md: ``values``, ``baseline_count``, ``rules`` → limits and violations."""
    values, baseline_count, rules = read_spc_inputs(data)
    chart = control_chart(values, baseline_count=baseline_count, rules=rules)
    return {
        "center": chart.limits.center,
        "sigma": chart.limits.sigma,
        "ucl": chart.limits.ucl,
        "lcl": chart.limits.lcl,
        "violations": [{"index": v.index, "rule": v.rule} for v in chart.violations],
    }
