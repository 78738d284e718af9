"""Cell-to-module efficiency of a pressurised solid-state module (MODELS.md ``module_efficiency``, Fig. 5).

Solid-state cells need a stack pressure of 1 to 100 MPa. A module carries that pressure on steel
end plates held together by tie rods, and that metal is the module's inactive mass and volume. The
higher the pressure, the thicker the plates and the rods, and the smaller the share of the module
that stores energy. This module puts numbers on that trade-off so a housing design can be compared
with a Li-ion pouch module (82 % by mass, 73 % by volume; Löbberding et al. 2020).

Plates are edge-supported rectangular plates under a uniform load (Roark's Formulas for Stress and
Strain, 7th ed., Table 11.4 case 1a, ν = 0.3):

    deflection  y = α·q·b⁴ / (E·t³)        stress  σ = β·q·b² / t²

with ``b`` the shorter side. Units throughout: lengths in mm, pressures and stresses in MPa
(= N/mm²), moduli in GPa (converted to MPa inside), densities in kg/m³, masses in kg, volumes in L
(1 L = 10⁶ mm³), energies in kWh at the interface and Wh inside. With these units the formulas need
no conversion factors other than GPa → MPa.

No Django here: the web, the API, the Celery jobs and ``run_model`` all call ``run_module_efficiency``
and ``run_module_efficiency_sweep``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assbtrack.domain.inputs import Inputs, ModelInputError, check_number

# Roark Table 11.4 case 1a (ν = 0.3): the finite columns of a/b; the strip limit a/b = ∞ is kept apart
# because it is interpolated in b/a, where it sits at 0.
ROARK_ASPECT_RATIOS = np.array([1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 3.0, 4.0, 5.0])
ROARK_ALPHA = np.array([0.0444, 0.0616, 0.0770, 0.0906, 0.1017, 0.1110, 0.1335, 0.1400, 0.1417])
ROARK_BETA = np.array([0.2874, 0.3762, 0.4530, 0.5172, 0.5688, 0.6102, 0.7134, 0.7410, 0.7476])
ROARK_ALPHA_STRIP = 0.1421
ROARK_BETA_STRIP = 0.7500

MPA_PER_GPA = 1000.0
MM3_PER_L = 1.0e6
MM3_PER_M3 = 1.0e9
WH_PER_KWH = 1000.0

# The paper's Li-ion pouch module references (Löbberding et al. 2020), as fractions.
LI_ION_GRAVIMETRIC_EFFICIENCY = 0.82
LI_ION_VOLUMETRIC_EFFICIENCY = 0.73

DEFAULT_STACK_PRESSURES_MPA: tuple[float, ...] = tuple(float(p) for p in np.logspace(0.0, 2.0, 50))
DEFAULT_SYSTEM_SIZES_KWH: tuple[float, ...] = (1.0, 10.0, 20.0)

# A sweep is one grid of pressures × sizes held in memory several times over; these bounds keep a
# job from asking for a grid that would exhaust a worker.
MAX_SWEEP_PRESSURES = 1000
MAX_SWEEP_SIZES = 100

FloatOrArray = float | NDArray[np.float64]


def _as_float_or_array(values: NDArray[np.float64]) -> FloatOrArray:
    """Scalars in, floats out: callers with one plate should not have to unwrap 0-d arrays."""
    return float(values) if np.ndim(values) == 0 else values


def roark_coefficients(aspect_ratio: ArrayLike) -> tuple[FloatOrArray, FloatOrArray]:
    """(α, β) of Roark Table 11.4 case 1a for the side ratio a/b; vectorised over numpy arrays.

    Between the table's columns, 1 ≤ a/b ≤ 5, α and β are linear in a/b. Beyond a/b = 5 the table
    jumps to the long strip (a/b = ∞); there they are linear in b/a, which runs from 0.2 to 0, so that
    the coefficients approach the strip values smoothly instead of staying at the a/b = 5 column.

    A ratio below 1 means the caller named the longer side ``b``; the plate is the same plate with
    its sides swapped, so a/b < 1 is read as b/a (the table is defined only for b the shorter side).
    ``numpy.inf`` is the strip itself.
    """
    ratio = np.asarray(aspect_ratio, dtype=float)
    if np.any(~(ratio > 0)):
        raise ValueError("aspect_ratio must be positive (a/b of the plate's sides)")
    ratio = np.where(ratio < 1.0, 1.0 / ratio, ratio)
    with np.errstate(divide="ignore"):
        inverse_ratio = 1.0 / ratio  # b/a; 0 for the strip
    tail = ratio > ROARK_ASPECT_RATIOS[-1]
    tail_inverse = [0.0, 1.0 / ROARK_ASPECT_RATIOS[-1]]
    alpha = np.where(
        tail,
        np.interp(inverse_ratio, tail_inverse, [ROARK_ALPHA_STRIP, ROARK_ALPHA[-1]]),
        np.interp(ratio, ROARK_ASPECT_RATIOS, ROARK_ALPHA),
    )
    beta = np.where(
        tail,
        np.interp(inverse_ratio, tail_inverse, [ROARK_BETA_STRIP, ROARK_BETA[-1]]),
        np.interp(ratio, ROARK_ASPECT_RATIOS, ROARK_BETA),
    )
    return _as_float_or_array(alpha), _as_float_or_array(beta)


def _sides_mm(length_mm: ArrayLike, width_mm: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(a, b) with b the shorter side, whatever order the caller used."""
    first = np.asarray(length_mm, dtype=float)
    second = np.asarray(width_mm, dtype=float)
    return np.maximum(first, second), np.minimum(first, second)


