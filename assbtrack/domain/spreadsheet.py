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

import codecs
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


# Longest first: the UTF-32 little-endian mark begins with the UTF-16 one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


class TextDecodeError(ValueError):
    """The bytes of an uploaded file are not text: ``kind`` is ``mark`` (a byte-order mark the rest does not
    match), ``binary`` (a NUL byte near the start) or ``encoding`` (not UTF-8, with no fallback); ``reason``
    says so to the person who sent it."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind, self.reason = kind, reason


def text_decoded(content: bytes, *, binary_probe_bytes: int = 4096, fallback: str | None = "cp1252") -> str:
    """The text of an uploaded CSV file, read the one way every reader of uploads reads it.

    By its byte-order mark (Excel's "Unicode text" is UTF-16 with one), else UTF-8, else ``fallback``
    (Windows-1252: Excel's "CSV (comma delimited)" and cycler software on Windows write the ANSI code page);
    a NUL byte in the first ``binary_probe_bytes`` means the file is not text (or UTF-16 without its mark).
    """
    for mark, encoding in BYTE_ORDER_MARKS:
        if content.startswith(mark):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError as error:
                raise TextDecodeError(
                    "mark", f"the file says it is {encoding.upper().replace('-SIG', '')} but byte {error.start} "
                    "is not; save it again as CSV UTF-8"
                ) from None
    if b"\x00" in content[:binary_probe_bytes]:
        raise TextDecodeError("binary", "the file is not text (is it a CSV file? UTF-16 files need their "
                                        "byte-order mark)")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        if fallback is None:
            raise TextDecodeError("encoding", "the file is not UTF-8 text") from None
        return content.decode(fallback, errors="replace")
