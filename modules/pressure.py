"""Stack-pressure uniformity from a scanned pressure-sensitive film (MODELS.md ``pressure_map``, Fig. 5b).

A film such as Fujifilm Prescale is clamped in the housing in place of (or beside) a cell; the
stack pressure develops colour in it, darker and redder where the pressure is higher. A scan of
that film plus a calibration gives a pressure map, and the map's spread says whether a housing
presses evenly: a design with springs and gaskets should show a lower coefficient of variation than
one without.

Intensity convention. Every "intensity" here, in the calibration too, is the *colour density*
``255 − luminance`` of the scan on the 8-bit scale, luminance being ITU-R BT.601
(0.299 R + 0.587 G + 0.114 B, the same weights Pillow uses for mode "L"). White, untouched film is 0
and the density rises with pressure, so that a calibration is an increasing function. A red film
darkens mostly in green and blue, which luminance follows.

The scan is assumed to be cropped to the cell footprint: every pixel of it counts as footprint.

No Django here: the job, the admin's side-by-side comparison and ``run_model`` call these functions.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image, UnidentifiedImageError

from assbtrack.domain.inputs import Inputs, ModelInputError, check_number

MAX_SCAN_MEGAPIXELS = 50.0
ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "TIFF": "TIFF"}  # MPO: multi-picture JPEG
LUMINANCE_WEIGHTS = np.array([0.299, 0.587, 0.114])
MAX_PIXEL_VALUE = 255.0
MIN_GRID_SIDE = 3  # the centre-to-edge ratio needs a border ring and something inside it
MAX_GRID_SIDE = 500


@dataclass(frozen=True)
class PressureCalibration:
    """A monotonic map from colour density (0–255, see the module docstring) to pressure in MPa.

    ``kind`` "two_point": the straight line through two reference patches, extrapolated beyond them
    and clipped at 0 MPa below (a film shows no negative pressure). ``kind`` "table": piecewise
    linear through the table (``numpy.interp``); outside the table the end values hold, so a table
    should start at the blank film's density with 0 MPa and end at the film's saturation.
    """

    kind: str
    intensities: tuple[float, ...]
    pressures_mpa: tuple[float, ...]

    @classmethod
    def two_point(
        cls, low_intensity: float, low_pressure_mpa: float, high_intensity: float, high_pressure_mpa: float
    ) -> PressureCalibration:
        check_number(low_intensity, "calibration.low.intensity", minimum=0, maximum=MAX_PIXEL_VALUE)
        check_number(low_pressure_mpa, "calibration.low.pressure_mpa", minimum=0)
        check_number(high_intensity, "calibration.high.intensity", minimum=0, maximum=MAX_PIXEL_VALUE)
        check_number(high_pressure_mpa, "calibration.high.pressure_mpa", minimum=0)
        if not high_intensity > low_intensity:
            raise ModelInputError(
                "calibration.high.intensity",
                "must be greater than the low point's (colour density = 255 − luminance rises with pressure)",
            )
        if not high_pressure_mpa > low_pressure_mpa:
            raise ModelInputError("calibration.high.pressure_mpa", "must be greater than the low point's")
        return cls(
            "two_point",
            (float(low_intensity), float(high_intensity)),
            (float(low_pressure_mpa), float(high_pressure_mpa)),
        )

    @classmethod
    def table(cls, pairs: Sequence[tuple[float, float]]) -> PressureCalibration:
        """From (intensity, pressure_mpa) pairs in any order; pressure must not fall as density rises."""
        if len(pairs) < 2:
            raise ModelInputError("calibration.table", "needs at least 2 (intensity, pressure_mpa) points")
        for index, (intensity, pressure) in enumerate(pairs):
            check_number(
                intensity, f"calibration.table[{index}].intensity", minimum=0, maximum=MAX_PIXEL_VALUE
            )
            check_number(pressure, f"calibration.table[{index}].pressure_mpa", minimum=0)
        points = np.array(sorted((float(i), float(p)) for i, p in pairs))
        if np.any(np.diff(points[:, 0]) <= 0):
            raise ModelInputError("calibration.table", "intensities must all differ")
        if np.any(np.diff(points[:, 1]) < 0):
            raise ModelInputError(
                "calibration.table", "must be monotonic: pressure may not fall as colour density rises"
            )
        return cls("table", tuple(points[:, 0].tolist()), tuple(points[:, 1].tolist()))

    @classmethod
    def from_mapping(cls, data: Any) -> PressureCalibration:
        """The JSON form: ``{"low": {…}, "high": {…}}`` or ``{"table": [{intensity, pressure_mpa}, …]}``."""
        calibration = Inputs(data, "calibration")
        if calibration.has("table"):
            rows = calibration.objects("table", min_items=2, max_items=1000)
            pairs = []
            for row in rows:
                pairs.append((row.number("intensity"), row.number("pressure_mpa")))
                row.finish()
            calibration.finish()
            return cls.table(pairs)
        if calibration.has("low") or calibration.has("high"):
            low = Inputs(calibration.raw("low"), calibration.field("low"))
            high = Inputs(calibration.raw("high"), calibration.field("high"))
            result = cls.two_point(
                low.number("intensity"),
                low.number("pressure_mpa"),
                high.number("intensity"),
                high.number("pressure_mpa"),
            )
            low.finish()
            high.finish()
            calibration.finish()
            return result
        raise ModelInputError("calibration", "needs either low and high reference points or a table")

    def pressure_mpa(self, intensity: ArrayLike) -> NDArray[np.float64]:
        """Pressure in MPa for colour densities (any shape)."""
        density = np.asarray(intensity, dtype=float)
        if self.kind == "two_point":
            (low_i, high_i), (low_p, high_p) = self.intensities, self.pressures_mpa
            slope_mpa = (high_p - low_p) / (high_i - low_i)
            return np.maximum(low_p + slope_mpa * (density - low_i), 0.0)
        return np.interp(density, self.intensities, self.pressures_mpa)


@dataclass(frozen=True)
class PressureMap:
    """The grid of mean pressures (MPa, row 0 at the top of the scan) and its uniformity numbers."""

    grid_mpa: NDArray[np.float64]
    mean_mpa: float
    std_mpa: float
    coefficient_of_variation: float
    min_mpa: float
    max_mpa: float
    coverage: float
    centre_to_edge_ratio: float


def colour_density(image: ArrayLike) -> NDArray[np.float64]:
    """``255 − luminance`` of a scan given as 2-D grey levels or H×W×3 (or ×4, alpha ignored) RGB, 0–255.

    A 2-D array is read as grey levels (luminance: 0 black, 255 white), like a greyscale scan, not as
    densities; that keeps one meaning for "an image" whether it is grey or colour.
    """
    pixels = np.asarray(image)
    if pixels.dtype == bool or not np.issubdtype(pixels.dtype, np.number):
        raise ModelInputError("image", "must be an array of numbers")
    if pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        luminance = pixels[..., :3] @ LUMINANCE_WEIGHTS
    elif pixels.ndim == 2:
        luminance = pixels.astype(float)
    else:
        raise ModelInputError("image", f"must be 2-D grey levels or H×W×3 RGB, got shape {pixels.shape}")
    if luminance.size == 0:
        raise ModelInputError("image", "is empty")
    lowest, highest = float(np.min(luminance)), float(np.max(luminance))
    if (
        not (math.isfinite(lowest) and math.isfinite(highest))
        or lowest < 0
        or highest > MAX_PIXEL_VALUE + 1e-9
    ):
        raise ModelInputError("image", "pixel values must be finite and lie in 0–255 (8-bit scale)")
    return MAX_PIXEL_VALUE - luminance


def _block_edges(length_px: int, blocks: int) -> NDArray[np.intp]:
    """Start index of each of ``blocks`` near-equal blocks; sizes differ by at most one pixel."""
    return (np.arange(blocks) * length_px) // blocks


def _block_sums(values: NDArray[np.float64], grid_shape: tuple[int, int]) -> NDArray[np.float64]:
    """Sums over a rows × cols partition of the image, vectorised with ``np.add.reduceat``.

    reduceat rather than a reshape: a reshape needs the image cropped to a multiple of the grid,
    which throws away the film's edge, the very region the centre-to-edge ratio looks at.
    """
    rows, cols = grid_shape
    row_sums = np.add.reduceat(values, _block_edges(values.shape[0], rows), axis=0)
    return np.add.reduceat(row_sums, _block_edges(values.shape[1], cols), axis=1)


def _block_pixel_counts(image_shape: tuple[int, int], grid_shape: tuple[int, int]) -> NDArray[np.float64]:
    row_sizes = np.diff(np.append(_block_edges(image_shape[0], grid_shape[0]), image_shape[0]))
    col_sizes = np.diff(np.append(_block_edges(image_shape[1], grid_shape[1]), image_shape[1]))
    return np.outer(row_sizes, col_sizes).astype(float)


def _region_masks(grid_shape: tuple[int, int]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(centre, border) masks over the grid; see ``pressure_map`` for the definitions."""
    rows, cols = grid_shape
    row_index = np.arange(rows)[:, np.newaxis]
    col_index = np.arange(cols)[np.newaxis, :]
    border = (row_index == 0) | (row_index == rows - 1) | (col_index == 0) | (col_index == cols - 1)
    # A cell is central when its centre, (i + 0.5)/n of the way across, lies within the middle half:
    # 1/4 ≤ (i + 0.5)/n ≤ 3/4, written in integers to avoid rounding at the bounds.
    central_rows = (4 * row_index + 2 >= rows) & (4 * row_index + 2 <= 3 * rows)
    central_cols = (4 * col_index + 2 >= cols) & (4 * col_index + 2 <= 3 * cols)
    return central_rows & central_cols, border