def plate_deflection_mm(
    pressure_mpa: ArrayLike,
    length_mm: ArrayLike,
    width_mm: ArrayLike,
    thickness_mm: ArrayLike,
    modulus_gpa: ArrayLike,
) -> FloatOrArray:
    """Maximum (centre) deflection y = α·q·b⁴/(E·t³) of an edge-supported plate, in mm.

    The sides may be given in either order; b is the shorter. Vectorised over all arguments.
    """
    side_a_mm, side_b_mm = _sides_mm(length_mm, width_mm)
    alpha, _ = roark_coefficients(side_a_mm / side_b_mm)
    modulus_mpa = np.asarray(modulus_gpa, dtype=float) * MPA_PER_GPA
    thickness = np.asarray(thickness_mm, dtype=float)
    deflection = alpha * np.asarray(pressure_mpa, dtype=float) * side_b_mm**4 / (modulus_mpa * thickness**3)
    return _as_float_or_array(np.asarray(deflection))


def plate_stress_mpa(
    pressure_mpa: ArrayLike, length_mm: ArrayLike, width_mm: ArrayLike, thickness_mm: ArrayLike
) -> FloatOrArray:
    """Maximum bending stress σ = β·q·b²/t² of an edge-supported plate, in MPa (at the centre)."""
    side_a_mm, side_b_mm = _sides_mm(length_mm, width_mm)
    _, beta = roark_coefficients(side_a_mm / side_b_mm)
    thickness = np.asarray(thickness_mm, dtype=float)
    stress = beta * np.asarray(pressure_mpa, dtype=float) * side_b_mm**2 / thickness**2
    return _as_float_or_array(np.asarray(stress))


def required_plate_thickness_mm(
    pressure_mpa: ArrayLike,
    length_mm: ArrayLike,
    width_mm: ArrayLike,
    modulus_gpa: ArrayLike,
    deflection_ratio: ArrayLike = 500.0,
    allowable_stress_mpa: ArrayLike | None = None,
) -> FloatOrArray:
    """Thinnest plate that keeps the deflection within b/``deflection_ratio``, in mm.

    Stiffness, not strength, usually sizes an end plate: a plate that bows lets the cells in the
    middle lose pressure. From y = b/ratio: t = (α·q·b³·ratio/E)^(1/3). If an allowable stress is
    given the plate must also be strong enough: t = max(t, √(β·q·b²/σ_allow)).
    """
    side_a_mm, side_b_mm = _sides_mm(length_mm, width_mm)
    alpha, beta = roark_coefficients(side_a_mm / side_b_mm)
    pressure = np.asarray(pressure_mpa, dtype=float)
    modulus_mpa = np.asarray(modulus_gpa, dtype=float) * MPA_PER_GPA
    ratio = np.asarray(deflection_ratio, dtype=float)
    thickness = np.cbrt(alpha * pressure * side_b_mm**3 * ratio / modulus_mpa)
    if allowable_stress_mpa is not None:
        strength_thickness = np.sqrt(
            beta * pressure * side_b_mm**2 / np.asarray(allowable_stress_mpa, dtype=float)
        )
        thickness = np.maximum(thickness, strength_thickness)
    return _as_float_or_array(np.asarray(thickness))


