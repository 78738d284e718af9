"""Per-cycle metrics of a galvanostatic cycling test, from the cycler's time series (MODELS.md, "Cycling").

A cycler logs points: a cycle number, the voltage, and either the current and the time (which we
integrate) or running charge and discharge capacities (which the cycler integrated itself). From
either we compute, per cycle, the charge and discharge capacity (mAh) and energy (mWh), coulombic
efficiency Q_dis/Q_ch, energy efficiency E_dis/E_ch and capacity retention Q_dis(n)/Q_dis(first full
cycle), and from those the summary the cell record shows.

Conventions: current in mA, positive while charging; time in s; capacities in mAh (mA·s/3600);
energies in mWh (mW·s/3600). Everything is vectorised over points (``np.bincount`` on the cycle
index); the only Python loops are over the handful of cycles a caller asks curves for.

Readers turn files into a ``CyclingTimeSeries``: ``time_series_from_csv`` for plain CSVs with a
user-supplied column mapping, ``time_series_from_navani`` for the DataFrame that navani builds from
BioLogic, Arbin, Neware, Maccor, Landt, Ivium and BDF files, and ``time_series_from_cycler_file``
which runs navani's loader on a path. Every reader raises ``ModelInputError`` naming the column or
the file and the reason, so the web form can show it next to the upload.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assbtrack.domain.inputs import ModelInputError
from assbtrack.domain.spreadsheet import TextDecodeError, text_decoded

SECONDS_PER_HOUR = 3600.0
END_OF_LIFE_RETENTION = 0.8
RETENTION_REPORT_CYCLE = 100


# --------------------------------------------------------------------------------------------------
# The time series
# --------------------------------------------------------------------------------------------------


def _float_column(values: Any, field: str, length: int | None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ModelInputError(field, "must be a one-dimensional array")
    if length is not None and array.size != length:
        raise ModelInputError(field, f"has {array.size} points, the cycle column has {length}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ModelInputError(field, f"is not a finite number at point {bad[0]}")
    return array


@dataclass(frozen=True, eq=False)
class CyclingTimeSeries:
    """The points of a cycling test, one array entry per logged point, in time order.

    Give ``current_ma`` with ``time_s``, or ``charge_capacity_mah`` with ``discharge_capacity_mah``,
    or all four (the cycler's own capacities are then preferred: it integrated at its internal rate,
    finer than the logged points). The capacity columns are running counters as cyclers export
    them: non-negative, rising while their direction passes charge, and restarting from zero per
    step, per half cycle or per cycle, whichever the cycler does.
    """

    cycle: np.ndarray
    voltage_v: np.ndarray
    current_ma: np.ndarray | None = None
    time_s: np.ndarray | None = None
    charge_capacity_mah: np.ndarray | None = None
    discharge_capacity_mah: np.ndarray | None = None

    def __post_init__(self) -> None:
        cycle_float = _float_column(self.cycle, "cycle", None)
        if cycle_float.size < 2:
            raise ModelInputError("cycle", f"needs at least 2 points, got {cycle_float.size}")
        fractional = np.flatnonzero(cycle_float != np.round(cycle_float))
        if fractional.size:
            raise ModelInputError("cycle", f"is not a whole number at point {fractional[0]}")
        length = cycle_float.size
        object.__setattr__(self, "cycle", cycle_float.astype(np.int64))
        object.__setattr__(self, "voltage_v", _float_column(self.voltage_v, "voltage_v", length))
        for name in ("current_ma", "time_s", "charge_capacity_mah", "discharge_capacity_mah"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _float_column(value, name, length))
        for first, second in (("current_ma", "time_s"), ("charge_capacity_mah", "discharge_capacity_mah")):
            if (getattr(self, first) is None) != (getattr(self, second) is None):
                missing = first if getattr(self, first) is None else second
                present = second if missing == first else first
                raise ModelInputError(missing, f"is required together with {present}")
        if self.current_ma is None and self.charge_capacity_mah is None:
            raise ModelInputError(
                "current_ma", "give current_ma and time_s, or charge_capacity_mah and discharge_capacity_mah"
            )
        if self.time_s is not None:
            backwards = np.flatnonzero(np.diff(self.time_s) < 0)
            if backwards.size:
                raise ModelInputError("time_s", f"goes backwards at point {backwards[0] + 1}")
        for name in ("charge_capacity_mah", "discharge_capacity_mah"):
            value = getattr(self, name)
            if value is not None and np.any(value < 0):
                raise ModelInputError(name, f"is negative at point {np.flatnonzero(value < 0)[0]}")

    @property
    def uses_capacity_counters(self) -> bool:
        return self.charge_capacity_mah is not None

    def __len__(self) -> int:
        return int(self.cycle.size)


@dataclass(frozen=True)
class _Increments:
    """Charge passed between consecutive points, split by direction, and the point each belongs to.

    ``*_point`` indexes the time series: the increment is booked to that point's cycle. Charge and
    discharge parts of one interval may belong to different points (see ``_current_increments``).
    """

    charge_mah: np.ndarray
    charge_point: np.ndarray
    discharge_mah: np.ndarray
    discharge_point: np.ndarray
    charge_mwh: np.ndarray
    charge_energy_point: np.ndarray
    discharge_mwh: np.ndarray
    discharge_energy_point: np.ndarray


def _split_linear_integral(
    start: np.ndarray, end: np.ndarray, dt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Integrals of the positive and of the negative part of a quantity linear between two points.

    The trapezoid alone would let a charge and a discharge that share one logging interval cancel;
    splitting at the zero crossing keeps them apart, and is exact for piecewise-linear data.
    """
    crossing = start * end < 0
    positive_start = np.maximum(start, 0.0)
    positive_end = np.maximum(end, 0.0)
    plain = 0.5 * (positive_start + positive_end) * dt
    crossing_fraction = np.divide(
        positive_start**2 + positive_end**2,
        np.abs(start) + np.abs(end),
        out=np.zeros_like(dt),
        where=crossing,
    )
    positive = np.where(crossing, 0.5 * crossing_fraction * dt, plain)
    negative = 0.5 * (start + end) * dt - positive
    return positive, negative


