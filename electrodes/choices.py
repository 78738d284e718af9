"""Choices of the electrodes app: how a film was made, what mixed it, what kind of pass rolled it."""

from django.db import models

from assbtrack.tracing.choices import ItemKind

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
