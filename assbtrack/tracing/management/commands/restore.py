"""``manage.py restore FILE``: replace the database and the media files with an archive made by ``backup``.

Refused while a web server or a worker runs (their marks in ASSBTRACK_RUN_DIR, and a ping on the broker: see
``assbtrack/running.py``), and when any member of the archive does not match its checksum.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from assbtrack.celery import app
from assbtrack.running import processes_marked, workers_answering
from assbtrack.tracing.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = ("Replace the database and MEDIA_ROOT with the backup archive FILE, after checking its checksums. "
            "Refused while the web server or a worker runs: stop them first.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def _refuse_while_running(self) -> None:
        running = [entry.what for entry in processes_marked()]
        try:
            running += [entry.what for entry in workers_answering(app)]
        except ConnectionError as error:
            raise CommandError(f"not restored: {error}, so it cannot tell whether workers run; start Redis "
                               "(the workers stay stopped) and try again") from None
        if running:
            raise CommandError("not restored: stop these first, they could write to what is replaced: "
                               + "; ".join(running))

    def handle(self, *args, file: Path, yes: bool, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such backup file")
        self._refuse_while_running()

        def confirm(manifest: dict) -> bool:
            if yes:
                return True
            answer = input(f"Replace database {connection.settings_dict['NAME']} and {settings.MEDIA_ROOT} with the "
                           f"backup of {manifest['created_at']} ({len(manifest['files']) - 1} media files)? [y/N] ")
            return answer.strip().lower() == "y"

        try:
            manifest = backup_restore(file, confirm=confirm)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"restored the database and {len(manifest['files']) - 1} media files from {file} "
                          f"(backup of {manifest['created_at']}, checksums verified)")
