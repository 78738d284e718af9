"""What can be imported: one ``Importer`` per kind of record, registered by the app that owns the records.

An importer names its columns (a key, a header with the unit, whether it is required, a cell parser and an
example), may check rows against each other and the database (``check_rows``, no writes), and imports one
parsed row through the app's own service (``import_row``), so that mass balance, QC and audit apply exactly
as for the forms. ``ValidationError`` keys from a service are mapped back to columns (``error_columns``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.models import HistoricalRecords

from assbtrack.access.models import Project

from . import fields as cell
from .tables import Table, trimmed

Progress = Callable[[int, int], None]  # (rows done, rows in all)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: the spreadsheet row, the column header and the reason."""

    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class ImportRefused(Exception):
    """A service refused one or more rows: nothing was written; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@contextmanager
def history_user(user: User) -> Iterator[None]:
    """Audit rows written in the block name ``user`` (the web request does this for forms; imports run in
    commands and workers, where there is no request)."""
    context = HistoricalRecords.context
    had = hasattr(context, "request")
    previous = getattr(context, "request", None)
    context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if had:
            context.request = previous
        else:
            del context.request


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what the template writes: the name with its unit, e.g. "mass (g)"
    required: bool = False
    parse: Callable[[str], Any] = field(default_factory=lambda: cell.text())
    example: str = ""
    help: str = ""

    def matches(self, header_text: str) -> bool:
        normalised = " ".join(header_text.strip().lower().split())
        return normalised in {self.header.lower(), self.key.lower(), self.key.lower().replace("_", " ")}


@dataclass
class ParsedRow:
    number: int  # the row number the person sees in the spreadsheet (header = row 1 unless comments precede)
    values: dict[str, Any]
    invalid: frozenset[str] = frozenset()  # cells that could not be read (reported already; their value is None)

    def has(self, *keys: str) -> bool:
        """Every one of ``keys`` was read and is not empty."""
        return all(key not in self.invalid and self.values.get(key) is not None for key in keys)


@dataclass
class RowContext:
    """Shared by the rows of one import: what earlier rows created, for rows that refer to them."""

    created: dict[str, Any] = field(default_factory=dict)


class Importer(abc.ABC):
    kind: str = ""
    title: str = ""
    description: str = ""
    columns: Sequence[Column] = ()
    # service error key → column key (keys equal to a column key need no entry)
    error_columns: dict[str, str] = {}
    # the job queue threshold and chunking do not depend on the kind; nothing else is needed here

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def header_of(self, key: str) -> str:
        match = [column.header for column in self.columns if column.key == key]
        return match[0] if match else key

    # -------------------------------------------------------------------- reading and checking

    def match_header(self, table: Table) -> tuple[dict[str, int], list[Problem]]:
        """Which cell of a row holds which column; unknown, repeated and missing required columns are problems."""
        mapping: dict[str, int] = {}
        problems: list[Problem] = []
        for index, text in enumerate(table.header):
            if not text:
                continue
            column = next((column for column in self.columns if column.matches(text)), None)
            if column is None:
                problems.append(Problem(table.header_row, text, "unknown column (see the template for the columns)"))
            elif column.key in mapping:
                problems.append(Problem(table.header_row, text, "this column appears twice"))
            else:
                mapping[column.key] = index
        for column in self.columns:
            if column.required and column.key not in mapping:
                problems.append(Problem(table.header_row, column.header, "this required column is missing"))
        return mapping, problems

    def parse_row(self, cells: list[str], mapping: dict[str, int]) -> tuple[dict[str, Any], dict[str, str]]:
        """The row's values by column key, and the reason for each cell that cannot be read (by column key)."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for column in self.columns:
            index = mapping.get(column.key)
            raw = trimmed(cells[index]) if index is not None and index < len(cells) else ""
            if raw == "":
                if column.required:
                    errors[column.key] = "is required"
                values[column.key] = None
                continue
            try:
                values[column.key] = column.parse(raw)
            except ValueError as error:
                errors[column.key] = str(error)
                values[column.key] = None
        return values, errors

    def check(
        self, table: Table, *, project: Project, user: User, progress: Progress | None = None
    ) -> tuple[list[ParsedRow], list[Problem]]:
        """Every problem of the whole file, without writing anything: header, cells, then ``check_rows``.

        ``check_rows`` sees every row, also those with unreadable cells (``row.invalid``), so that a row's
        other problems are reported in the same pass; only rows without problems are returned for import.
        """
        mapping, problems = self.match_header(table)
        if problems:
            return [], problems
        if not table.rows:
            return [], [Problem(table.header_row + 1, "", "the file has a header but no rows")]
        checked: list[ParsedRow] = []
        total = len(table.rows)
        every = max(1, total // 50)
        for done, (number, cells) in enumerate(table.rows, start=1):
            if len(cells) > len(table.header) and any(cells[len(table.header):]):
                problems.append(Problem(number, "", f"{len(cells)} cells but {len(table.header)} columns"))
            values, errors = self.parse_row(cells, mapping)
            problems.extend(Problem(number, self.header_of(key), reason) for key, reason in errors.items())
            checked.append(ParsedRow(number, values, frozenset(errors)))
            if progress is not None and done % every == 0:
                progress(done, total)
        for number, key, reason in self.check_rows(checked, project=project, user=user):
            problems.append(Problem(number, self.header_of(key) if key else "", reason))
        problems.sort(key=lambda problem: (problem.row, problem.column))
        return [row for row in checked if not row.invalid], problems

    # -------------------------------------------------------------------- importing

    def problems_from(self, number: int, error: ValidationError) -> list[Problem]:
        if not hasattr(error, "error_dict"):
            return [Problem(number, "", message) for message in error.messages]
        found = []
        for key, messages in error.message_dict.items():
            column = self.column_for_error(key)
            label = self.header_of(column) if column else ""
            prefix = "" if column or key in (None, "__all__") else f"{key.replace('_', ' ')}: "
            found.extend(Problem(number, label, f"{prefix}{message}") for message in messages)
        return found

    def import_rows(
        self, rows: list[ParsedRow], user: User, project: Project, *, progress: Progress | None = None
    ) -> list[Any]:
        """Import every row through the app's services in ONE transaction: all rows, or none.

        Each row runs in a savepoint so that, when a service refuses one, the following rows are still tried
        and every refusal is reported; then everything is rolled back (``ImportRefused``).
        """
        created: list[Any] = []
        problems: list[Problem] = []
        context = RowContext()
        total = len(rows)
        every = max(1, total // 50)
        with history_user(user), transaction.atomic():
            for done, row in enumerate(rows, start=1):
                try:
                    with transaction.atomic():
                        created.append(self.import_row(row.values, project=project, user=user, context=context))
                except ValidationError as error:
                    problems.extend(self.problems_from(row.number, error))
                if progress is not None and (done % every == 0 or done == total):
                    progress(done, total)
            if problems:
                transaction.set_rollback(True)
        if problems:
            raise ImportRefused(problems)
        return created

    def check_rows(
        self, rows: list[ParsedRow], *, project: Project, user: User
    ) -> list[tuple[int, str, str]]:
        """Problems that need the database or other rows (unknown codes, duplicates): (row, column key, reason).

        Rows with unreadable cells are included (``row.invalid``); use ``row.has(key, ...)`` before a value.
        """
        return []

    @abc.abstractmethod
    def import_row(self, values: dict[str, Any], *, project: Project, user: User, context: RowContext) -> Any:
        """Create one record from a checked row, through the app's service."""

    def describe(self, record: Any) -> str:
        """How a created record is named in the result (its code, or its name)."""
        item = getattr(record, "item", None)
        return getattr(item, "code", None) or str(record)

    def column_for_error(self, key: str | None) -> str:
        if key in (None, "__all__"):
            return ""
        if any(column.key == key for column in self.columns):
            return key
        return self.error_columns.get(key, self.error_columns.get(key.split(".")[0], ""))


_IMPORTERS: dict[str, Importer] = {}


def register_importer(importer: Importer) -> Importer:
    if not importer.kind:
        raise ValueError("an importer needs a kind")
    _IMPORTERS[importer.kind] = importer
    return importer


def importer_for(kind: str) -> Importer:
    try:
        return _IMPORTERS[kind]
    except KeyError:
        raise KeyError(f"unknown import kind {kind!r}; known: {', '.join(sorted(_IMPORTERS))}") from None


def importers() -> list[Importer]:
    return [importer for _, importer in sorted(_IMPORTERS.items())]


def importer_choices() -> list[tuple[str, str]]:
    return [(importer.kind, importer.title) for importer in importers()]
