"""Text typed into the modules pages, turned into the typed values the services take.

The forms and views call these; the services (``modules.services``) never parse text. Each problem is
a ``ValidationError`` keyed by the form field it came from.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from .choices import MAX_CELLS_PER_MODULE

ARRANGEMENT = re.compile(r"\s*(?:(\d{1,4})\s*[sS])?\s*(?:(\d{1,4})\s*[pP])?\s*")


def parse_arrangement(text: str) -> tuple[int, int]:
    """ "4S2P" → (4, 2); also "4s2p", "4S" (one string) and "2P" (cells side by side)."""
    match = ARRANGEMENT.fullmatch(text or "")
    if not match or not (match.group(1) or match.group(2)):
        raise ValidationError({"arrangement": "write it as series and parallel counts, e.g. 4S2P"})
    series, parallel = int(match.group(1) or 1), int(match.group(2) or 1)
    if series < 1 or parallel < 1:
        raise ValidationError({"arrangement": "series and parallel counts must be at least 1"})
    if series * parallel > MAX_CELLS_PER_MODULE:
        raise ValidationError({"arrangement": f"at most {MAX_CELLS_PER_MODULE} cells per module"})
    return series, parallel


def system_sizes_parse(text: str | None) -> list[float] | None:
    """ "1, 10, 20" (or "1; 10; 20") → [1.0, 10.0, 20.0]; blank → None, i.e. the default sizes of Figure 5.

    Only the reading of the numbers happens here; their range and count are the services' check.
    """
    if text is None or not str(text).strip():
        return None
    sizes = []
    for part in str(text).replace(";", ",").split(","):
        try:
            sizes.append(float(part.strip()))
        except ValueError:
            raise ValidationError({"system_sizes_kwh": f"{part.strip()!r} is not a number"}) from None
    return sizes


def two_point_calibration(
    *, low_intensity: float, low_pressure_mpa: float, high_intensity: float, high_pressure_mpa: float
) -> dict[str, Any]:
    """The film calibration of a scan from its two reference points, as ``pressure_scan_create`` takes it."""
    return {
        "low": {"intensity": low_intensity, "pressure_mpa": low_pressure_mpa},
        "high": {"intensity": high_intensity, "pressure_mpa": high_pressure_mpa},
    }
