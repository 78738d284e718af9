"""Choices of the modules app: one place for every list a form, the admin or the API offers."""

from django.db import models


class PlateMaterial(models.TextChoices):
    STEEL = "steel", "Structural steel"
    STAINLESS_STEEL = "stainless_steel", "Stainless steel"
    ALUMINIUM = "aluminium", "Aluminium alloy"
    TITANIUM = "titanium", "Titanium alloy"
    OTHER = "other", "Other"


class GasketMaterial(models.TextChoices):
    NONE = "none", "No gasket"
    SILICONE = "silicone", "Silicone rubber"
    EPDM = "epdm", "EPDM"
    FKM = "fkm", "FKM (Viton)"
    POLYURETHANE = "polyurethane", "Polyurethane"
    PTFE = "ptfe", "PTFE"
    OTHER = "other", "Other"


class PressureReadingKind(models.TextChoices):
    SET = "set", "Applied (set point)"
    MEASURED = "measured", "Measured"


class ScanFormat(models.TextChoices):
    PNG = "PNG", "PNG"
    JPEG = "JPEG", "JPEG"
    TIFF = "TIFF", "TIFF"


SCAN_CONTENT_TYPES = {
    ScanFormat.PNG: "image/png",
    ScanFormat.JPEG: "image/jpeg",
    ScanFormat.TIFF: "image/tiff",
}
SCAN_EXTENSIONS = {ScanFormat.PNG: ".png", ScanFormat.JPEG: ".jpg", ScanFormat.TIFF: ".tif"}


# Limits of what a module, a film scan and a model run may hold.
MAX_SCAN_BYTES = 25 * 1024 * 1024
MAX_CELLS_PER_MODULE = 2000
MAX_SYSTEM_SIZES = 12

# Job kinds of the modules app (their handlers are registered by ``modules.tasks``).
JOB_PRESSURE_SCAN = "pressure_scan_map"
JOB_MODULE_EFFICIENCY = "module_efficiency_for_module"
JOB_EFFICIENCY_SWEEP_PLOT = "module_efficiency_sweep_plot"
JOB_PRESSURE_MAPS_SIDE_BY_SIDE = "pressure_maps_side_by_side"
