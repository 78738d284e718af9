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