def _current_increments(series: CyclingTimeSeries) -> _Increments:
    """Integrate current (and power) between consecutive points, by the trapezoid.

    When the two ends of an interval carry different cycle numbers, its charging part is booked to
    the end where the current is higher and its discharging part to the end where it is lower: the
    charge at the start of a new cycle's charging step belongs to that new cycle.
    """
    current = series.current_ma
    power_mw = series.voltage_v * current
    dt = np.diff(series.time_s)
    previous, this = np.arange(len(series) - 1), np.arange(1, len(series))
    charge_mas, discharge_mas = _split_linear_integral(current[:-1], current[1:], dt)
    charge_mws, discharge_mws = _split_linear_integral(power_mw[:-1], power_mw[1:], dt)
    rising_current = current[1:] >= current[:-1]
    falling_current = current[1:] <= current[:-1]
    rising_power = power_mw[1:] >= power_mw[:-1]
    falling_power = power_mw[1:] <= power_mw[:-1]
    return _Increments(
        charge_mah=charge_mas / SECONDS_PER_HOUR,
        charge_point=np.where(rising_current, this, previous),
        discharge_mah=-discharge_mas / SECONDS_PER_HOUR,
        discharge_point=np.where(falling_current, this, previous),
        charge_mwh=charge_mws / SECONDS_PER_HOUR,
        charge_energy_point=np.where(rising_power, this, previous),
        discharge_mwh=-discharge_mws / SECONDS_PER_HOUR,
        discharge_energy_point=np.where(falling_power, this, previous),
    )


