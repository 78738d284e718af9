"""``manage.py bench [--json FILE] [--scale-label TEXT] [--worker start|running|skip]``: the benchmark table.

Runs on a database holding a synthetic lab (``manage.py synth_lab --scale N``); ``make bench`` builds one
in var/ and runs this. Each row: a workload, its figures, a reference measured in the same run, the ratio,
the budget and whether it is met. Run it with DEBUG off: Django keeps every query in memory under DEBUG.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Time assbtrack's workloads on a synthetic lab and print one table (optionally also as JSON)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", dest="json_path", help="also write the table as JSON to this file")
        parser.add_argument("--scale-label", default="", help="how the lab was built, e.g. 'synth_lab --scale 100'")
        parser.add_argument("--worker", choices=("start", "running", "skip"), default="start",
                            help="start a Celery worker for the job round trip (default), use a running one "
                                 "(on this broker and database), or skip that row")
        parser.add_argument("--only", action="append", default=[],
                            help="run only this workload (repeatable): lineage, api, export, admin, sweep, plot, job")
        parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
        parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
        parser.add_argument("--explain", action="store_true",
                            help="print PostgreSQL's plans of the lineage walks and API list pages, then stop")

    def handle(self, *args, json_path, scale_label, worker, only, quick, markdown, explain, **options) -> None:
        from bench import report, runner
        from bench.workloads import WORKLOADS, BenchContext

        known = [name for name, _ in WORKLOADS]
        unknown = sorted(set(only) - set(known))
        if unknown:
            raise CommandError(f"--only: unknown workload(s) {', '.join(unknown)}; known: {', '.join(known)}")
        users = runner.lab_users()
        if not users:
            raise CommandError("this database holds no synthetic lab: run manage.py synth_lab --scale N first")
        if settings.DEBUG:
            self.stderr.write("warning: DEBUG is on, so Django keeps every query in memory; "
                              "run with DEBUG=0 for honest memory figures")
        verbose = options["verbosity"] > 1
        ctx = BenchContext(users=users, worker=worker, quick=quick,
                           log=lambda line: self.stderr.write(line) if verbose else None)
        if explain:
            from bench.explain import explain as print_plans

            print_plans(ctx, self.stdout.write)
            return
        counts = runner.lab_counts()
        database = connection.vendor
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                database = f"postgresql {cursor.fetchone()[0].split()[0]}"
        elif connection.vendor == "sqlite":
            database = f"sqlite {connection.Database.sqlite_version}"
        rows = runner.run(ctx, only or None)
        label = scale_label or "unlabelled lab"
        self.stdout.write(f"assbtrack benchmark — {label}; {database}; {counts['items']:,} items, "
                          f"{counts['edges']:,} lineage edges")
        self.stdout.write(report.table(rows, markdown=markdown))
        if json_path:
            report.write_json(json_path, report.document(rows, scale_label=label, database=database, counts=counts))
            self.stdout.write(f"written to {json_path}")
