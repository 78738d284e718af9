"""The exposure module against values worked by hand; it is pure (no Django)."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from assbtrack.instruments import exposure as exposure_module
from assbtrack.instruments.exposure import (
    ExposureInputError,
    dew_point_from_vapour_pressure_c,
    excursions,
    exposure,
    merge_intervals,
    vapour_pressure_pa,
)

H = 3600.0
LIMIT = -40.0


def test_the_module_imports_no_django():
    tree = ast.parse(Path(exposure_module.__file__).read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {m for m in modules if m.split(".")[0] in {"django", "celery", "rest_framework"}}


def test_magnus_vapour_pressure_by_hand():
    # e(0 °C) = 611.2 Pa exactly (the formula's constant)
    assert vapour_pressure_pa(0.0) == pytest.approx(611.2, rel=1e-12)
    # e(−40 °C) = 611.2 · exp(17.62·(−40)/(243.12−40)) = 611.2 · exp(−3.46987) = 611.2 · 0.031137 = 19.03 Pa
    assert vapour_pressure_pa(-40.0) == pytest.approx(19.03, abs=0.01)
    # e(+20 °C) = 611.2 · exp(352.4/263.12) = 611.2 · 3.8163 = 2332.5 Pa (a humid lab at 20 °C dew point)
    assert vapour_pressure_pa(20.0) == pytest.approx(2332.5, rel=2e-4)


# A synthetic hourly log: −50, −50, −30, −50, −50 °C at 0…4 h, limit −40 °C.
# Worked by hand: the dew point is linear between readings; it crosses −40 at 1.5 h (rising) and 2.5 h (falling).
#   above the limit: 1.5 → 2.5 h = 1 h; below: 3 h
#   excess: two triangles of base 0.5 h and height 10 °C: 2 · ½ · 0.5 · 10 = 5 °C·h; worst −30 °C
TIMES = np.array([0, 1, 2, 3, 4]) * H
DEW = np.array([-50.0, -50.0, -30.0, -50.0, -50.0])


def test_hours_excess_and_worst_over_a_whole_log():
    result = exposure(TIMES, DEW, [(0, 4 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    assert result.open_h == pytest.approx(4.0)
    assert result.above_limit_h == pytest.approx(1.0)
    assert result.below_limit_h == pytest.approx(3.0)
    assert result.no_data_h == pytest.approx(0.0)
    assert result.worst_dew_point_c == pytest.approx(-30.0)
    assert result.excess_c_h == pytest.approx(5.0)
    [excursion] = result.excursions
    assert (excursion.start_s, excursion.end_s) == pytest.approx((1.5 * H, 2.5 * H))
    assert excursion.worst_dew_point_c == pytest.approx(-30.0)
    assert excursion.excess_c_h == pytest.approx(5.0)


def test_an_open_interval_inside_the_log_is_clipped_with_interpolated_edges():
    # Open 1.75 → 3.25 h. Dew point at 1.75 h: −50 + 20·0.75 = −35; at 3.25 h: −50 (flat after 3 h).
    # above: 1.75 → 2.5 h = 0.75 h; below: 2.5 → 3.25 h = 0.75 h
    # excess: 1.75–2 h trapezoid (5 and 10 above): 0.25·7.5 = 1.875; 2–2.5 h triangle: ½·0.5·10 = 2.5 → 4.375 °C·h
    result = exposure(TIMES, DEW, [(1.75 * H, 3.25 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    assert result.above_limit_h == pytest.approx(0.75)
    assert result.below_limit_h == pytest.approx(0.75)
    assert result.excess_c_h == pytest.approx(4.375)
    assert result.worst_dew_point_c == pytest.approx(-30.0)
    assert result.excursions[0].start_s == pytest.approx(1.75 * H)


def test_a_closed_room_gives_the_vapour_dose_of_a_constant_dew_point():
    # constant −45 °C for 3 h: dose = e(−45)·3 h;
    # e(−45) = 611.2·exp(−792.9/198.12) = 611.2·exp(−4.00212) = 611.2·0.018277 = 11.171 Pa
    times = np.array([0, 1, 2, 3]) * H
    result = exposure(times, np.full(4, -45.0), [(0, 3 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    assert result.vapour_pressure_pa_h == pytest.approx(3 * 611.2 * math.exp(17.62 * -45 / (243.12 - 45)), rel=1e-9)
    assert result.vapour_pressure_pa_h == pytest.approx(33.51, abs=0.01)
    assert result.mean_vapour_pressure_pa == pytest.approx(11.171, abs=0.001)
    assert result.effective_dew_point_c == pytest.approx(-45.0, abs=1e-9)  # the inverse of Magnus gives it back
    assert (result.above_limit_h, result.excess_c_h, result.excursions) == (0.0, 0.0, ())


def test_a_linear_ramp_dose_matches_the_closed_form_integral():
    # Td from −60 to −20 over 2 h: ∫ e dt computed by fine trapezoid on the exact formula
    times = np.array([0.0, 2 * H])
    result = exposure(times, np.array([-60.0, -20.0]), [(0, 2 * H)], limit_c=LIMIT, max_gap_s=3 * H)
    fine_t = np.linspace(0, 2.0, 200_001)
    reference = np.trapz(vapour_pressure_pa(-60 + 20 * fine_t), fine_t)
    assert result.vapour_pressure_pa_h == pytest.approx(reference, rel=1e-8)
    # the limit is crossed at the midpoint: 1 h above, excess ½·1 h·20 °C = 10 °C·h
    assert (result.above_limit_h, result.excess_c_h) == pytest.approx((1.0, 10.0))


def test_gaps_longer_than_allowed_are_no_data_not_interpolated():
    # readings at 0, 1 h then silence until 5 h: the 1 → 5 h gap (4 h) exceeds 2 h
    times = np.array([0, 1, 5, 6]) * H
    dew = np.array([-50.0, -50.0, -50.0, -50.0])
    result = exposure(times, dew, [(0, 6 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    assert result.no_data_h == pytest.approx(4.0)
    assert result.below_limit_h == pytest.approx(2.0)
    # and open time before the first or after the last reading is no data too
    late = exposure(times, dew, [(5.5 * H, 8 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    assert (late.below_limit_h, late.no_data_h) == pytest.approx((0.5, 2.0))


def test_overlapping_intervals_count_once():
    merged = merge_intervals([(0, 2), (1, 3), (5, 6), (6, 7), (9, 8)])
    assert merged.tolist() == [[0.0, 3.0], [5.0, 7.0]]
    once = exposure(TIMES, DEW, [(0, 4 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    twice = exposure(TIMES, DEW, [(0, 3 * H), (1 * H, 4 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    assert twice.open_h == once.open_h and twice.excess_c_h == pytest.approx(once.excess_c_h)


def test_whole_log_excursions_are_separate_stretches():
    # −30, −50, −30, −30, −50, −35 hourly: above 0–0.5 h; 1.5–3.5 h; from 4 h + 2/3 h (−50 → −35 crosses −40
    # two thirds of the way along) to 5 h. Excess 2.5, 2.5 + 10 + 2.5 = 15, ½·5·(1/3) = 0.8333 °C·h
    times = np.arange(6) * H
    found = excursions(times, [-30, -50, -30, -30, -50, -35], limit_c=LIMIT, max_gap_s=2 * H)
    bounds = [value / H for e in found for value in (e.start_s, e.end_s)]
    assert bounds == pytest.approx([0, 0.5, 1.5, 3.5, 4 + 2 / 3, 5])
    assert [e.excess_c_h for e in found] == pytest.approx([2.5, 15.0, 5 / 6])
    assert [e.worst_dew_point_c for e in found] == pytest.approx([-30, -30, -35])


def test_exactly_at_the_limit_is_within_it_and_unsorted_input_is_sorted():
    result = exposure([2 * H, 0, H], [-40, -40, -40], [(0, 2 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    assert (result.above_limit_h, result.below_limit_h, result.excursions) == (0.0, 2.0, ())


def test_no_readings_at_all_is_all_no_data():
    result = exposure([], [], [(0, 3 * H)], limit_c=LIMIT)
    assert (result.open_h, result.no_data_h, result.worst_dew_point_c) == (3.0, 3.0, None)


def test_the_effective_dew_point_of_two_plateaus_weighs_by_vapour_pressure():
    # 1 h at −50 °C then 1 h at −30 °C (the ramp between them takes no time): mean e = (e(−50) + e(−30)) / 2
    # e(−50) = 611.2·exp(−881/193.12) = 611.2·exp(−4.56193) = 6.382 Pa;
    # e(−30) = 611.2·exp(−528.6/213.12) = 611.2·exp(−2.48029) = 51.169 Pa; mean 28.775 Pa;
    # inverse: ln(28.775/611.2) = −3.05587 → 243.12·(−3.05587)/(17.62 + 3.05587) = −35.93 °C, nearer the humid
    # plateau than the −40 °C mean of the two temperatures
    times = np.array([0.0, 1 * H, 1 * H + 1e-6, 2 * H])
    result = exposure(times, np.array([-50.0, -50.0, -30.0, -30.0]), [(0, 2 * H)], limit_c=LIMIT, max_gap_s=2 * H)
    assert result.mean_vapour_pressure_pa == pytest.approx(28.775, abs=0.002)
    assert result.effective_dew_point_c == pytest.approx(-35.93, abs=0.01)
    assert dew_point_from_vapour_pressure_c(28.775) == pytest.approx(-35.93, abs=0.01)
    with pytest.raises(ExposureInputError):
        dew_point_from_vapour_pressure_c(0.0)


def test_bad_input_is_refused():
    with pytest.raises(ExposureInputError):
        exposure([0, 1], [1.0], [(0, 1)], limit_c=LIMIT)
    with pytest.raises(ExposureInputError):
        exposure([0, 1], [1.0, 2.0], [(0, float("inf"))], limit_c=LIMIT)
    with pytest.raises(ExposureInputError):
        exposure([0, 1], [1.0, 2.0], [(0, 1)], limit_c=float("nan"))