def _counter_increments(counter_mah: np.ndarray, voltage_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capacity and energy added at each point by a running counter that restarts from zero.

    A drop means the counter restarted (new step, half cycle or cycle) and has since climbed to its
    current value, so the increment is that value. The counter is taken to start at zero before the
    first point. Energy is V·dQ with the voltage at the middle of the step (at the point itself
    after a restart, when the earlier voltage belongs to another step).
    """
    step = np.diff(counter_mah, prepend=0.0)
    restarted = step < 0
    increment_mah = np.where(restarted, counter_mah, step)
    previous_voltage = np.concatenate((voltage_v[:1], voltage_v[:-1]))
    step_voltage = np.where(restarted, voltage_v, 0.5 * (voltage_v + previous_voltage))
    return increment_mah, increment_mah * step_voltage


def _increments(series: CyclingTimeSeries) -> _Increments:
    if not series.uses_capacity_counters:
        return _current_increments(series)
    points = np.arange(len(series))
    charge_mah, charge_mwh = _counter_increments(series.charge_capacity_mah, series.voltage_v)
    discharge_mah, discharge_mwh = _counter_increments(series.discharge_capacity_mah, series.voltage_v)
    return _Increments(charge_mah, points, discharge_mah, points, charge_mwh, points, discharge_mwh, points)


# --------------------------------------------------------------------------------------------------
# Per-cycle metrics and summary
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CycleMetrics:
    """One entry per cycle that passed any charge, in the cycler's own numbering.

    Only complete cycles (a charge and a discharge, and for the file's last cycle a finished last half
    cycle) carry coulombic and energy efficiency; only complete, non-diagnostic cycles from the
    reference on carry retention. Everything else is NaN.
    """

    cycle: np.ndarray
    charge_capacity_mah: np.ndarray
    discharge_capacity_mah: np.ndarray
    charge_energy_mwh: np.ndarray
    discharge_energy_mwh: np.ndarray
    coulombic_efficiency: np.ndarray
    energy_efficiency: np.ndarray
    retention: np.ndarray
    complete: np.ndarray | None = None  # default: cycles with both a charge and a discharge
    diagnostic: np.ndarray | None = None  # default: none
    reference_index: int | None = None  # the cycle retention is referred to

    def __post_init__(self) -> None:
        if self.complete is None:
            object.__setattr__(self, "complete", (self.charge_capacity_mah > 0) & (self.discharge_capacity_mah > 0))
        if self.diagnostic is None:
            object.__setattr__(self, "diagnostic", np.zeros(self.cycle.size, dtype=bool))

    def __len__(self) -> int:
        return int(self.cycle.size)

    @property
    def first_full_index(self) -> int | None:
        """Index of the retention reference: the first complete cycle after formation unless chosen."""
        return self.reference_index

    def as_dict(self) -> dict[str, list[Any]]:
        """JSON-ready lists; NaN becomes None."""
        result: dict[str, list[Any]] = {"cycle": [int(value) for value in self.cycle]}
        for name in (
            "charge_capacity_mah",
            "discharge_capacity_mah",
            "charge_energy_mwh",
            "discharge_energy_mwh",
            "coulombic_efficiency",
            "energy_efficiency",
            "retention",
        ):
            result[name] = [None if math.isnan(value) else float(value) for value in getattr(self, name)]
        result["complete"] = [bool(value) for value in self.complete]
        result["diagnostic"] = [bool(value) for value in self.diagnostic]
        return result


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.full_like(numerator, np.nan), where=denominator > 0)


def per_cycle_metrics(series: CyclingTimeSeries, options: MetricOptions | None = None) -> CycleMetrics:
    """Capacities, energies and efficiencies of every cycle of ``series`` (held in memory).

    Cycles with no charge in either direction (the initial rest that navani numbers 0, say) are
    left out: they have no efficiency and would break the retention curve.
    """
    increments = _increments(series)
    size = len(series)

    def at_points(values: np.ndarray, points: np.ndarray) -> np.ndarray:
        return np.bincount(points, weights=values, minlength=size)

    accumulator = CycleAccumulator()
    accumulator.add(PointIncrements(
        cycle=series.cycle,
        charge_mah=at_points(increments.charge_mah, increments.charge_point),
        discharge_mah=at_points(increments.discharge_mah, increments.discharge_point),
        charge_mwh=at_points(increments.charge_mwh, increments.charge_energy_point),
        discharge_mwh=at_points(increments.discharge_mwh, increments.discharge_energy_point),
    ))
    return accumulator.metrics(options)


@dataclass(frozen=True)
class CyclingSummary:
    first_discharge_capacity_mah: float | None
    retention_at_100: float | None  # None until cycle 100 has been discharged
    retention_at_last: float | None
    cycle_at_80_percent: int | None  # first cycle below 80 % retention; None while above

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_discharge_capacity_mah": self.first_discharge_capacity_mah,
            "retention_at_100": self.retention_at_100,
            "retention_at_last": self.retention_at_last,
            "cycle_at_80_percent": self.cycle_at_80_percent,
        }


def cycling_summary(metrics: CycleMetrics) -> CyclingSummary:
    """The figures a cell record shows, counted from the retention reference.

    Only complete, non-diagnostic cycles count: a test stopped half-way through a charge must not
    report its last cycle at 0 % retention, nor an unfinished cycle 100 as reached, and a slow
    check-up cycle must not flag end of life.
    """
    first = metrics.reference_index
    if first is None:
        return CyclingSummary(None, None, None, None)
    counted = np.zeros(len(metrics), dtype=bool)
    counted[first:] = True
    counted &= metrics.complete & ~metrics.diagnostic
    counted_cycles = metrics.cycle[counted]
    counted_retention = metrics.retention[counted]

    at_report_cycle = np.flatnonzero(counted_cycles == RETENTION_REPORT_CYCLE)
    below = np.flatnonzero(counted_retention < END_OF_LIFE_RETENTION)
    return CyclingSummary(
        first_discharge_capacity_mah=float(metrics.discharge_capacity_mah[first]),
        retention_at_100=float(counted_retention[at_report_cycle[0]]) if at_report_cycle.size else None,
        retention_at_last=float(counted_retention[-1]),
        cycle_at_80_percent=int(counted_cycles[below[0]]) if below.size else None,
    )


def voltage_capacity_curves(
    series: CyclingTimeSeries, cycles: Sequence[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Voltage against the capacity passed so far in each half cycle, for the requested cycles.

    Charge and discharge each start from zero capacity, as in the usual voltage profile plot; a NaN
    between them breaks the line so that a plot does not join the end of one to the start of the
    other. Rest points are left out. Cycles not in the series are skipped.
    """
    increments = _increments(series)
    size = len(series)
    charge_at_point = np.bincount(increments.charge_point, increments.charge_mah, minlength=size)
    discharge_at_point = np.bincount(increments.discharge_point, increments.discharge_mah, minlength=size)
    if series.current_ma is not None:
        phase = np.sign(series.current_ma)
    else:
        phase = np.sign(charge_at_point - discharge_at_point)

    # Running capacities within each contiguous run of one cycle.
    starts_run = np.diff(series.cycle, prepend=series.cycle[0] - 1) != 0
    run_starts = np.flatnonzero(starts_run)
    run_of_point = np.cumsum(starts_run) - 1
    charge_running = np.cumsum(charge_at_point)
    discharge_running = np.cumsum(discharge_at_point)
    charge_running -= (charge_running - charge_at_point)[run_starts][run_of_point]
    discharge_running -= (discharge_running - discharge_at_point)[run_starts][run_of_point]
    capacity_mah = np.where(phase > 0, charge_running, discharge_running)

    curves: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for cycle in cycles:
        points = np.flatnonzero((series.cycle == cycle) & (phase != 0))
        if points.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(phase[points]) != 0) + 1
        capacity = np.insert(capacity_mah[points], breaks, np.nan)
        voltage = np.insert(series.voltage_v[points], breaks, np.nan)
        curves[int(cycle)] = (capacity, voltage)
    return curves


