"""Numbers as people read them: rounded to the digits a lab instrument gives, with the unit beside them.

Used by the admin's change lists (every float column of every model admin, see ``admin_site``) and by
the pages' template filters, so a conductivity reads ``3.21 mS/cm`` everywhere rather than
``3.2141592653589793``.
"""

from __future__ import annotations

import math
import re

SIGNIFICANT_DIGITS = 3
# the unit a verbose name ends with: "ionic conductivity (mS/cm)" → "mS/cm"; "(–)" is dimensionless
_UNIT_AT_END = re.compile(r"\(([^()\s]+)\)\s*$")
_NO_UNIT = {"–", "-", "—", "fraction", "0–1", "0-1"}  # dimensionless: no unit to write beside the number


def unit_of(verbose_name: str) -> str:
    """The unit in brackets at the end of a field's label, or "" (none, dimensionless, or words in brackets)."""
    match = _UNIT_AT_END.search(str(verbose_name))
    if match is None or match.group(1) in _NO_UNIT:
        return ""
    return match.group(1)


def measured_text(value, unit: str = "", significant: int = SIGNIFICANT_DIGITS) -> str:
    """``value`` with ``significant`` digits (never fewer than its whole digits, never in exponent form) and
    its unit: 3.2141 → "3.21 mS/cm", 25.0 → "25 °C", 1234.4 → "1234 g", 0.000012 → "0.000012"; "" for none."""
    if value is None or value == "":
        return ""
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if number == 0:
        text = "0"
    else:
        decimals = max(0, significant - 1 - math.floor(math.log10(abs(number))))
        text = f"{number:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text in ("-0", ""):
            text = "0"
    return f"{text} {unit}" if unit else text