@dataclass(frozen=True)
class ModuleDesign:
    """One module: the cells it holds, their format, the stack pressure and the housing's materials.

    ``cell_length_mm`` × ``cell_width_mm`` is the footprint the plates cover (either order; the
    shorter side is Roark's b). ``plate_allowable_stress_mpa`` None sizes plates by stiffness alone;
    ``tie_rod_allowable_stress_mpa`` None means no tie rods (the plates are held some other way, and
    that mass is not counted).
    """

    system_energy_kwh: float
    cell_specific_energy_wh_per_kg: float
    cell_energy_density_wh_per_l: float
    cell_length_mm: float
    cell_width_mm: float
    stack_pressure_mpa: float
    plate_modulus_gpa: float = 200.0
    plate_density_kg_per_m3: float = 7850.0
    deflection_ratio: float = 500.0
    plate_allowable_stress_mpa: float | None = None
    tie_rod_allowable_stress_mpa: float | None = 400.0
    tie_rod_density_kg_per_m3: float = 7850.0
    plate_count: int = 2

    def __post_init__(self) -> None:
        _check_housing(
            cell_specific_energy_wh_per_kg=self.cell_specific_energy_wh_per_kg,
            cell_energy_density_wh_per_l=self.cell_energy_density_wh_per_l,
            cell_length_mm=self.cell_length_mm,
            cell_width_mm=self.cell_width_mm,
            plate_modulus_gpa=self.plate_modulus_gpa,
            plate_density_kg_per_m3=self.plate_density_kg_per_m3,
            deflection_ratio=self.deflection_ratio,
            plate_allowable_stress_mpa=self.plate_allowable_stress_mpa,
            tie_rod_allowable_stress_mpa=self.tie_rod_allowable_stress_mpa,
            tie_rod_density_kg_per_m3=self.tie_rod_density_kg_per_m3,
            plate_count=self.plate_count,
        )
        check_number(self.system_energy_kwh, "system_energy_kwh", greater_than=0)
        check_number(self.stack_pressure_mpa, "stack_pressure_mpa", greater_than=0)


@dataclass(frozen=True)
class ModuleEfficiencyResult:
    """The module's parts and its cell-to-module efficiencies (fractions 0–1, not percent)."""

    cell_mass_kg: float
    cell_volume_l: float
    stack_height_mm: float
    plate_thickness_mm: float
    plate_max_stress_mpa: float
    plate_mass_kg: float
    plate_volume_l: float
    tie_rod_mass_kg: float
    tie_rod_volume_l: float
    gravimetric_efficiency: float
    volumetric_efficiency: float


@dataclass(frozen=True)
class ModuleEfficiencySweep:
    """Every quantity of ``ModuleEfficiencyResult`` on a grid: rows are system sizes, columns pressures."""

    system_sizes_kwh: NDArray[np.float64]
    stack_pressures_mpa: NDArray[np.float64]
    cell_mass_kg: NDArray[np.float64]
    cell_volume_l: NDArray[np.float64]
    stack_height_mm: NDArray[np.float64]
    plate_thickness_mm: NDArray[np.float64]
    plate_max_stress_mpa: NDArray[np.float64]
    plate_mass_kg: NDArray[np.float64]
    plate_volume_l: NDArray[np.float64]
    tie_rod_mass_kg: NDArray[np.float64]
    tie_rod_volume_l: NDArray[np.float64]
    gravimetric_efficiency: NDArray[np.float64]
    volumetric_efficiency: NDArray[np.float64]


_RESULT_FIELDS = tuple(ModuleEfficiencyResult.__dataclass_fields__)


def _check_housing(
    *,
    cell_specific_energy_wh_per_kg: float,
    cell_energy_density_wh_per_l: float,
    cell_length_mm: float,
    cell_width_mm: float,
    plate_modulus_gpa: float,
    plate_density_kg_per_m3: float,
    deflection_ratio: float,
    plate_allowable_stress_mpa: float | None,
    tie_rod_allowable_stress_mpa: float | None,
    tie_rod_density_kg_per_m3: float,
    plate_count: int,
) -> None:
    """The same rules as the JSON entry points, for callers that build designs in Python."""
    for field, value in (
        ("cell_specific_energy_wh_per_kg", cell_specific_energy_wh_per_kg),
        ("cell_energy_density_wh_per_l", cell_energy_density_wh_per_l),
        ("cell_length_mm", cell_length_mm),
        ("cell_width_mm", cell_width_mm),
        ("plate_modulus_gpa", plate_modulus_gpa),
        ("plate_density_kg_per_m3", plate_density_kg_per_m3),
        ("deflection_ratio", deflection_ratio),
        ("tie_rod_density_kg_per_m3", tie_rod_density_kg_per_m3),
    ):
        check_number(value, field, greater_than=0)
    for field, value in (
        ("plate_allowable_stress_mpa", plate_allowable_stress_mpa),
        ("tie_rod_allowable_stress_mpa", tie_rod_allowable_stress_mpa),
    ):
        if value is not None:
            check_number(value, field, greater_than=0)
    if isinstance(plate_count, bool) or not isinstance(plate_count, int) or plate_count < 1:
        raise ModelInputError("plate_count", "must be a whole number of at least 1")


