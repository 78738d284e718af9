"""Pressure maps from film scans (modules/pressure.py) on synthetic images with hand-computed answers."""

from __future__ import annotations

import ast
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assbtrack.domain.inputs import ModelInputError
from modules import pressure
from modules.pressure import PressureCalibration, colour_density, load_scan, pressure_map, run_pressure_map

# Colour density 50 ↔ 1 MPa, 150 ↔ 11 MPa: 0.1 MPa per density step, 0 MPa at density 40.
TWO_POINT = {"low": {"intensity": 50, "pressure_mpa": 1.0}, "high": {"intensity": 150, "pressure_mpa": 11.0}}


def grey(density: float, shape=(100, 100)) -> np.ndarray:
    """A grey scan whose colour density is ``density`` everywhere (luminance = 255 − density)."""
    return np.full(shape, 255 - density, dtype=np.uint8)


def png_bytes(pixels: np.ndarray, mode: str | None = None, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode=mode).save(buffer, format=fmt)
    return buffer.getvalue()


# --- calibrations ----------------------------------------------------------------------------------


def test_two_point_calibration_by_hand():
    calibration = PressureCalibration.from_mapping(TWO_POINT)
    densities = np.array([50.0, 150.0, 100.0, 200.0, 45.0, 0.0])
    # line p = 1 + 0.1·(d − 50), extrapolated above, clipped at 0 below d = 40
    expected_mpa = [1.0, 11.0, 6.0, 16.0, 0.5, 0.0]
    assert calibration.pressure_mpa(densities) == pytest.approx(expected_mpa)


def test_lookup_table_calibration_by_hand():
    table = {
        "table": [
            {"intensity": 200, "pressure_mpa": 25.0},  # any order
            {"intensity": 0, "pressure_mpa": 0.0},
            {"intensity": 100, "pressure_mpa": 5.0},
        ]
    }
    calibration = PressureCalibration.from_mapping(table)
    densities = np.array([0.0, 50.0, 100.0, 150.0, 200.0, 250.0])
    # piecewise linear: 0.05 MPa per step up to 100, 0.2 MPa per step above; held at 25 beyond 200
    assert calibration.pressure_mpa(densities) == pytest.approx([0.0, 2.5, 5.0, 15.0, 25.0, 25.0])


def test_table_must_be_monotonic():
    falling = {
        "table": [
            {"intensity": 0, "pressure_mpa": 0},
            {"intensity": 100, "pressure_mpa": 9},
            {"intensity": 200, "pressure_mpa": 4},
        ]
    }
    with pytest.raises(ModelInputError) as caught:
        PressureCalibration.from_mapping(falling)
    assert caught.value.field == "calibration.table"


def test_two_point_must_rise_with_density():
    reversed_points = {
        "low": {"intensity": 150, "pressure_mpa": 1.0},
        "high": {"intensity": 50, "pressure_mpa": 11.0},
    }
    with pytest.raises(ModelInputError) as caught:
        PressureCalibration.from_mapping(reversed_points)
    assert caught.value.field == "calibration.high.intensity"


@pytest.mark.parametrize(
    ("calibration", "field"),
    [
        ({}, "calibration"),
        ({"low": {"intensity": 50, "pressure_mpa": 1.0}}, "calibration.high"),
        ({**TWO_POINT, "table": []}, "calibration.table"),
        (
            {"low": {"intensity": 50, "pressure": 1.0}, "high": TWO_POINT["high"]},
            "calibration.low.pressure_mpa",
        ),
        (
            {"low": {"intensity": 300, "pressure_mpa": 1.0}, "high": TWO_POINT["high"]},
            "calibration.low.intensity",
        ),
        ({"table": [{"intensity": 10, "pressure_mpa": 1.0}]}, "calibration.table"),
        ("linear", "calibration"),
    ],
)
def test_bad_calibration_names_the_field(calibration, field):
    with pytest.raises(ModelInputError) as caught:
        PressureCalibration.from_mapping(calibration)
    assert caught.value.field == field


# --- colour density --------------------------------------------------------------------------------


