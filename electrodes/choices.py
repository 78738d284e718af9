"""Choices of the electrodes app: how a film was made, what mixed it, what kind of pass rolled it."""

from django.db import models

from assbtrack.tracing.choices import ItemKind, LineageRole
from materials.choices import MaterialRole

FILM_KINDS = (ItemKind.CATHODE_FILM, ItemKind.ANODE_FILM, ItemKind.SEPARATOR_FILM)
FILM_KIND_CHOICES = [(kind.value, kind.label) for kind in FILM_KINDS]


class FilmProcess(models.TextChoices):
    DRY = "dry", "Dry (PTFE fibrillation)"
    SLURRY = "slurry", "Slurry (solvent, binder)"


class MixerType(models.TextChoices):
    PLANETARY_CENTRIFUGAL = "planetary_centrifugal", "Planetary centrifugal mixer"
    HIGH_SHEAR = "high_shear", "High-shear mixer"
    MORTAR = "mortar", "Mortar and pestle"
    OTHER = "other", "Other"


class PassKind(models.TextChoices):
    SHEAR = "shear", "Shearing (fibrillation)"
    CALENDER = "calender", "Calendering"


# What a lot's role becomes on the lineage edge into a film. Precursors and foils are not film
# ingredients: a precursor goes into an SSE batch, a foil into a cell.
LOT_ROLE_TO_EDGE_ROLE = {
    MaterialRole.ACTIVE_MATERIAL: LineageRole.ACTIVE_MATERIAL,
    MaterialRole.ELECTROLYTE: LineageRole.ELECTROLYTE,
    MaterialRole.CARBON: LineageRole.CONDUCTIVE_ADDITIVE,
    MaterialRole.BINDER: LineageRole.BINDER,
    MaterialRole.OTHER: LineageRole.OTHER,
}
# A film may weigh a little more than its weighed components only by balance error, never by more.
MASS_BALANCE_TOLERANCE = 1e-3
SHEET_COLUMNS = 4
MAX_SHEETS_PER_CUT = 200
MAX_COMPONENTS = 20