# --------------------------------------------------------------------------------------------------
# Accumulating per-cycle sums point chunk by point chunk (files far larger than memory)
# --------------------------------------------------------------------------------------------------

# A half cycle, or one direction within a cycle, that passed less than this fraction of the test's
# largest half cycle is a sign blip (a noise point of the other sign, a relaxation spike): it does not
# start a half cycle and does not make a cycle complete.
BLIP_FRACTION = 0.01
# The file's last half cycle is finished when it passed at least this fraction of the previous half
# cycle in the same direction: a test stopped (or still running) part-way through is not.
FINISHED_HALF_CYCLE_FRACTION = 0.5


@dataclass(frozen=True, eq=False)
class PointIncrements:
    """Charge and energy passed at each point of a stretch of a file, booked to the point's cycle.

    Readers turn whatever the cycler logs (running counters, increments, current and time) into these
    per-point increments, so the accumulator never needs more than one stretch in memory.
    """

    cycle: np.ndarray
    charge_mah: np.ndarray
    discharge_mah: np.ndarray
    charge_mwh: np.ndarray
    discharge_mwh: np.ndarray
    carried_points: int = 0  # leading entries that are the previous chunk's last point, not new points
    voltage_v: np.ndarray | None = None  # the points' voltage, for voltage profiles of chosen cycles

    def __len__(self) -> int:
        return int(self.cycle.size)


def counter_increments(
    counter: np.ndarray, voltage_v: np.ndarray, previous: tuple[float, float] | None
) -> tuple[np.ndarray, np.ndarray]:
    """``_counter_increments`` carried over a chunk boundary: ``previous`` is (counter, voltage) before it."""
    if previous is None:
        return _counter_increments(counter, voltage_v)
    joined_counter = np.concatenate(([previous[0]], counter))
    joined_voltage = np.concatenate(([previous[1]], voltage_v))
    step = np.diff(joined_counter)
    restarted = step < 0
    increment = np.where(restarted, counter, step)
    step_voltage = np.where(restarted, voltage_v, 0.5 * (voltage_v + joined_voltage[:-1]))
    return increment, increment * step_voltage