def test_colour_density_of_grey_and_rgb():
    grey_levels = np.array([[255, 0], [155, 55]], dtype=np.uint8)
    assert colour_density(grey_levels) == pytest.approx(np.array([[0, 255], [100, 200]]))
    # BT.601 luminance of (200, 100, 50) = 59.8 + 58.7 + 5.7 = 124.2 → density 130.8
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[...] = (200, 100, 50)
    assert colour_density(rgb) == pytest.approx(np.full((2, 3), 130.8))
    rgba = np.concatenate([rgb, np.zeros((2, 3, 1), dtype=np.uint8)], axis=2)  # alpha is ignored
    assert colour_density(rgba) == pytest.approx(np.full((2, 3), 130.8))


def test_redder_film_reads_as_more_pressure():
    pale = np.full((4, 4, 3), (250, 220, 230), dtype=np.uint8)
    deep_red = np.full((4, 4, 3), (200, 30, 80), dtype=np.uint8)
    assert colour_density(deep_red).mean() > colour_density(pale).mean()


@pytest.mark.parametrize(
    "pixels", [np.zeros((3, 3, 2)), np.zeros((2, 2, 2, 2)), np.full((3, 3), 300.0), np.full((3, 3), -1.0)]
)
def test_unusable_arrays_name_image(pixels):
    with pytest.raises(ModelInputError) as caught:
        colour_density(pixels)
    assert caught.value.field == "image"


# --- maps ------------------------------------------------------------------------------------------


def test_uniform_film():
    result = pressure_map(grey(100), TWO_POINT, grid_shape=(10, 10))
    assert result.grid_mpa.shape == (10, 10)
    assert result.mean_mpa == pytest.approx(6.0)  # density 100 → 1 + 0.1·50
    assert result.std_mpa == pytest.approx(0.0, abs=1e-12)
    assert result.coefficient_of_variation == pytest.approx(0.0, abs=1e-12)
    assert result.min_mpa == pytest.approx(6.0) and result.max_mpa == pytest.approx(6.0)
    assert result.coverage == 1.0
    assert result.centre_to_edge_ratio == pytest.approx(1.0)


def test_grid_holds_block_means():
    # a 4 × 5 grid of known densities, each block 6 × 7 pixels
    densities = np.arange(20, dtype=float).reshape(4, 5) * 10 + 50  # 50 … 240
    image = np.kron(255 - densities, np.ones((6, 7))).astype(np.uint8)
    result = pressure_map(image, TWO_POINT, grid_shape=(4, 5))
    assert result.grid_mpa == pytest.approx(1 + 0.1 * (densities - 50))


def test_pressures_are_averaged_not_densities():
    # half the pixels at density 0 (0 MPa after clipping), half at 100 (6 MPa), alternating columns:
    # the block mean pressure is 3 MPa; averaging densities first would give density 50 → 1 MPa.
    image = np.tile(np.array([255, 155], dtype=np.uint8), (30, 15))
    result = pressure_map(image, TWO_POINT, grid_shape=(3, 3))
    assert result.grid_mpa == pytest.approx(np.full((3, 3), 3.0))


def test_half_pressed_film_coverage_and_spread():
    image = grey(100)
    image[:, :50] = 255  # left half untouched: density 0 → 0 MPa
    result = pressure_map(image, TWO_POINT, grid_shape=(10, 10))
    assert result.mean_mpa == pytest.approx(3.0)
    assert result.std_mpa == pytest.approx(3.0)
    assert result.coefficient_of_variation == pytest.approx(1.0)
    assert result.coverage == pytest.approx(0.5)
    assert result.min_mpa == 0.0 and result.max_mpa == pytest.approx(6.0)


def test_threshold_fraction_decides_coverage():
    image = grey(100)
    image[:, :50] = 255 - 45  # 0.5 MPa on the left, 6 MPa on the right; mean 3.25 MPa
    assert pressure_map(image, TWO_POINT, (10, 10), threshold_fraction=0.1).coverage == pytest.approx(1.0)
    assert pressure_map(image, TWO_POINT, (10, 10), threshold_fraction=0.2).coverage == pytest.approx(0.5)


def test_centre_heavy_film():
    image = grey(50)  # 1 MPa background
    image[40:60, 40:60] = 255 - 200  # 16 MPa in the middle 2 × 2 grid cells
    result = pressure_map(image, TWO_POINT, grid_shape=(10, 10))
    # central region of a 10 × 10 grid: rows and columns 2–7 (36 cells), 4 of them at 16 MPa;
    # border ring: all at 1 MPa → ratio (4·16 + 32·1)/36 / 1 = 8/3
    assert result.centre_to_edge_ratio == pytest.approx(8 / 3)
    assert result.centre_to_edge_ratio > 1


