"""People's words and numbers: lineage tables show labels, the admin shows rounded numbers with units and σ as
σ, plots of one point have axes that mean something, and long titles stay inside the figure."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import num2date

from assbtrack.domain.plotting import TrendSeries, figure_bytes, title_fitting, trend_figure
from assbtrack.tracing.display import measured_text, unit_of
from cells.cycling import CycleMetrics
from cells.plots import capacity_and_efficiency_figure
from electrodes.plots import thickness_by_pass_figure
from modules.plots import pressure_heatmap_figure
from tests.utils.checks import client_for
from tests.utils.factories_electrodes import make_film, make_sheets
from tests.utils.factories_materials import make_batch, make_measurement

# a float as Python prints it: six or more decimals
LONG_FLOAT = re.compile(r"\d\.\d{6,}")


@pytest.mark.parametrize(("value", "unit", "text"), [
    (3.2141592653589793, "mS/cm", "3.21 mS/cm"),
    (25.0, "°C", "25 °C"),
    (1234.4, "g", "1234 g"),
    (0.000012, "g", "0.000012 g"),
    (-40.25, "°C", "-40.2 °C"),
    (0.0, "MPa", "0 MPa"),
    (None, "g", ""),
])
def test_measured_text_rounds_to_three_significant_digits_and_keeps_whole_digits(value, unit, text):
    assert measured_text(value, unit) == text


def test_the_unit_is_read_from_the_end_of_a_label():
    assert unit_of("ionic conductivity (mS/cm)") == "mS/cm"
    assert unit_of("ball-to-powder mass ratio (–)") == ""
    assert unit_of("conductivity retention (fraction σ_film/σ_batch)") == ""
    assert unit_of("purity (%)") == "%"
    assert unit_of("retention at cycle 100 (fraction)") == ""
    assert unit_of("coulombic efficiency (0–1)") == ""


@pytest.mark.django_db
def test_lineage_tables_show_roles_kinds_and_units_in_words(project, tech):
    film = make_film(project, tech)
    sheet = make_sheets(film, tech, count=1, area_cm2=10.0)[0]
    page = client_for(tech).get(f"/items/{sheet.item.code}/").content.decode()
    upstream = page[page.index('<table class="lineage">'):]
    upstream = upstream[:upstream.index("</table>")]
    assert "Cut from film" in upstream and "cut_from" not in upstream
    assert "10 cm²" in upstream and "cm2" not in upstream
    assert "Cathode film" in upstream and "cathode_film" not in upstream
    film_page = client_for(tech).get(f"/items/{film.item.code}/").content.decode()
    assert "cm²" in film_page[film_page.index("<dt>Quantity</dt>"):][:200]


@pytest.mark.django_db
def test_admin_change_lists_show_rounded_numbers_with_units_and_sigma_as_sigma(project, sci):
    batch = make_batch(project, sci)
    make_measurement(batch, sci, conductivity_ms_per_cm=3.2141592653589793, temperature_c=25.0)
    client = client_for(sci)
    measurements = client.get("/admin/materials/conductivitymeasurement/")
    assert measurements.status_code == 200
    rows = measurements.content.decode()
    rows = rows[rows.index('id="result_list"'):]
    header, rows = rows[:rows.index("</thead>")], rows[rows.index("</thead>"):]
    assert LONG_FLOAT.search(rows) is None, LONG_FLOAT.search(rows).group(0)
    assert "3.21 mS/cm" in rows and "25 °C" in rows
    # the column keeps the field's label and still sorts by the field
    assert 'class="sortable column-conductivity_ms_per_cm"' in header and "Ionic conductivity (mS/cm)" in header

    batches = client.get("/admin/materials/synthesisbatch/").content.decode()
    assert "Ionic conductivity σ" in batches
    assert "Σ" not in batches
    listed = batches[batches.index('id="result_list"'):]
    assert "3.21 mS/cm at 25 °C" in listed
    assert LONG_FLOAT.search(listed) is None


def _one_cycle() -> CycleMetrics:
    one = np.array
    return CycleMetrics(
        cycle=one([1]), charge_capacity_mah=one([3.31]), discharge_capacity_mah=one([3.2141]),
        charge_energy_mwh=one([12.4]), discharge_energy_mwh=one([11.8]), coulombic_efficiency=one([0.971]),
        energy_efficiency=one([0.95]), retention=one([1.0]),
    )


def _tick_values(axis, low, high) -> list[float]:
    return [tick for tick in axis.get_majorticklocs() if low <= tick <= high]


def test_a_single_cycle_sits_on_whole_cycle_numbers_with_room_either_side():
    figure = capacity_and_efficiency_figure(_one_cycle(), "CELL-000001: one cycle")
    figure_bytes(figure)  # drawn, as the job stores it
    axes = figure.axes[0]
    assert axes.get_xlim() == (0.0, 2.0)
    assert _tick_values(axes.xaxis, 0.0, 2.0) == [0.0, 1.0, 2.0]
    assert axes.get_ylim()[0] == 0.0


def test_a_single_calendering_pass_gets_a_range_around_its_thickness():
    figure = thickness_by_pass_figure([1], [84.0], "CAT-000001")
    figure_bytes(figure)
    axes = figure.axes[0]
    assert axes.get_xlim() == (0.0, 2.0)
    low, high = axes.get_ylim()
    # matplotlib alone shows 79.8 … 88.2 µm around the one point; the range is half the value, centred on it
    assert (low, high) == pytest.approx((63.0, 105.0))
    assert all(float(tick).is_integer() for tick in _tick_values(axes.xaxis, 0.0, 2.0))


def test_a_long_heat_map_title_is_wrapped_inside_the_figure():
    title = ("Pressure map of scan 17 (film PM-2026-03-01-A, sheet SHT-000123) in housing design "
             "sprung steel plate 3 mm, module MOD-000004, 8 cells at 5 MPa")
    figure = pressure_heatmap_figure(np.arange(12, dtype=float).reshape(3, 4), title)
    figure_bytes(figure)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = figure._suptitle.get_window_extent(renderer)
    inside = figure.bbox
    assert box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y1 <= inside.y1, (box, inside)
    assert figure.get_suptitle().replace("\n", " ") == title
    assert "\n" in figure.get_suptitle()


def test_a_short_title_is_left_on_one_line():
    figure = pressure_heatmap_figure(np.ones((2, 2)), "Film F-7")
    assert title_fitting(figure, "Film F-7") == "Film F-7"


@pytest.mark.django_db
def test_admin_change_forms_show_read_only_floats_rounded_and_keep_editable_ones_exact(project, sci):
    film = make_film(project, sci)
    page = client_for(sci).get(f"/admin/electrodes/film/{film.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    readonly = re.findall(r'<div class="readonly">(.*?)</div>', html, flags=re.S)
    assert readonly, "the film's derived values are shown read-only"
    assert [text for text in readonly if LONG_FLOAT.search(text)] == []
    assert f"{film.porosity:.3g}" in " ".join(readonly)
    # what may be edited stays an input with the stored value
    assert 'name="mixing_speed_rpm"' in html and 'name="porosity"' not in html

    batch = make_batch(project, sci)
    measurement = make_measurement(batch, sci, conductivity_ms_per_cm=3.2141592653589793)
    view_only = client_for(sci).get(f"/admin/materials/conductivitymeasurement/{measurement.pk}/change/")
    assert view_only.status_code == 200
    shown = view_only.content.decode()
    assert "3.21 mS/cm" in shown and "Ionic conductivity (mS/cm)" in shown
    assert [text for text in re.findall(r'<div class="readonly">(.*?)</div>', shown, flags=re.S)
            if LONG_FLOAT.search(text)] == []


def test_one_measurement_on_a_trend_sits_in_a_fortnight_not_on_four_years():
    measured = datetime(2026, 3, 1, 10, tzinfo=UTC)
    figure = trend_figure([TrendSeries("Li6PS5Cl", [measured], [3.2])], y_label="σ (mS/cm)", title="SSE-000001")
    figure_bytes(figure)
    start, end = (num2date(limit) for limit in figure.axes[0].get_xlim())
    assert (end - start).days == 14
    assert start < measured < end
