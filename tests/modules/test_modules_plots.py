"""The modules app's figures (modules/plots.py): they render, and they show what Figure 5 shows."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from assbtrack.domain.plotting import figure_bytes, figure_files
from modules import plots
from modules.housing import run_module_efficiency, run_module_efficiency_sweep
from modules.plots import efficiency_sweep_figure, pressure_heatmap_figure, pressure_maps_side_by_side_figure

CELLS = {
    "cell_specific_energy_wh_per_kg": 400.0,
    "cell_energy_density_wh_per_l": 1000.0,
    "cell_length_mm": 300.0,
    "cell_width_mm": 100.0,
}


@pytest.fixture(scope="module")
def curves():
    return run_module_efficiency_sweep(dict(CELLS))["curves"]


def panels(figure):
    return [ax for ax in figure.axes if ax.get_lines()]


def horizontal_lines_at(ax, y_value):
    return [line for line in ax.get_lines() if np.allclose(line.get_ydata(), y_value)]


def test_efficiency_sweep_renders_png(curves):
    figure = efficiency_sweep_figure(curves, "Figure 5d–f: 400 Wh/kg, 1000 Wh/L cells")
    assert figure_bytes(figure, "png").startswith(b"\x89PNG")
    files = figure_files(figure, "sweep")
    assert set(files) == {"sweep.png", "sweep.svg"} and files["sweep.svg"].lstrip().startswith(b"<?xml")


def test_efficiency_sweep_has_one_log_panel_per_size(curves):
    figure = efficiency_sweep_figure(curves, "sweep")
    axes = panels(figure)
    assert len(axes) == 3
    assert [ax.get_title() for ax in axes] == ["1 kWh system", "10 kWh system", "20 kWh system"]
    for ax in axes:
        assert ax.get_xscale() == "log"
        assert ax.get_xlim() == pytest.approx((1.0, 100.0))
        assert "MPa" in ax.get_xlabel()
    assert "%" in axes[0].get_ylabel()
    assert figure.get_suptitle() == "sweep"


def test_efficiency_sweep_plots_percent(curves):
    axes = panels(efficiency_sweep_figure(curves, "sweep"))
    by_mass = axes[1].get_lines()[0]
    assert by_mass.get_ydata() == pytest.approx(100 * np.asarray(curves[1]["gravimetric_efficiency"]))
    assert by_mass.get_xdata() == pytest.approx(curves[1]["stack_pressure_mpa"])


def test_li_ion_reference_lines_on_every_panel(curves):
    for ax in panels(efficiency_sweep_figure(curves, "sweep")):
        mass_reference = horizontal_lines_at(ax, 82.0)
        volume_reference = horizontal_lines_at(ax, 73.0)
        assert len(mass_reference) == 1 and len(volume_reference) == 1
        assert "82" in mass_reference[0].get_label() and "73" in volume_reference[0].get_label()
        assert mass_reference[0].get_linestyle() == "--"


def test_highlighted_module_lands_on_its_own_panel(curves):
    own = run_module_efficiency({**CELLS, "system_energy_kwh": 10.0, "stack_pressure_mpa": 5.0})
    point = {
        "system_energy_kwh": 10.0,
        "stack_pressure_mpa": 5.0,
        "gravimetric_efficiency": own["gravimetric_efficiency"],
        "volumetric_efficiency": own["volumetric_efficiency"],
        "label": "MOD-0042",
    }
    axes = panels(efficiency_sweep_figure(curves, "sweep", highlight_points=[point]))

    def markers(ax):
        return [line for line in ax.get_lines() if len(line.get_xdata()) == 1]

    assert markers(axes[0]) == [] and markers(axes[2]) == []
    placed = markers(axes[1])
    assert sorted(float(line.get_ydata()[0]) for line in placed) == pytest.approx(
        sorted([100 * own["gravimetric_efficiency"], 100 * own["volumetric_efficiency"]])
    )
    assert all(float(line.get_xdata()[0]) == 5.0 for line in placed)
    assert any(text.get_text() == "MOD-0042" for text in axes[1].texts)


def test_highlighted_point_of_unplotted_size_is_an_error(curves):
    point = {
        "system_energy_kwh": 5.0,
        "stack_pressure_mpa": 5.0,
        "gravimetric_efficiency": 0.8,
        "volumetric_efficiency": 0.9,
        "label": "odd",
    }
    with pytest.raises(ValueError, match="5 kWh"):
        efficiency_sweep_figure(curves, "sweep", highlight_points=[point])


def test_pressure_heatmap(tmp_path):
    grid = np.arange(12, dtype=float).reshape(3, 4)
    figure = pressure_heatmap_figure(grid, "Film F-7, housing H-2")
    assert figure_bytes(figure, "png").startswith(b"\x89PNG")
    colour_bars = [ax for ax in figure.axes if ax.get_ylabel() == "Pressure (MPa)"]
    assert len(colour_bars) == 1
    main = [ax for ax in figure.axes if ax.images][0]
    assert np.array_equal(np.asarray(main.images[0].get_array()), grid)
    assert figure.get_suptitle() == "Film F-7, housing H-2"  # over the figure: the colour bar narrows the axes


def test_side_by_side_maps_share_one_colour_scale():
    with_springs = np.full((4, 4), 5.0)
    without = np.array([[2.0, 9.0, 9.0, 2.0]] * 4)
    figure = pressure_maps_side_by_side_figure(
        [("springs", with_springs), ("no springs", without)], "Housing H-2"
    )
    assert figure_bytes(figure, "png").startswith(b"\x89PNG")
    images = [image for ax in figure.axes for image in ax.images]
    assert len(images) == 2
    # both panels on 2–9 MPa: the uniform map must not be stretched over its own (empty) range
    assert all(image.get_clim() == pytest.approx((2.0, 9.0)) for image in images)
    assert len([ax for ax in figure.axes if ax.get_ylabel() == "Pressure (MPa)"]) == 1
    assert [ax.get_title() for ax in figure.axes if ax.images] == ["springs", "no springs"]


def test_plots_module_uses_no_pyplot_and_no_django():
    tree = ast.parse(Path(plots.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "matplotlib.pyplot" not in imported
    assert not any(name == "django" or name.startswith("django.") for name in imported)


def test_a_small_module_panel_is_titled_in_watt_hours():
    from modules.plots import _energy_label

    assert [_energy_label(kwh) for kwh in (0.000116736, 0.25, 1.0, 1000.0)] == [
        "117 mWh", "250 Wh", "1 kWh", "1000 kWh"]
