"""Every cell assbtrack writes to a CSV or an XLSX file passes through here, so that no exported text runs as a
formula when the file is opened in a spreadsheet (CSV / formula injection).

The rule is OWASP's: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading ``'``, which spreadsheets read as "this is text". Plain numbers (``-1.5``, ``+3e-4``) are left as
they are, so negative values and exponents still arrive as numbers. Numbers that are not text (int, float,
Decimal) are never touched. Readers (the bulk importer) keep the ``'`` and the tab: what the user sent is stored.

``csv_writer`` wraps ``csv.writer``; ``xlsx_append`` is the row writer of an openpyxl sheet. Nothing else in the
project may call ``csv.writer`` or ``sheet.append`` (a test greps for them).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
DEFUSING_PREFIX = "'"


def defuse(value: Any) -> Any:
    """The value as it may be written to a spreadsheet cell: text that a spreadsheet would run gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return DEFUSING_PREFIX + value
    return value


def defused(row: Iterable[Any]) -> list[Any]:
    return [defuse(value) for value in row]


class SafeCsvWriter:
    """``csv.writer`` with every cell defused; ``writerow`` returns what the file's ``write`` returned (so a
    streaming echo buffer still yields the line)."""

    def __init__(self, handle, dialect="excel", **options):
        self._writer = csv.writer(handle, dialect, **options)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(defused(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self._writer.writerow(defused(row))


def csv_writer(handle, dialect="excel", **options) -> SafeCsvWriter:
    return SafeCsvWriter(handle, dialect, **options)


def xlsx_append(sheet, row: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet; a defused cell is stored as text (openpyxl would otherwise store
    any string that begins with ``=`` as a formula)."""
    sheet.append(defused(row))