def _module_parts(
    *,
    system_energy_kwh: ArrayLike,
    stack_pressure_mpa: ArrayLike,
    cell_specific_energy_wh_per_kg: float,
    cell_energy_density_wh_per_l: float,
    cell_length_mm: float,
    cell_width_mm: float,
    plate_modulus_gpa: float,
    plate_density_kg_per_m3: float,
    deflection_ratio: float,
    plate_allowable_stress_mpa: float | None,
    tie_rod_allowable_stress_mpa: float | None,
    tie_rod_density_kg_per_m3: float,
    plate_count: int,
) -> dict[str, NDArray[np.float64]]:
    """The model itself, on arrays that broadcast: one code path for one module and for a sweep."""
    energy_wh = np.asarray(system_energy_kwh, dtype=float) * WH_PER_KWH
    pressure_mpa = np.asarray(stack_pressure_mpa, dtype=float)
    side_a_mm, side_b_mm = _sides_mm(cell_length_mm, cell_width_mm)
    footprint_mm2 = side_a_mm * side_b_mm

    cell_mass_kg = energy_wh / cell_specific_energy_wh_per_kg
    cell_volume_l = energy_wh / cell_energy_density_wh_per_l
    stack_height_mm = cell_volume_l * MM3_PER_L / footprint_mm2

    plate_thickness_mm = np.asarray(
        required_plate_thickness_mm(
            pressure_mpa,
            side_a_mm,
            side_b_mm,
            plate_modulus_gpa,
            deflection_ratio,
            plate_allowable_stress_mpa,
        )
    )
    plate_max_stress_mpa = np.asarray(
        plate_stress_mpa(pressure_mpa, side_a_mm, side_b_mm, plate_thickness_mm)
    )
    plate_volume_mm3 = plate_count * footprint_mm2 * plate_thickness_mm
    plate_volume_l = plate_volume_mm3 / MM3_PER_L
    plate_mass_kg = plate_volume_mm3 / MM3_PER_M3 * plate_density_kg_per_m3

    if tie_rod_allowable_stress_mpa is None:
        tie_rod_volume_mm3 = np.zeros(np.broadcast_shapes(stack_height_mm.shape, plate_thickness_mm.shape))
    else:
        # The rods carry the whole clamping force q·a·b; their length spans the stack and the plates.
        tie_rod_section_mm2 = pressure_mpa * footprint_mm2 / tie_rod_allowable_stress_mpa
        tie_rod_length_mm = stack_height_mm + plate_count * plate_thickness_mm
        tie_rod_volume_mm3 = tie_rod_section_mm2 * tie_rod_length_mm
    tie_rod_volume_l = tie_rod_volume_mm3 / MM3_PER_L
    tie_rod_mass_kg = tie_rod_volume_mm3 / MM3_PER_M3 * tie_rod_density_kg_per_m3

    gravimetric_efficiency = cell_mass_kg / (cell_mass_kg + plate_mass_kg + tie_rod_mass_kg)
    volumetric_efficiency = cell_volume_l / (cell_volume_l + plate_volume_l + tie_rod_volume_l)

    shape = np.broadcast_shapes(energy_wh.shape, pressure_mpa.shape)
    parts = {
        "cell_mass_kg": cell_mass_kg,
        "cell_volume_l": cell_volume_l,
        "stack_height_mm": stack_height_mm,
        "plate_thickness_mm": plate_thickness_mm,
        "plate_max_stress_mpa": plate_max_stress_mpa,
        "plate_mass_kg": plate_mass_kg,
        "plate_volume_l": plate_volume_l,
        "tie_rod_mass_kg": tie_rod_mass_kg,
        "tie_rod_volume_l": tie_rod_volume_l,
        "gravimetric_efficiency": gravimetric_efficiency,
        "volumetric_efficiency": volumetric_efficiency,
    }
    return {name: np.broadcast_to(np.asarray(value, dtype=float), shape) for name, value in parts.items()}


