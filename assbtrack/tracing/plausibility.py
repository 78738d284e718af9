"""Values that are possible but implausible: the record is written only once someone confirms them.

The refusals (a number no record can have) live in ``assbtrack.tracing.values``; this is their gentler
half. A service that writes a record asks the rules here; when one applies and the caller has not
confirmed, it raises ``ConfirmationNeeded`` before writing anything, naming the field ``confirm_warnings``
with each warning in the domain's words. A form that offers the checkbox ("I confirm …") has a field of
that name (``ConfirmWarningsField``), so the warnings appear beside it; submitted again with the box
ticked, the service writes the record and a ``ConfirmedWarning`` row per warning, shown on the record's
page, in the admin and in the API.

The rules:
- N/P below 1 with a lithium-metal or graphite anode: the anode holds less than the cathode gives it, so
  lithium plates (graphite) or the reservoir runs dry (lithium metal) within the first cycles;
- a dense film (every film of a solid-state cell is pressed dense) with a porosity above 40 %;
- an instrument used while overdue for calibration, or never calibrated
  (``assbtrack.instruments.selectors.calibration_overdue_warning``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError

CONFIRM_FIELD = "confirm_warnings"
NP_RATIO_PLAUSIBLE_MIN = 1.0
NP_RATIO_CHECKED_ANODES = ("li_metal", "graphite")
DENSE_FILM_POROSITY_PLAUSIBLE_MAX = 0.40


@dataclass(frozen=True)
class Implausible:
    code: str
    field: str
    message: str


class ConfirmationNeeded(ValidationError):
    """Raised by a service, nothing written: ``warnings`` must be confirmed (``confirm_warnings=True``)."""

    def __init__(self, warnings: list[Implausible]):
        super().__init__({CONFIRM_FIELD: [f"{warning.message}; tick the box to confirm it" for warning in warnings]})
        self.warnings = warnings


def np_ratio_warning(np_ratio: float, anode_type: str, field: str = "layers") -> Implausible | None:
    if anode_type in NP_RATIO_CHECKED_ANODES and np_ratio < NP_RATIO_PLAUSIBLE_MIN:
        anode = "lithium-metal" if anode_type == "li_metal" else "graphite"
        return Implausible("np_ratio_below_1", field,
                           f"N/P is {np_ratio:.2f}, below 1 for a {anode} anode: the anode holds less than the "
                           "cathode delivers")
    return None


def film_porosity_warning(porosity: float, film_code: str, field: str = "thickness_um") -> Implausible | None:
    if porosity > DENSE_FILM_POROSITY_PLAUSIBLE_MAX:
        return Implausible("porosity_above_40_percent", field,
                           f"{film_code} would have a porosity of {porosity:.1%}, above "
                           f"{DENSE_FILM_POROSITY_PLAUSIBLE_MAX:.0%} for a dense film: check the thickness and the "
                           "mass")
    return None


def warnings_confirm(warnings: Iterable[Implausible | None], *, confirmed: bool) -> list[Implausible]:
    """The warnings that apply; ``ConfirmationNeeded`` when there are some and nobody confirmed them."""
    found = [warning for warning in warnings if warning is not None]
    if found and confirmed is not True:
        raise ConfirmationNeeded(found)
    return found


class ConfirmWarningsField(forms.BooleanField):
    """The "I confirm …" box: hidden until a service asked for a confirmation (see ``_form.html``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "I confirm these values, although they are unusual")
        super().__init__(**kwargs)
