"""``manage.py restore FILE``: replace the database with a backup made by ``manage.py backup``."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from .backup import pg_environment


class Command(BaseCommand):
    help = "Replace the whole database with the backup in FILE. Stop the web server and workers first."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, file: Path, yes: bool, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such backup file")
        db = connection.settings_dict
        if not yes and input(f"Replace database {db['NAME']} with {file}? [y/N] ").strip().lower() != "y":
            raise CommandError("not restored")
        connection.close()
        if connection.vendor == "sqlite":
            try:
                source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
                source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as error:
                raise CommandError(f"{file} is not an SQLite backup: {error}") from None
            target = sqlite3.connect(db["NAME"])
            with target:
                source.backup(target)
            target.close()
            source.close()
        elif connection.vendor == "postgresql":
            env, args = pg_environment(db)
            result = subprocess.run(
                ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args,
                 "-d", db["NAME"], str(file)],
                env=env, capture_output=True, text=True,
            )
            if result.returncode:
                raise CommandError(f"pg_restore failed: {result.stderr.strip()[:2000]}")
        else:
            raise CommandError(f"no restore method for {connection.vendor}")
        self.stdout.write(f"database restored from {file}")