def current_increments(
    cycle: np.ndarray, voltage_v: np.ndarray, current_ma: np.ndarray, time_s: np.ndarray,
    previous: tuple[int, float, float, float] | None,
) -> PointIncrements:
    """Trapezoidal integration of current over one chunk, joined to the last point of the chunk before."""
    if previous is not None:
        cycle = np.concatenate(([previous[0]], cycle))
        voltage_v = np.concatenate(([previous[1]], voltage_v))
        current_ma = np.concatenate(([previous[2]], current_ma))
        time_s = np.concatenate(([previous[3]], time_s))
    size = cycle.size
    if size < 2:
        zeros = np.zeros(size)
        return PointIncrements(cycle, zeros, zeros, zeros, zeros, voltage_v=voltage_v)
    backwards = np.flatnonzero(np.diff(time_s) < 0)
    if backwards.size:
        raise ModelInputError("time_s", f"goes backwards at point {backwards[0] + 1}")
    series = CyclingTimeSeries.__new__(CyclingTimeSeries)
    for name, value in (("cycle", cycle), ("voltage_v", voltage_v), ("current_ma", current_ma), ("time_s", time_s),
                        ("charge_capacity_mah", None), ("discharge_capacity_mah", None)):
        object.__setattr__(series, name, value)
    increments = _current_increments(series)

    def at_points(values: np.ndarray, points: np.ndarray) -> np.ndarray:
        return np.bincount(points, weights=values, minlength=size)

    # With a carried point, what the joining interval books to it belongs to the chunk before's last cycle:
    # it stays in the result under that cycle number.
    return PointIncrements(
        cycle=cycle,
        charge_mah=at_points(increments.charge_mah, increments.charge_point),
        discharge_mah=at_points(increments.discharge_mah, increments.discharge_point),
        charge_mwh=at_points(increments.charge_mwh, increments.charge_energy_point),
        discharge_mwh=at_points(increments.discharge_mwh, increments.discharge_energy_point),
        carried_points=0 if previous is None else 1,
        voltage_v=voltage_v,
    )


class CycleAccumulator:
    """Per-cycle sums and the sequence of half cycles, fed one ``PointIncrements`` chunk at a time.

    Memory is one entry per cycle plus the last half cycles, whatever the number of points.
    """

    def __init__(self) -> None:
        self._sums: dict[int, np.ndarray] = {}
        self.points = 0
        self._run_direction = 0  # +1 charging, -1 discharging, 0 before the first charge moved
        self._run_mah = 0.0
        self._finished_runs: dict[int, float] = {}  # direction -> capacity of its last finished half cycle
        self._largest_run_mah = 0.0
        self._pending_blip: tuple[int, float] | None = None

    def add(self, chunk: PointIncrements) -> None:
        if len(chunk) == 0:
            return
        self.points += len(chunk) - chunk.carried_points
        labels, index = np.unique(chunk.cycle, return_inverse=True)
        columns = (chunk.charge_mah, chunk.discharge_mah, chunk.charge_mwh, chunk.discharge_mwh)
        sums = np.stack([np.bincount(index, weights=column, minlength=labels.size) for column in columns], axis=1)
        for label, row in zip(labels.tolist(), sums, strict=True):
            known = self._sums.get(label)
            self._sums[label] = row if known is None else known + row
        self._follow_runs(chunk.charge_mah - chunk.discharge_mah)

    def _follow_runs(self, net_mah: np.ndarray) -> None:
        moving = np.flatnonzero(net_mah != 0)
        if moving.size == 0:
            return
        direction = np.sign(net_mah[moving]).astype(int)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(direction) != 0) + 1))
        totals = np.add.reduceat(np.abs(net_mah[moving]), starts)
        for run_direction, run_mah in zip(direction[starts].tolist(), totals.tolist(), strict=True):
            self._extend_run(run_direction, run_mah)

    def _extend_run(self, direction: int, capacity_mah: float) -> None:
        if direction == self._run_direction:
            self._run_mah += capacity_mah
            return
        threshold = BLIP_FRACTION * max(self._largest_run_mah, self._run_mah)
        if self._run_direction != 0 and self._run_mah < threshold and self._finished_runs.get(direction) is not None:
            # The run just ended was a blip inside a half cycle of ``direction``: resume that one.
            self._run_direction, self._run_mah = direction, self._finished_runs.pop(direction) + capacity_mah
            return
        if self._run_direction != 0:
            self._finished_runs[self._run_direction] = self._run_mah
            self._largest_run_mah = max(self._largest_run_mah, self._run_mah)
        self._run_direction, self._run_mah = direction, capacity_mah

    @property
    def last_half_cycle_finished(self) -> bool:
        previous = self._finished_runs.get(self._run_direction)
        if self._run_direction == 0 or previous is None or previous <= 0:
            return True
        return self._run_mah >= FINISHED_HALF_CYCLE_FRACTION * previous

    def metrics(self, options: MetricOptions | None = None) -> CycleMetrics:
        """The per-cycle table: cycles in the cycler's numbering, rest-only cycles left out."""
        labels = np.array(sorted(self._sums), dtype=np.int64)
        if labels.size == 0:
            empty = np.zeros(0)
            return _metrics_from_sums(labels, empty, empty, empty, empty, True, options)
        sums = np.array([self._sums[label] for label in labels.tolist()])
        return _metrics_from_sums(labels, sums[:, 0], sums[:, 1], sums[:, 2], sums[:, 3],
                                  self.last_half_cycle_finished, options)


