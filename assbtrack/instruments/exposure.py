"""Moisture exposure of a material from a room's dew-point log and the times it was out of sealed storage.

Pure: numpy only, no Django. Times are seconds (any epoch, e.g. Unix time) as floats; results are in hours.

The dew point between two readings is taken to change linearly, except across a gap longer than
``max_gap_s`` (a sensor outage), which counts as *no data* rather than being bridged. Time exactly at the
limit counts as below it (within specification).

Two measures of "time-integrated moisture" are returned, both over the covered open time:

- ``excess_c_h`` = ∫ max(0, T_d(t) − T_limit) dt in °C·h: how far and how long the room was above its
  dew-point limit while the material was open. Zero for a room that stayed in specification; this is
  the measure the excursion flags use.
- ``vapour_pressure_pa_h`` = ∫ e(T_d(t)) dt in Pa·h, with e the water-vapour partial pressure from the
  Magnus formula over water with the WMO/Sonntag constants, e = 611.2 Pa · exp(17.62 T_d / (243.12 °C + T_d)).
  This is the moisture dose the powder saw (proportional to the number of water molecules striking it),
  comparable between rooms with different limits. A sensor that reports frost point below 0 °C is
  treated like a dew point here (the difference is under 10 % of e at −40 °C and is stated, not hidden).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

SECONDS_PER_HOUR = 3600.0
MAGNUS_E0_PA = 611.2
MAGNUS_A = 17.62
MAGNUS_B_C = 243.12
DEFAULT_MAX_GAP_S = 1800.0  # a reading at least every 30 min; a longer silence is an outage, not a trend

# 4-point Gauss–Legendre on [-1, 1]: exact for the constant and linear parts, ~1e-9 relative for e(T_d)
_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(4)


def vapour_pressure_pa(dew_point_c: float | np.ndarray) -> float | np.ndarray:
    """Water-vapour partial pressure (Pa) at dew point ``dew_point_c`` (°C), Magnus formula over water."""
    dew = np.asarray(dew_point_c, dtype=float)
    value = MAGNUS_E0_PA * np.exp(MAGNUS_A * dew / (MAGNUS_B_C + dew))
    return float(value) if value.ndim == 0 else value


def dew_point_from_vapour_pressure_c(vapour_pressure_pa: float) -> float:
    """The dew point (°C) at which the Magnus formula gives ``vapour_pressure_pa``: its exact inverse."""
    if not vapour_pressure_pa > 0:
        raise ExposureInputError("a vapour pressure must be positive")
    log_ratio = float(np.log(vapour_pressure_pa / MAGNUS_E0_PA))
    return MAGNUS_B_C * log_ratio / (MAGNUS_A - log_ratio)


@dataclass(frozen=True)
class Excursion:
    """A stretch of time with the dew point above the limit."""

    start_s: float
    end_s: float
    worst_dew_point_c: float
    excess_c_h: float

    @property
    def duration_h(self) -> float:
        return (self.end_s - self.start_s) / SECONDS_PER_HOUR


@dataclass(frozen=True)
class Exposure:
    limit_c: float
    open_h: float
    below_limit_h: float
    above_limit_h: float
    no_data_h: float
    worst_dew_point_c: float | None
    excess_c_h: float
    vapour_pressure_pa_h: float
    excursions: tuple[Excursion, ...]

    @property
    def covered_h(self) -> float:
        return self.below_limit_h + self.above_limit_h

    @property
    def mean_vapour_pressure_pa(self) -> float | None:
        return self.vapour_pressure_pa_h / self.covered_h if self.covered_h > 0 else None

    @property
    def effective_dew_point_c(self) -> float | None:
        """The constant dew point that would have given the same water-vapour dose over the covered time."""
        mean = self.mean_vapour_pressure_pa
        return dew_point_from_vapour_pressure_c(mean) if mean else None


class ExposureInputError(ValueError):
    """The series or the intervals cannot be used (shape, order, non-finite values)."""


def merge_intervals(intervals: Iterable[Sequence[float]]) -> np.ndarray:
    """The union of ``(start_s, end_s)`` intervals as a sorted (n, 2) array; empty intervals are dropped."""
    array = np.asarray([tuple(map(float, pair)) for pair in intervals], dtype=float).reshape(-1, 2)
    if not np.all(np.isfinite(array)):
        raise ExposureInputError("interval bounds must be finite numbers")
    array = array[array[:, 1] > array[:, 0]]
    if len(array) == 0:
        return array
    array = array[np.argsort(array[:, 0], kind="stable")]
    running_end = np.maximum.accumulate(array[:, 1])
    starts_new = np.empty(len(array), dtype=bool)
    starts_new[0] = True
    starts_new[1:] = array[1:, 0] > running_end[:-1]
    group = np.cumsum(starts_new) - 1
    merged = np.empty((group[-1] + 1, 2))
    merged[:, 0] = array[starts_new, 0]
    merged[:, 1] = np.maximum.reduceat(array[:, 1], np.flatnonzero(starts_new))
    return merged


def _series(time_s, dew_point_c) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time_s, dtype=float).ravel()
    y = np.asarray(dew_point_c, dtype=float).ravel()
    if t.shape != y.shape:
        raise ExposureInputError(f"{t.size} times but {y.size} dew points")
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = t[keep], y[keep]
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    if t.size > 1:
        # two readings at the same instant: keep the last (a corrected line in the log)
        unique = np.append(t[1:] != t[:-1], True)
        t, y = t[unique], y[unique]
    return t, y


def _segments(t: np.ndarray, y: np.ndarray, start: float, end: float, max_gap_s: float):
    """The covered pieces of [start, end]: clipped start/end times and the dew point at both ends."""
    n = t.size
    if n < 2:
        return (np.empty(0),) * 4
    first = max(int(np.searchsorted(t, start, side="right")) - 1, 0)
    last = min(int(np.searchsorted(t, end, side="left")), n - 1)
    k = np.arange(first, last)
    if k.size == 0:
        return (np.empty(0),) * 4
    t0, t1, y0, y1 = t[k], t[k + 1], y[k], y[k + 1]
    keep = (t1 - t0 <= max_gap_s) & (t1 > start) & (t0 < end)
    t0, t1, y0, y1 = t0[keep], t1[keep], y0[keep], y1[keep]
    c0, c1 = np.maximum(t0, start), np.minimum(t1, end)
    slope = (y1 - y0) / (t1 - t0)
    return c0, c1, y0 + slope * (c0 - t0), y0 + slope * (c1 - t0)


def exposure(
    time_s,
    dew_point_c,
    intervals: Iterable[Sequence[float]],
    *,
    limit_c: float,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> Exposure:
    """Exposure over the union of the open ``intervals`` (start_s, end_s) to the logged dew point.

    ``open_h`` = ``below_limit_h`` + ``above_limit_h`` + ``no_data_h``; see the module note for the two
    moisture integrals. ``excursions`` are the stretches above the limit inside the open intervals.
    """
    if not np.isfinite(limit_c):
        raise ExposureInputError("the dew-point limit must be a finite number")
    if not max_gap_s > 0:
        raise ExposureInputError("the largest gap between readings must be positive")
    t, y = _series(time_s, dew_point_c)
    merged = merge_intervals(intervals)
    open_s = float(np.sum(merged[:, 1] - merged[:, 0])) if len(merged) else 0.0

    pieces = [_segments(t, y, start, end, max_gap_s) for start, end in merged]
    if pieces:
        c0, c1, u0, u1 = (np.concatenate([piece[i] for piece in pieces]) for i in range(4))
    else:
        c0 = c1 = u0 = u1 = np.empty(0)
    duration = c1 - c0
    v0, v1 = u0 - limit_c, u1 - limit_c

    # Fraction of each piece above the limit and where that part lies (the dew point is linear in a piece).
    both_above = (v0 > 0) & (v1 > 0)
    falling = (v0 > 0) & (v1 <= 0)  # above at the start, crosses down
    rising = (v0 <= 0) & (v1 > 0)  # crosses up, above at the end
    span = np.where(v0 != v1, np.abs(v0 - v1), 1.0)
    fraction = np.where(both_above, 1.0, np.where(falling, v0 / span, np.where(rising, v1 / span, 0.0)))
    above_s = fraction * duration
    excess = np.where(both_above, 0.5 * (v0 + v1) * duration, 0.5 * (np.maximum(v0, 0) + np.maximum(v1, 0)) * above_s)
    above_start = np.where(rising, c1 - above_s, c0)
    above_end = above_start + above_s

    # ∫ e(T_d) dt per piece by Gauss–Legendre on the linear dew point.
    nodes = 0.5 * (_GAUSS_X[None, :] + 1.0)
    dew_at_nodes = u0[:, None] + (u1 - u0)[:, None] * nodes
    vapour_pa_s = duration * np.sum(0.5 * _GAUSS_W[None, :] * vapour_pressure_pa(dew_at_nodes), axis=1)

    inside = np.zeros(t.size, dtype=bool)
    for start, end in merged:
        inside[np.searchsorted(t, start, side="left"):np.searchsorted(t, end, side="right")] = True
    candidates = np.concatenate([y[inside], u0, u1])
    worst = float(candidates.max()) if candidates.size else None

    covered_s = float(duration.sum())
    above_total_s = float(above_s.sum())
    return Exposure(
        limit_c=float(limit_c),
        open_h=open_s / SECONDS_PER_HOUR,
        below_limit_h=(covered_s - above_total_s) / SECONDS_PER_HOUR,
        above_limit_h=above_total_s / SECONDS_PER_HOUR,
        no_data_h=max(open_s - covered_s, 0.0) / SECONDS_PER_HOUR,
        worst_dew_point_c=worst,
        excess_c_h=float(excess.sum()) / SECONDS_PER_HOUR,
        vapour_pressure_pa_h=float(vapour_pa_s.sum()) / SECONDS_PER_HOUR,
        excursions=_excursions(above_start, above_end, excess, u0, u1, v0, v1, limit_c),
    )


def _excursions(start, end, excess, u0, u1, v0, v1, limit_c) -> tuple[Excursion, ...]:
    """Runs of touching above-limit pieces, each with its worst dew point and its excess."""
    keep = end > start
    if not np.any(keep):
        return ()
    start, end, excess = start[keep], end[keep], excess[keep]
    # the dew point at each end of the above part: the reading where it is above, the limit where it crosses
    high0 = np.where(v0[keep] > 0, u0[keep], limit_c)
    high1 = np.where(v1[keep] > 0, u1[keep], limit_c)
    order = np.argsort(start, kind="stable")
    start, end, excess, high0, high1 = start[order], end[order], excess[order], high0[order], high1[order]
    running_end = np.maximum.accumulate(end)
    starts_new = np.empty(start.size, dtype=bool)
    starts_new[0] = True
    starts_new[1:] = start[1:] > running_end[:-1] + 1e-6
    first = np.flatnonzero(starts_new)
    run_end = np.maximum.reduceat(end, first)
    run_excess = np.add.reduceat(excess, first)
    run_worst = np.maximum.reduceat(np.maximum(high0, high1), first)
    return tuple(
        Excursion(float(s), float(e), float(w), float(x) / SECONDS_PER_HOUR)
        for s, e, w, x in zip(start[first], run_end, run_worst, run_excess)
    )


def excursions(
    time_s, dew_point_c, *, limit_c: float, max_gap_s: float = DEFAULT_MAX_GAP_S
) -> tuple[Excursion, ...]:
    """Every stretch of a whole log above ``limit_c`` (the room's own view, before any item is involved)."""
    t, _ = _series(time_s, dew_point_c)
    if t.size < 2:
        return ()
    return exposure(time_s, dew_point_c, [(t[0], t[-1])], limit_c=limit_c, max_gap_s=max_gap_s).excursions
