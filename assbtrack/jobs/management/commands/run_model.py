"""``manage.py run_model KIND --input FILE.json`` (or ``--input -``): one model, result as JSON on stdout.

Exit status: 0 with the result; 2 with a message naming the field when the input is bad.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from assbtrack.domain.inputs import ModelInputError
from assbtrack.domain.registry import MODELS, model_spec

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = "Run one model of the catalogue on a JSON input and print its result as JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=sorted(MODELS), help="the model to run")
        parser.add_argument("--input", required=True, help="a JSON file, or - for standard input")

    def handle(self, *args, kind: str, input: str, **options) -> None:
        try:
            text = sys.stdin.read() if input == "-" else open(input, encoding="utf-8").read()
        except OSError as error:
            raise CommandError(f"--input: cannot read {input}: {error.strerror}", returncode=EXIT_BAD_INPUT) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"--input: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})",
                returncode=EXIT_BAD_INPUT,
            ) from None
        try:
            result = model_spec(kind).load()(data)
        except ModelInputError as error:
            raise CommandError(f"{error.field}: {error.reason}", returncode=EXIT_BAD_INPUT) from None
        self.stdout.write(json.dumps(result, indent=2, sort_keys=True))