@dataclass(frozen=True)
class MetricOptions:
    """What the scientist says about the test: formation cycles, the retention reference, diagnostic cycles."""

    formation_cycles: int = 0  # complete cycles at the start that are formation, not counted for retention
    reference_cycle: int | None = None  # the cycle retention is referred to; default: first complete after formation
    diagnostic_cycles: frozenset[int] = frozenset()  # e.g. slow check-up cycles: no retention, no end of life

    def __post_init__(self) -> None:
        if self.formation_cycles < 0:
            raise ModelInputError("formation_cycles", "cannot be negative")
        object.__setattr__(self, "diagnostic_cycles", frozenset(int(cycle) for cycle in self.diagnostic_cycles))


def _metrics_from_sums(
    labels: np.ndarray, charge_mah: np.ndarray, discharge_mah: np.ndarray, charge_mwh: np.ndarray,
    discharge_mwh: np.ndarray, last_finished: bool, options: MetricOptions | None,
) -> CycleMetrics:
    options = options or MetricOptions()
    largest = max(float(charge_mah.max(initial=0.0)), float(discharge_mah.max(initial=0.0)))
    threshold = BLIP_FRACTION * largest
    # A direction that passed only a blip in a cycle counts as not passed at all.
    blip_charge, blip_discharge = charge_mah < threshold, discharge_mah < threshold
    charge_mah, charge_mwh = np.where(blip_charge, 0.0, charge_mah), np.where(blip_charge, 0.0, charge_mwh)
    discharge_mah = np.where(blip_discharge, 0.0, discharge_mah)
    discharge_mwh = np.where(blip_discharge, 0.0, discharge_mwh)
    active = (charge_mah > 0) | (discharge_mah > 0)
    labels, charge_mah, discharge_mah = labels[active], charge_mah[active], discharge_mah[active]
    charge_mwh, discharge_mwh = charge_mwh[active], discharge_mwh[active]

    complete = (charge_mah > 0) & (discharge_mah > 0)
    if complete.size and not last_finished:
        complete[-1] = False
    diagnostic = np.isin(labels, np.fromiter(options.diagnostic_cycles, dtype=np.int64, count=-1))
    coulombic = np.where(complete, _ratio(discharge_mah, charge_mah), np.nan)
    energy = np.where(complete, _ratio(discharge_mwh, charge_mwh), np.nan)

    retention = np.full_like(discharge_mah, np.nan)
    reference = _reference_index(labels, complete & ~diagnostic, options)
    if reference is not None:
        counted = complete & ~diagnostic
        counted[:reference] = False
        retention = np.where(counted, discharge_mah / discharge_mah[reference], np.nan)
    return CycleMetrics(
        cycle=labels,
        charge_capacity_mah=charge_mah,
        discharge_capacity_mah=discharge_mah,
        charge_energy_mwh=charge_mwh,
        discharge_energy_mwh=discharge_mwh,
        coulombic_efficiency=coulombic,
        energy_efficiency=energy,
        retention=retention,
        complete=complete,
        diagnostic=diagnostic,
        reference_index=reference,
    )


def _reference_index(labels: np.ndarray, usable: np.ndarray, options: MetricOptions) -> int | None:
    if options.reference_cycle is not None:
        found = np.flatnonzero((labels == options.reference_cycle) & usable)
        if not found.size:
            raise ModelInputError(
                "reference_cycle",
                f"cycle {options.reference_cycle} is not a complete, non-diagnostic cycle of this test",
            )
        return int(found[0])
    candidates = np.flatnonzero(usable)
    if candidates.size <= options.formation_cycles:
        return None
    return int(candidates[options.formation_cycles])


