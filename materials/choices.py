"""Choices of the materials app: one place for roles, classes, routes, media, atmospheres and step kinds."""

from django.db import models


class MaterialRole(models.TextChoices):
    PRECURSOR = "precursor", "Precursor"
    ACTIVE_MATERIAL = "active_material", "Active material"
    ELECTROLYTE = "electrolyte", "Solid electrolyte"
    CARBON = "carbon", "Carbon (conductive additive)"
    BINDER = "binder", "Binder"
    FOIL = "foil", "Foil (anode or current collector)"
    OTHER = "other", "Other"


class SseClass(models.TextChoices):
    SULFIDE = "sulfide", "Sulfide"
    HALIDE = "halide", "Halide"
    OXIDE = "oxide", "Oxide"
    BOROHYDRIDE = "borohydride", "Borohydride"


class SynthesisRoute(models.TextChoices):
    MECHANOCHEMICAL = "mechanochemical", "Solid-state mechanochemical (ball milling)"
    MELT_QUENCH = "melt_quench", "Melt-quench"
    SOLUTION_PRECIPITATION = "solution_precipitation", "Solution precipitation"


class MillingMaterial(models.TextChoices):
    """Jar and media materials: what the powder touches decides the contamination."""

    ZIRCONIA = "zirconia", "Zirconia (ZrO2)"
    STAINLESS_STEEL = "stainless_steel", "Stainless steel"
    TUNGSTEN_CARBIDE = "tungsten_carbide", "Tungsten carbide"
    AGATE = "agate", "Agate"
    ALUMINA = "alumina", "Alumina"


class Atmosphere(models.TextChoices):
    ARGON = "argon", "Argon"
    NITROGEN = "nitrogen", "Nitrogen"
    VACUUM = "vacuum", "Vacuum (sealed ampoule)"
    DRY_AIR = "dry_air", "Dry air (dry room)"
    AIR = "air", "Ambient air"


class ProcessEnvironment(models.TextChoices):
    GLOVEBOX = "glovebox", "Glovebox"
    DRY_ROOM = "dry_room", "Dry room"


class ConditioningKind(models.TextChoices):
    DRY_MILLING = "dry_milling", "Dry milling"
    WET_MILLING = "wet_milling", "Wet milling"
    SIEVING = "sieving", "Sieving"


MILLING_KINDS = (ConditioningKind.DRY_MILLING, ConditioningKind.WET_MILLING)


# Plot job kinds of the materials app (their handlers are registered by ``materials.tasks``).
ARRHENIUS_PLOT = "materials_arrhenius_plot"
EXPOSURE_PLOT = "materials_exposure_plot"
MILLING_PLOT = "materials_milling_plot"
CONTROL_CHART = "materials_control_chart"
CONDUCTIVITY_TREND = "materials_conductivity_trend"
BATCH_PLOT_KINDS = (ARRHENIUS_PLOT, EXPOSURE_PLOT)
COMPOSITION_PLOT_KINDS = (MILLING_PLOT, CONTROL_CHART)
