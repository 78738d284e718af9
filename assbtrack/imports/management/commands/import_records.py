"""``manage.py import_records KIND FILE --project CODE --user USERNAME``: the web import, from a shell.

The file is checked as a whole; on any problem the report (row, column, reason) is printed to stderr,
nothing is written and the exit status is 2. A clean file is imported in one transaction through the
same services as the forms, and recorded as an import like an upload (visible on the imports page).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assbtrack.access.models import Project
from assbtrack.imports.models import ImportStatus
from assbtrack.imports.registry import importers
from assbtrack.imports.services import import_apply, import_check, import_upload

EXIT_PROBLEMS = 2


class Command(BaseCommand):
    help = "Import records of KIND from a CSV or XLSX FILE (all rows or nothing; exit 2 with a report on problems)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", help="what the rows are: " + ", ".join(i.kind for i in importers()))
        parser.add_argument("file", help="a .csv or .xlsx file (see the template of the kind)")
        parser.add_argument("--project", required=True, help="code of the project the records belong to")
        parser.add_argument("--user", required=True, help="user name recorded as having made the records")
        parser.add_argument("--check", action="store_true", help="check only; write nothing")

    def _report(self, run) -> None:
        self.stderr.write(f"{run.file_name}: {run.problem_count} problems; nothing was imported.")
        for problem in run.problems:
            where = f"row {problem['row']}" if problem["row"] else "file"
            column = f", {problem['column']}" if problem["column"] else ""
            self.stderr.write(f"  {where}{column}: {problem['reason']}")
        if run.problem_count > len(run.problems):
            self.stderr.write(f"  … and {run.problem_count - len(run.problems)} more")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        project = Project.objects.filter(code=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with code {options['project']!r}")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        try:
            run = import_upload(kind=options["kind"], project=project, user=user, file_name=path.name,
                                content=path.read_bytes())
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from None
        run = import_check(run=run)
        if run.status != ImportStatus.CHECKED:
            self._report(run)
            sys.exit(EXIT_PROBLEMS)
        if options["check"]:
            self.stdout.write(f"{path.name}: {run.row_count} rows, no problems (import {run.pk}, not imported).")
            return
        run = import_apply(run=run, user=user)
        if run.status != ImportStatus.IMPORTED:
            self._report(run)
            sys.exit(EXIT_PROBLEMS)
        labels = [created["label"] for created in run.created_labels[:20]]
        more = " …" if run.created_count > len(labels) else ""
        self.stdout.write(
            f"Imported {run.created_count} {options['kind']} records from {path.name} into {project.code} "
            f"(import {run.pk}): {', '.join(labels)}{more}"
        )