# --------------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------------

CSV_COLUMN_ROLES = (
    "cycle",
    "current_ma",
    "voltage_v",
    "time_s",
    "charge_capacity_mah",
    "discharge_capacity_mah",
)
_REQUIRED_CSV_ROLES = ("cycle", "voltage_v")


def _numeric_column(frame: pd.DataFrame, column: str, field: str) -> np.ndarray:
    """The column as floats, or an error that names the column and the first value that is not a number."""
    if column not in frame.columns:
        known = ", ".join(repr(str(name)) for name in frame.columns)
        raise ModelInputError(field, f"column {column!r} is not in the file (its columns are {known})")
    raw = frame[column]
    numbers = pd.to_numeric(raw, errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        value = raw.iloc[row]
        if pd.isna(value):
            raise ModelInputError(field, f"column {column!r} is empty in data row {row + 1}")
        raise ModelInputError(field, f"column {column!r} is not numeric: data row {row + 1} holds {value!r}")
    return numbers.to_numpy(dtype=float)


def _read_csv_text(source: str | bytes | Path) -> tuple[str, str]:
    """(text, description) of a CSV given as text, bytes or a path, or a ``file`` error saying why not."""
    if isinstance(source, str) and ("\n" in source or "\r" in source):
        return source, "the CSV text"
    if isinstance(source, bytes):
        raw, description = source, "the uploaded file"
    else:
        path = Path(source)
        description = f"file {str(path)!r}"
        try:
            raw = path.read_bytes()
        except OSError as error:
            reason = error.strerror or str(error)
            raise ModelInputError("file", f"{description} cannot be read: {reason}") from error
    try:
        # Cycler software on Windows writes its exports in the ANSI code page (µ, °, ²): the fallback.
        return text_decoded(raw, binary_probe_bytes=65536), description
    except TextDecodeError as error:
        reason = "is a binary file, not CSV text" if error.kind == "binary" else f"cannot be read: {error.reason}"
        raise ModelInputError("file", f"{description} {reason}") from None


def time_series_from_csv(
    text_or_path: str | bytes | Path, column_map: Mapping[str, str], *, sep: str | None = None
) -> CyclingTimeSeries:
    """A time series from a plain CSV export, with ``column_map`` naming the file's column for each role.

    Roles: ``cycle``, ``voltage_v`` (V) and either ``current_ma`` (mA, positive while charging) with
    ``time_s`` (s), or ``charge_capacity_mah`` with ``discharge_capacity_mah`` (mAh); convert the
    units in the export settings of the cycler or in a spreadsheet first. ``text_or_path`` is the
    CSV text itself (anything containing a line break), raw bytes, or a path. The separator (comma,
    semicolon, tab) is detected unless ``sep`` is given.
    """
    if not isinstance(column_map, Mapping):
        raise ModelInputError("column_map", "must be a mapping of role to column name")
    for role in column_map:
        if role not in CSV_COLUMN_ROLES:
            roles = ", ".join(CSV_COLUMN_ROLES)
            raise ModelInputError(f"column_map.{role}", f"is not a known role; use {roles}")
    for role in _REQUIRED_CSV_ROLES:
        if not column_map.get(role):
            raise ModelInputError(f"column_map.{role}", "is required")

    text, description = _read_csv_text(text_or_path)
    if not text.strip():
        raise ModelInputError("file", f"{description} is empty")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, engine="python", skipinitialspace=True)
    except (pd.errors.ParserError, csv.Error, ValueError) as error:
        raise ModelInputError("file", f"{description} is not a readable CSV table: {error}") from error
    if frame.empty:
        raise ModelInputError("file", f"{description} has a header but no data rows")

    columns = {
        role: _numeric_column(frame, column_map[role], f"column_map.{role}")
        for role in CSV_COLUMN_ROLES
        if column_map.get(role)
    }
    return CyclingTimeSeries(
        cycle=columns["cycle"],
        voltage_v=columns["voltage_v"],
        current_ma=columns.get("current_ma"),
        time_s=columns.get("time_s"),
        charge_capacity_mah=columns.get("charge_capacity_mah"),
        discharge_capacity_mah=columns.get("discharge_capacity_mah"),
    )


