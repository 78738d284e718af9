"""CSV downloads streamed row by row, each logged once as an export (who, what, filter, rows, time)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.http import HttpRequest, StreamingHttpResponse

from assbtrack.access.models import ExportLog
from assbtrack.access.services import export_log_start, export_logged
from assbtrack.domain.spreadsheet import csv_writer

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class Echo:
    """A file that hands back what is written to it: the csv module writes one line, the stream yields it."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(header: list[str], rows: Iterable[Iterable]) -> Iterator[tuple[str, int]]:
    """The header line (no row) then one line per row, as ``(text, rows)`` for ``export_logged``."""
    writer = csv_writer(Echo())
    yield writer.writerow(header), 0
    for row in rows:
        yield writer.writerow(row), 1


def export_log_for(request: HttpRequest, export_format: str) -> ExportLog:
    """The export-log row of a download asked for by ``request`` (its path and query string)."""
    return export_log_start(user=request.user, endpoint=request.path, query=request.META.get("QUERY_STRING", ""),
                            export_format=export_format)


def streamed_download(request: HttpRequest, chunks: Iterable[tuple[str, int]], *, filename: str,
                      export_format: str = "csv", content_type: str = CSV_CONTENT_TYPE) -> StreamingHttpResponse:
    """A download of ``chunks`` streamed as they come (memory does not grow with the rows), logged once."""
    log = export_log_for(request, export_format)
    response = StreamingHttpResponse(export_logged(chunks, log=log), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_download(request: HttpRequest, filename: str, header: list[str], rows: Iterable[Iterable]
                 ) -> StreamingHttpResponse:
    """A CSV table downloaded row by row, logged as one export."""
    return streamed_download(request, csv_chunks(header, rows), filename=filename)