def test_edge_heavy_film():
    image = grey(200)  # 16 MPa
    image[10:90, 10:90] = 255 - 50  # 1 MPa inside the outer ring of grid cells
    result = pressure_map(image, TWO_POINT, grid_shape=(10, 10))
    assert result.centre_to_edge_ratio == pytest.approx(1 / 16)
    assert result.centre_to_edge_ratio < 1


def test_unpressed_border_gives_infinite_ratio_and_null_in_json(tmp_path):
    image = grey(0)
    image[40:60, 40:60] = 255 - 100
    assert pressure_map(image, TWO_POINT, grid_shape=(10, 10)).centre_to_edge_ratio == np.inf
    path = tmp_path / "centre_only.png"
    path.write_bytes(png_bytes(image))
    result = run_pressure_map(
        {"image_path": str(path), "calibration": TWO_POINT, "grid_rows": 10, "grid_cols": 10}
    )
    assert result["centre_to_edge_ratio"] is None


def test_uneven_grid_uses_every_pixel():
    # 103 × 97 pixels do not divide into 10 × 10; no pixel may be dropped, so the mean of the map
    # equals the mean pressure over all pixels.
    columns = np.linspace(0, 200, 97)
    image = np.tile(255 - columns, (103, 1)).round().astype(np.uint8)
    pixel_pressure_mpa = np.maximum(1 + 0.1 * ((255 - image.astype(float)) - 50), 0)
    result = pressure_map(image, TWO_POINT, grid_shape=(10, 10))
    assert result.mean_mpa == pytest.approx(pixel_pressure_mpa.mean())
    assert result.grid_mpa.shape == (10, 10)


def test_springs_and_gaskets_lower_the_spread():
    rng = np.random.default_rng(7)
    stiff = np.clip(155 + rng.normal(0, 40, (120, 120)), 0, 255).astype(np.uint8)
    compliant = np.clip(155 + rng.normal(0, 5, (120, 120)), 0, 255).astype(np.uint8)
    stiff[:30] = 255 - 140  # a hard edge, as from a plate that bows
    assert (
        pressure_map(compliant, TWO_POINT, (12, 12)).coefficient_of_variation
        < pressure_map(stiff, TWO_POINT, (12, 12)).coefficient_of_variation
    )


def test_blank_film_is_refused():
    with pytest.raises(ModelInputError) as caught:
        pressure_map(grey(0), TWO_POINT, grid_shape=(10, 10))
    assert caught.value.field == "image"


def test_image_smaller_than_grid_is_refused():
    with pytest.raises(ModelInputError) as caught:
        pressure_map(grey(100, (5, 40)), TWO_POINT, grid_shape=(10, 10))
    assert caught.value.field == "image"


@pytest.mark.parametrize(("grid_shape", "field"), [((2, 10), "grid_rows"), ((10, 1000), "grid_cols")])
def test_grid_too_small_or_large(grid_shape, field):
    with pytest.raises(ModelInputError) as caught:
        pressure_map(grey(100), TWO_POINT, grid_shape=grid_shape)
    assert caught.value.field == field


# --- scans -----------------------------------------------------------------------------------------


def test_load_grey_png_round_trip():
    pixels = np.arange(60, dtype=np.uint8).reshape(6, 10) * 4
    assert np.array_equal(load_scan(png_bytes(pixels)), pixels)


def test_load_rgb_scan_gives_luminance():
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[...] = (200, 100, 50)  # luminance 124.2
    loaded = load_scan(png_bytes(rgb))
    assert loaded.shape == (4, 5)
    assert np.all(np.abs(loaded.astype(int) - 124) <= 1)


def test_load_sixteen_bit_png_scales_to_eight_bits():
    sixteen = np.array([[0, 257 * 100], [65535, 257 * 200]], dtype=np.uint16)
    loaded = load_scan(png_bytes(sixteen))  # Pillow stores uint16 as a 16-bit grey PNG
    assert loaded.tolist() == [[0, 100], [255, 200]]