# navani's standard columns (navani.echem.echem_file_loader): 'full cycle' = ceil('half cycle'/2),
# where a half cycle is a run of one current direction, rests not counted; 'Current' in mA, positive
# while charging (Arbin Excel exports are the exception: navani leaves them in A); 'Voltage' in V;
# 'Capacity' in mAh, unsigned, restarting every half cycle; 'state' 0 = charge, 1 = discharge,
# 'R' = rest; 'Time' in s ('time/s' kept as well for BioLogic files).
NAVANI_CYCLE = "full cycle"
NAVANI_CURRENT_MA = "Current"
NAVANI_VOLTAGE_V = "Voltage"
NAVANI_CAPACITY_MAH = "Capacity"
NAVANI_STATE = "state"
NAVANI_TIME_S = ("Time", "time/s")
_NAVANI_CHARGE_STATE, _NAVANI_DISCHARGE_STATE = 0, 1


def time_series_from_navani(frame: pd.DataFrame) -> CyclingTimeSeries:
    """Map the DataFrame of ``navani.echem.echem_file_loader`` onto a ``CyclingTimeSeries``.

    navani's 'Capacity' counts one half cycle at a time in whichever direction 'state' says; it is
    split into a charge and a discharge counter (held through rests and the other direction), which
    ``per_cycle_metrics`` prefers to re-integrating the logged current.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ModelInputError("file", "navani did not return a table")
    for column in (NAVANI_CYCLE, NAVANI_VOLTAGE_V):
        if column not in frame.columns:
            raise ModelInputError(column, "navani produced no such column for this file")
    time_column = next((column for column in NAVANI_TIME_S if column in frame.columns), None)

    counters: dict[str, np.ndarray] = {}
    if NAVANI_CAPACITY_MAH in frame.columns and NAVANI_STATE in frame.columns:
        capacity = pd.Series(_numeric_column(frame, NAVANI_CAPACITY_MAH, NAVANI_CAPACITY_MAH), dtype=float)
        state = pd.to_numeric(frame[NAVANI_STATE], errors="coerce").to_numpy()  # 'R' -> NaN
        for name, code in (
            ("charge_capacity_mah", _NAVANI_CHARGE_STATE),
            ("discharge_capacity_mah", _NAVANI_DISCHARGE_STATE),
        ):
            counters[name] = capacity.where(state == code).ffill().fillna(0.0).abs().to_numpy()
    has_current = NAVANI_CURRENT_MA in frame.columns and time_column is not None
    if not counters and not has_current:
        raise ModelInputError(
            NAVANI_CAPACITY_MAH,
            "navani produced neither 'Capacity' with 'state' nor 'Current' with a time column for this file",
        )
    return CyclingTimeSeries(
        cycle=_numeric_column(frame, NAVANI_CYCLE, NAVANI_CYCLE),
        voltage_v=_numeric_column(frame, NAVANI_VOLTAGE_V, NAVANI_VOLTAGE_V),
        current_ma=_numeric_column(frame, NAVANI_CURRENT_MA, NAVANI_CURRENT_MA) if has_current else None,
        time_s=_numeric_column(frame, time_column, time_column) if has_current else None,
        **counters,
    )


def time_series_from_cycler_file(path: str | Path) -> CyclingTimeSeries:
    """Read a cycler file with navani (the file type comes from its extension) and map its columns.

    navani raises whatever its parsers raise on a bad file (ValueError, KeyError, RuntimeError for
    an unknown extension, parser and decoding errors); they all become a ``file`` error that keeps
    navani's reason.
    """
    from navani.echem import echem_file_loader  # heavy import (galvani, scipy); only when a file is read

    path = Path(path)
    if not path.is_file():
        raise ModelInputError("file", f"file {str(path)!r} cannot be read: no such file")
    try:
        frame = echem_file_loader(str(path))
    except (OSError, ValueError, KeyError, IndexError, TypeError, RuntimeError, UnicodeDecodeError) as error:
        reason = str(error) or type(error).__name__
        raise ModelInputError("file", f"navani cannot read {path.name!r}: {reason}") from error
    return time_series_from_navani(frame)


def default_plot_cycles(cycle_numbers: Sequence[int]) -> list[int]:
    """First, 10th, 50th, 100th and last cycle, as far as the test reached them."""
    if not cycle_numbers:
        return []
    present = set(cycle_numbers)
    wanted = [min(present), 10, 50, 100, max(present)]
    return sorted({cycle for cycle in wanted if cycle in present})
