"""``manage.py backup FILE``: one archive with the database and every media file, with SHA-256 checksums."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assbtrack.tracing.backups import BackupError, backup_write


class Command(BaseCommand):
    help = ("Write FILE (.tar.gz): the database (SQLite online backup, or pg_dump), every file under MEDIA_ROOT "
            "(cycler files, scans, certificates, job outputs) and a manifest of SHA-256 checksums.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        try:
            summary = backup_write(file)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"backup written to {summary.path} ({summary.size_bytes} bytes): the database and "
            f"{summary.media_count} media files ({summary.media_bytes} bytes)"
        )
