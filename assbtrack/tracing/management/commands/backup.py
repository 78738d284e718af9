"""``manage.py backup FILE``: a consistent copy of the whole database (SQLite online backup, or pg_dump)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


def pg_environment(settings_dict: dict) -> tuple[dict, list[str]]:
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    args = ["-h", settings_dict.get("HOST") or "127.0.0.1", "-p", str(settings_dict.get("PORT") or 5432)]
    if settings_dict.get("USER"):
        args += ["-U", settings_dict["USER"]]
    return env, args


class Command(BaseCommand):
    help = "Write a backup of the database to FILE (SQLite: a database file; PostgreSQL: a pg_dump archive)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        file.parent.mkdir(parents=True, exist_ok=True)
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            source = sqlite3.connect(db["NAME"])
            target = sqlite3.connect(file)
            with target:
                source.backup(target)  # consistent even while the application writes
            target.close()
            source.close()
        elif connection.vendor == "postgresql":
            env, args = pg_environment(db)
            result = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "-f", str(file), *args, db["NAME"]],
                env=env, capture_output=True, text=True,
            )
            if result.returncode:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            raise CommandError(f"no backup method for {connection.vendor}")
        self.stdout.write(f"backup written to {file} ({file.stat().st_size} bytes)")