def module_efficiency(design: ModuleDesign) -> ModuleEfficiencyResult:
    """Cell-to-module efficiency of one module: cells over cells + end plates + tie rods."""
    parts = _module_parts(
        system_energy_kwh=design.system_energy_kwh,
        stack_pressure_mpa=design.stack_pressure_mpa,
        cell_specific_energy_wh_per_kg=design.cell_specific_energy_wh_per_kg,
        cell_energy_density_wh_per_l=design.cell_energy_density_wh_per_l,
        cell_length_mm=design.cell_length_mm,
        cell_width_mm=design.cell_width_mm,
        plate_modulus_gpa=design.plate_modulus_gpa,
        plate_density_kg_per_m3=design.plate_density_kg_per_m3,
        deflection_ratio=design.deflection_ratio,
        plate_allowable_stress_mpa=design.plate_allowable_stress_mpa,
        tie_rod_allowable_stress_mpa=design.tie_rod_allowable_stress_mpa,
        tie_rod_density_kg_per_m3=design.tie_rod_density_kg_per_m3,
        plate_count=design.plate_count,
    )
    return ModuleEfficiencyResult(**{name: float(parts[name]) for name in _RESULT_FIELDS})


def module_efficiency_sweep(
    *,
    cell_specific_energy_wh_per_kg: float,
    cell_energy_density_wh_per_l: float,
    cell_length_mm: float,
    cell_width_mm: float,
    stack_pressures_mpa: Sequence[float] | NDArray[np.float64] = DEFAULT_STACK_PRESSURES_MPA,
    system_sizes_kwh: Sequence[float] | NDArray[np.float64] = DEFAULT_SYSTEM_SIZES_KWH,
    plate_modulus_gpa: float = 200.0,
    plate_density_kg_per_m3: float = 7850.0,
    deflection_ratio: float = 500.0,
    plate_allowable_stress_mpa: float | None = None,
    tie_rod_allowable_stress_mpa: float | None = 400.0,
    tie_rod_density_kg_per_m3: float = 7850.0,
    plate_count: int = 2,
) -> ModuleEfficiencySweep:
    """The model on the grid system sizes × stack pressures (the paper's Figure 5d–f), by broadcasting.

    Sizes form a column and pressures a row, so every array of the result has the shape
    (len(system_sizes_kwh), len(stack_pressures_mpa)); no Python loop runs over the points.
    """
    _check_housing(
        cell_specific_energy_wh_per_kg=cell_specific_energy_wh_per_kg,
        cell_energy_density_wh_per_l=cell_energy_density_wh_per_l,
        cell_length_mm=cell_length_mm,
        cell_width_mm=cell_width_mm,
        plate_modulus_gpa=plate_modulus_gpa,
        plate_density_kg_per_m3=plate_density_kg_per_m3,
        deflection_ratio=deflection_ratio,
        plate_allowable_stress_mpa=plate_allowable_stress_mpa,
        tie_rod_allowable_stress_mpa=tie_rod_allowable_stress_mpa,
        tie_rod_density_kg_per_m3=tie_rod_density_kg_per_m3,
        plate_count=plate_count,
    )
    pressures_mpa = _positive_vector(stack_pressures_mpa, "stack_pressures_mpa")
    sizes_kwh = _positive_vector(system_sizes_kwh, "system_sizes_kwh")
    parts = _module_parts(
        system_energy_kwh=sizes_kwh[:, np.newaxis],
        stack_pressure_mpa=pressures_mpa[np.newaxis, :],
        cell_specific_energy_wh_per_kg=cell_specific_energy_wh_per_kg,
        cell_energy_density_wh_per_l=cell_energy_density_wh_per_l,
        cell_length_mm=cell_length_mm,
        cell_width_mm=cell_width_mm,
        plate_modulus_gpa=plate_modulus_gpa,
        plate_density_kg_per_m3=plate_density_kg_per_m3,
        deflection_ratio=deflection_ratio,
        plate_allowable_stress_mpa=plate_allowable_stress_mpa,
        tie_rod_allowable_stress_mpa=tie_rod_allowable_stress_mpa,
        tie_rod_density_kg_per_m3=tie_rod_density_kg_per_m3,
        plate_count=plate_count,
    )
    return ModuleEfficiencySweep(system_sizes_kwh=sizes_kwh, stack_pressures_mpa=pressures_mpa, **parts)