def pressure_map(
    image: ArrayLike,
    calibration: PressureCalibration | Mapping[str, Any],
    grid_shape: tuple[int, int] = (20, 20),
    threshold_fraction: float = 0.1,
) -> PressureMap:
    """Pressure map of a film scan on a rows × cols grid, and how uniform it is.

    Each pixel's colour density is turned into a pressure by the calibration, then averaged over
    each grid cell (the grid splits the scan into near-equal blocks, none discarded). Averaging
    pressures, not densities, keeps a non-linear table calibration honest. The statistics weight
    each cell by its pixel count, so they describe the footprint, not the grid:

    - ``mean_mpa``, ``std_mpa`` (population), ``coefficient_of_variation`` = std/mean,
      ``min_mpa``/``max_mpa`` of the cell means;
    - ``coverage``: share of the footprint in cells whose pressure exceeds
      ``threshold_fraction`` × mean (1 = the whole cell is pressed);
    - ``centre_to_edge_ratio``: mean of the central region over mean of the border ring. The border
      ring is the outermost row and column of grid cells on every side; the central region is the
      cells whose centres lie in the middle half of the scan in both directions (a rectangle of a
      quarter of the area; for a 20 × 20 grid rows and columns 5–14). Above 1 the housing presses
      the middle harder (plates bowing out at the edges or a domed stack); below 1, the edges.
      ``inf`` when the border carries no pressure at all.

    ``image``: see ``colour_density``. A scan with no pressure anywhere is refused: its uniformity
    is undefined and most likely the wrong file or calibration.
    """
    if not isinstance(calibration, PressureCalibration):
        calibration = PressureCalibration.from_mapping(calibration)
    rows, cols = _check_grid(grid_shape)
    threshold_fraction = check_number(threshold_fraction, "threshold_fraction", minimum=0, less_than=1)
    density = colour_density(image)
    if density.shape[0] < rows or density.shape[1] < cols:
        raise ModelInputError(
            "image", f"has {density.shape[0]}×{density.shape[1]} pixels, fewer than the {rows}×{cols} grid"
        )

    pixel_pressure_mpa = calibration.pressure_mpa(density)
    counts = _block_pixel_counts(density.shape, (rows, cols))
    grid_mpa = _block_sums(pixel_pressure_mpa, (rows, cols)) / counts
    weights = counts / counts.sum()

    mean_mpa = float(np.sum(weights * grid_mpa))
    if not mean_mpa > 0:
        raise ModelInputError("image", "shows no pressure anywhere: check the scan and the calibration")
    std_mpa = float(np.sqrt(np.sum(weights * (grid_mpa - mean_mpa) ** 2)))
    # Ratios of whole pixel counts, so that a fully pressed film reports exactly 1.
    coverage = float(counts[grid_mpa > threshold_fraction * mean_mpa].sum() / counts.sum())

    centre, border = _region_masks((rows, cols))
    centre_mean_mpa = np.sum(counts[centre] * grid_mpa[centre]) / np.sum(counts[centre])
    border_mean_mpa = np.sum(counts[border] * grid_mpa[border]) / np.sum(counts[border])
    centre_to_edge = float(centre_mean_mpa / border_mean_mpa) if border_mean_mpa > 0 else math.inf

    return PressureMap(
        grid_mpa=grid_mpa,
        mean_mpa=mean_mpa,
        std_mpa=std_mpa,
        coefficient_of_variation=std_mpa / mean_mpa,
        min_mpa=float(grid_mpa.min()),
        max_mpa=float(grid_mpa.max()),
        coverage=coverage,
        centre_to_edge_ratio=centre_to_edge,
    )


