"""``manage.py import_cycling --cell CODE FILE [FILE…]``: the cycler-data upload, from a shell.

The files are one test, joined in the order given, read by the same service as the web upload and the
API (``cycling_test_create`` then ``cycling_test_import``), here in the foreground: the command waits
for the import and exits 0 when the cycles are stored, 2 with the reason when the file is refused.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from cells.cycler_files import CAPACITY_UNITS, CURRENT_UNITS, CYCLERS, TIME_UNITS
from cells.models import Cell
from cells.services import CyclingImportError, cycling_test_create, cycling_test_import

EXIT_REFUSED = 2


class Command(BaseCommand):
    help = "Import a cell's cycler file(s) as one cycling test and wait (exit 2 with the reason when refused)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="the cycler's file(s) of one test, in order")
        parser.add_argument("--cell", required=True, help="code of the cell that was cycled")
        parser.add_argument("--user", help="user name recorded as having uploaded (default: the first superuser)")
        parser.add_argument("--cycler", help=f"which cycler wrote the file when its ending does not say: "
                            f"{', '.join(CYCLERS)}; also recorded as the cycler's name")
        parser.add_argument("--current-unit", choices=list(CURRENT_UNITS), help="unit of a CSV's current column")
        parser.add_argument("--capacity-unit", choices=list(CAPACITY_UNITS), help="unit of a CSV's capacity columns")
        parser.add_argument("--time-unit", choices=list(TIME_UNITS), help="unit of a CSV's time column")
        parser.add_argument("--skip-rows", type=int, default=0, help="lines above the CSV's column names")
        parser.add_argument("--column", action="append", default=[], metavar="ROLE=NAME",
                            help="a CSV column for a role (cycle, voltage_v, current_ma, time_s, "
                            "charge_capacity_mah, discharge_capacity_mah); default: recognised by name")
        parser.add_argument("--formation-cycles", type=int, help="complete cycles at the start that are formation")
        parser.add_argument("--reference-cycle", type=int, help="the cycle retention is referred to")
        parser.add_argument("--diagnostic-cycles", help="cycle numbers left out of retention, e.g. 1,50,100")
        parser.add_argument("--units-checked", action="store_true",
                            help="keep capacities far from the cell's nominal capacity (units verified)")
        parser.add_argument("--temperature-c", type=float, default=25.0, help="test temperature (°C)")

    def _refuse(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(EXIT_REFUSED)

    def handle(self, *args, **options) -> None:
        paths = [Path(name) for name in options["files"]]
        for path in paths:
            if not path.is_file():
                self._refuse(f"{path}: no such file")
        cell = Cell.objects.select_related("item").filter(item__code=options["cell"]).first()
        if cell is None:
            raise CommandError(f"no cell with code {options['cell']!r}")
        users = User.objects.filter(is_active=True)
        user = (users.filter(username=options["user"]) if options["user"] else
                users.filter(is_superuser=True).order_by("pk")).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}" if options["user"] else
                               "no active superuser: name the uploader with --user")
        column_map = {}
        for pair in options["column"]:
            role, _, name = pair.partition("=")
            column_map[role.strip()] = name.strip()
        import_options = {
            "current_unit": options["current_unit"], "capacity_unit": options["capacity_unit"],
            "time_unit": options["time_unit"], "skip_rows": options["skip_rows"],
            "formation_cycles": options["formation_cycles"], "reference_cycle": options["reference_cycle"],
            "diagnostic_cycles": options["diagnostic_cycles"], "units_checked": options["units_checked"],
        }
        cycler = (options["cycler"] or "").strip()
        if cycler.lower() in CYCLERS:
            import_options["cycler"] = cycler.lower()
        with contextlib.ExitStack() as stack:
            files = [File(stack.enter_context(path.open("rb")), name=path.name) for path in paths]
            try:
                test = cycling_test_create(
                    cell=cell, user=user, data_file=files[0], more_files=files[1:], cycler=cycler or "command line",
                    temperature_c=options["temperature_c"], column_map=column_map, import_options=import_options,
                    submit=False,
                )
            except ValidationError as error:
                self._refuse("; ".join(f"{field}: {' '.join(texts)}" for field, texts in error.message_dict.items()))
        try:
            test = cycling_test_import(test=test, progress=lambda percent, message: self.stderr.write(
                f"{percent:3d} % {message}"))
        except CyclingImportError as error:
            self._refuse(" ".join(error.messages))
        self.stdout.write(f"{test.file_name}: {test.cycle_count} cycles imported into {cell.item.code} "
                          f"(test {test.pk}); first discharge {test.first_discharge_capacity_mah} mAh")