@pytest.mark.parametrize(("fmt", "suffix"), [("JPEG", ".jpg"), ("TIFF", ".tif"), ("PNG", ".png")])
def test_load_formats_from_path(tmp_path, fmt, suffix):
    path = tmp_path / f"scan{suffix}"
    path.write_bytes(png_bytes(np.full((16, 16), 155, dtype=np.uint8), fmt=fmt))
    loaded = load_scan(path)
    assert loaded.shape == (16, 16)
    assert np.all(np.abs(loaded.astype(int) - 155) <= 2)  # JPEG is lossy


def large_png_header(width_px: int, height_px: int) -> bytes:
    """A tiny PNG that declares a huge size: the size check must come before any pixel is decoded."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width_px, height_px, 8, 0, 0, 0, 0)  # 8-bit grey
    pixels = zlib.compress(bytes(width_px + 1))  # one scan line of the many it declares
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "not a PNG"),
        (b"", "empty"),
        (b"%PDF-1.7\n this is not a scan", "not a PNG"),
        (large_png_header(8000, 7000), "too large"),  # 56 megapixels
    ],
)
def test_bad_scan_names_image(tmp_path, content, reason):
    path = tmp_path / "scan.png"
    path.write_bytes(content)
    for source in (path, content):
        with pytest.raises(ModelInputError) as caught:
            load_scan(source)
        assert caught.value.field == "image"
        assert reason in caught.value.reason


def test_other_image_formats_and_missing_files_name_image(tmp_path):
    gif = io.BytesIO()
    Image.new("L", (8, 8)).save(gif, format="GIF")
    with pytest.raises(ModelInputError) as caught:
        load_scan(gif.getvalue())
    assert caught.value.field == "image" and "GIF" in caught.value.reason
    with pytest.raises(ModelInputError) as caught:
        load_scan(tmp_path / "nowhere.png")
    assert caught.value.field == "image" and "not found" in caught.value.reason


def test_truncated_png_names_image():
    whole = png_bytes(np.random.default_rng(2).integers(0, 256, (64, 64), dtype=np.uint8))
    with pytest.raises(ModelInputError) as caught:
        load_scan(whole[: len(whole) // 2])
    assert caught.value.field == "image"


# --- JSON entry point ------------------------------------------------------------------------------


def test_run_pressure_map(tmp_path):
    image = grey(50, (200, 160))
    image[:, 80:] = 255 - 150  # right half 11 MPa, left half 1 MPa
    path = tmp_path / "film.png"
    path.write_bytes(png_bytes(image))
    result = run_pressure_map({"image_path": str(path), "calibration": TWO_POINT})
    assert set(result) == {
        "mean_mpa",
        "std_mpa",
        "coefficient_of_variation",
        "min_mpa",
        "max_mpa",
        "coverage",
        "centre_to_edge_ratio",
        "grid_mpa",
    }
    assert len(result["grid_mpa"]) == 20 and all(
        len(row) == 20 for row in result["grid_mpa"]
    )  # 20 × 20 default
    assert result["grid_mpa"][0][0] == pytest.approx(1.0) and result["grid_mpa"][0][19] == pytest.approx(11.0)
    assert result["mean_mpa"] == pytest.approx(6.0)
    assert result["std_mpa"] == pytest.approx(5.0)
    assert result["min_mpa"] == pytest.approx(1.0) and result["max_mpa"] == pytest.approx(11.0)
    assert result["coverage"] == 1.0  # 1 MPa > 0.1 · 6 MPa


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"grid_row": 10}, "grid_row"),
        ({"grid_rows": 2}, "grid_rows"),
        ({"grid_cols": 4.5}, "grid_cols"),
        ({"threshold_fraction": 1.5}, "threshold_fraction"),
        ({"calibration": {"table": "x"}}, "calibration.table"),
        ({"image_path": ""}, "image_path"),
    ],
)
def test_run_pressure_map_bad_keys_name_the_field(tmp_path, change, field):
    path = tmp_path / "film.png"
    path.write_bytes(png_bytes(grey(100)))
    with pytest.raises(ModelInputError) as caught:
        run_pressure_map({"image_path": str(path), "calibration": TWO_POINT, **change})
    assert caught.value.field == field


def test_run_pressure_map_missing_calibration():
    with pytest.raises(ModelInputError) as caught:
        run_pressure_map({"image_path": "film.png"})
    assert caught.value.field == "calibration"


def test_pressure_module_imports_no_django():
    tree = ast.parse(Path(pressure.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name == "django" or name.startswith("django.") for name in imported)