def _check_grid(grid_shape: tuple[int, int]) -> tuple[int, int]:
    if len(grid_shape) != 2:
        raise ModelInputError("grid_shape", "must be (rows, cols)")
    for field, value in zip(("grid_rows", "grid_cols"), grid_shape):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ModelInputError(field, "must be a whole number")
        if not MIN_GRID_SIDE <= value <= MAX_GRID_SIDE:
            raise ModelInputError(field, f"must be between {MIN_GRID_SIDE} and {MAX_GRID_SIDE}")
    return int(grid_shape[0]), int(grid_shape[1])


def load_scan(path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview) -> NDArray[np.uint8]:
    """A PNG, JPEG or TIFF scan as a 2-D array of 8-bit grey levels (luminance, 0 black – 255 white).

    Pillow's "L" conversion applies the BT.601 luminance the rest of this module assumes; 16-bit
    greyscale scans are scaled to 8 bits first, because Pillow's conversion would clip them. The
    size is checked from the header before any pixel is decoded, so an oversized or malicious file
    costs nothing. Anything unusable raises ``ModelInputError`` on ``image`` with the reason.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        content = bytes(path_or_bytes)
    else:
        try:
            content = Path(path_or_bytes).read_bytes()
        except FileNotFoundError:
            raise ModelInputError("image", f"file not found: {os.fspath(path_or_bytes)}") from None
        except OSError as error:
            raise ModelInputError("image", f"cannot be read: {error.strerror or error}") from None
    if not content:
        raise ModelInputError("image", "is an empty file")

    try:
        with Image.open(io.BytesIO(content)) as scan:
            file_format = ACCEPTED_FORMATS.get(scan.format or "")
            if file_format is None:
                raise ModelInputError("image", f"is a {scan.format} image; use PNG, JPEG or TIFF")
            width_px, height_px = scan.size
            megapixels = width_px * height_px / 1e6
            if megapixels > MAX_SCAN_MEGAPIXELS:
                raise ModelInputError(
                    "image", f"is too large: {megapixels:.1f} megapixels, at most {MAX_SCAN_MEGAPIXELS:g}"
                )
            if width_px == 0 or height_px == 0:
                raise ModelInputError("image", "has no pixels")
            scan.load()
            if scan.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
                sixteen_bit = np.asarray(scan, dtype=np.float64)
                return np.clip(np.rint(sixteen_bit / 257.0), 0, 255).astype(np.uint8)
            return np.asarray(scan.convert("L"), dtype=np.uint8)
    except ModelInputError:
        raise
    except UnidentifiedImageError:
        raise ModelInputError("image", "is not a PNG, JPEG or TIFF image") from None
    except Image.DecompressionBombError:
        raise ModelInputError(
            "image", f"is too large: more than {MAX_SCAN_MEGAPIXELS:g} megapixels"
        ) from None
    except (OSError, ValueError, SyntaxError) as error:
        # Truncated or corrupt files fail while decoding, after the header looked fine.
        raise ModelInputError("image", f"cannot be decoded ({error})") from None


def read_pressure_map_options(inputs: Inputs) -> tuple[PressureCalibration, tuple[int, int], float]:
    """The calibration, grid (rows, columns) and coverage threshold of a ``pressure_map`` input."""
    calibration = PressureCalibration.from_mapping(inputs.raw("calibration"))
    rows = inputs.integer("grid_rows", default=20, minimum=MIN_GRID_SIDE, maximum=MAX_GRID_SIDE)
    cols = inputs.integer("grid_cols", default=20, minimum=MIN_GRID_SIDE, maximum=MAX_GRID_SIDE)
    threshold_fraction = inputs.number("threshold_fraction", default=0.1, minimum=0, less_than=1)
    return calibration, (rows, cols), threshold_fraction


def read_pressure_map_inputs(data: Mapping[str, Any]) -> tuple[str, PressureCalibration, tuple[int, int], float]:
    """Check the ``pressure_map`` inputs of the shell (``image_path``) without reading the image."""
    inputs = Inputs(data)
    image_path = inputs.text("image_path", max_length=4096)
    options = read_pressure_map_options(inputs)
    inputs.finish()
    return (image_path, *options)


def run_pressure_map(data: Mapping[str, Any]) -> dict[str, Any]:
    """JSON in, JSON out (``run_model pressure_map``; the job of that kind reads a stored scan instead).

    ``centre_to_edge_ratio`` is null when the border ring carries no pressure (the ratio is infinite).
    """
    image_path, calibration, grid, threshold_fraction = read_pressure_map_inputs(data)
    return pressure_map_summary(pressure_map(load_scan(image_path), calibration, grid, threshold_fraction))


def pressure_map_summary(result: PressureMap) -> dict[str, Any]:
    """A pressure map as the JSON object of the ``pressure_map`` contract."""
    return {
        "mean_mpa": result.mean_mpa,
        "std_mpa": result.std_mpa,
        "coefficient_of_variation": result.coefficient_of_variation,
        "min_mpa": result.min_mpa,
        "max_mpa": result.max_mpa,
        "coverage": result.coverage,
        "centre_to_edge_ratio": result.centre_to_edge_ratio
        if math.isfinite(result.centre_to_edge_ratio)
        else None,
        "grid_mpa": result.grid_mpa.tolist(),
    }