def _positive_vector(values: Sequence[float] | NDArray[np.float64], field: str) -> NDArray[np.float64]:
    vector = np.asarray(values, dtype=float)
    if vector.ndim != 1 or vector.size == 0:
        raise ModelInputError(field, "must be a non-empty list of numbers")
    if not np.all(np.isfinite(vector) & (vector > 0)):
        raise ModelInputError(field, "must hold only finite numbers greater than 0")
    return vector


# --- JSON entry points (MODELS.md contract) -------------------------------------------------------


def _read_housing(inputs: Inputs) -> dict[str, Any]:
    """The keys shared by ``module_efficiency`` and ``module_efficiency_sweep``, with MODELS.md defaults."""
    return {
        "cell_specific_energy_wh_per_kg": inputs.number("cell_specific_energy_wh_per_kg", greater_than=0),
        "cell_energy_density_wh_per_l": inputs.number("cell_energy_density_wh_per_l", greater_than=0),
        "cell_length_mm": inputs.number("cell_length_mm", greater_than=0),
        "cell_width_mm": inputs.number("cell_width_mm", greater_than=0),
        "plate_modulus_gpa": inputs.number("plate_modulus_gpa", default=200.0, greater_than=0),
        "plate_density_kg_per_m3": inputs.number("plate_density_kg_per_m3", default=7850.0, greater_than=0),
        "deflection_ratio": inputs.number("deflection_ratio", default=500.0, greater_than=0),
        "plate_allowable_stress_mpa": inputs.number(
            "plate_allowable_stress_mpa", default=None, greater_than=0
        ),
        "tie_rod_allowable_stress_mpa": inputs.number(
            "tie_rod_allowable_stress_mpa", default=400.0, greater_than=0, allow_none=True
        ),
        "tie_rod_density_kg_per_m3": inputs.number(
            "tie_rod_density_kg_per_m3", default=7850.0, greater_than=0
        ),
        "plate_count": inputs.integer("plate_count", default=2, minimum=1),
    }


def read_module_efficiency_inputs(data: Mapping[str, Any]) -> ModuleDesign:
    """Check the ``module_efficiency`` inputs without computing; the design they describe."""
    inputs = Inputs(data)
    design = ModuleDesign(
        system_energy_kwh=inputs.number("system_energy_kwh", greater_than=0),
        stack_pressure_mpa=inputs.number("stack_pressure_mpa", greater_than=0),
        **_read_housing(inputs),
    )
    inputs.finish()
    return design


def run_module_efficiency(data: Mapping[str, Any]) -> dict[str, Any]:
    """JSON in, JSON out: one module's parts and efficiencies (the ``module_efficiency`` job)."""
    result = module_efficiency(read_module_efficiency_inputs(data))
    return {name: getattr(result, name) for name in _RESULT_FIELDS}


def read_module_efficiency_sweep_inputs(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the ``module_efficiency_sweep`` inputs without computing; the keyword arguments of the sweep."""
    inputs = Inputs(data)
    pressures_mpa = inputs.numbers(
        "stack_pressures_mpa",
        default=list(DEFAULT_STACK_PRESSURES_MPA),
        max_items=MAX_SWEEP_PRESSURES,
        greater_than=0,
    )
    sizes_kwh = inputs.numbers(
        "system_sizes_kwh", default=list(DEFAULT_SYSTEM_SIZES_KWH), max_items=MAX_SWEEP_SIZES, greater_than=0
    )
    housing = _read_housing(inputs)
    inputs.finish()
    _positive_vector(pressures_mpa, "stack_pressures_mpa")
    _positive_vector(sizes_kwh, "system_sizes_kwh")
    return {"stack_pressures_mpa": pressures_mpa, "system_sizes_kwh": sizes_kwh, **housing}


def run_module_efficiency_sweep(data: Mapping[str, Any]) -> dict[str, Any]:
    """JSON in, JSON out: efficiency curves against stack pressure, one per system size (Figure 5d–f)."""
    sweep = module_efficiency_sweep(**read_module_efficiency_sweep_inputs(data))
    return {
        "curves": [
            {
                "system_energy_kwh": float(size_kwh),
                "stack_pressure_mpa": sweep.stack_pressures_mpa.tolist(),
                "gravimetric_efficiency": sweep.gravimetric_efficiency[row].tolist(),
                "volumetric_efficiency": sweep.volumetric_efficiency[row].tolist(),
            }
            for row, size_kwh in enumerate(sweep.system_sizes_kwh)
        ]
    }
