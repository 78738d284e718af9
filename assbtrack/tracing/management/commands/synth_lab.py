"""``manage.py synth_lab --scale N [--seed S]``: build a synthetic lab for the benchmark (see bench/synth.py).

``--scale 1`` is about 10⁴ traced items, ``--scale 100`` about 10⁶ items and two million lineage edges.
Use a database of its own (``make bench`` does): the lab's users have a published password.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Build a synthetic lab (lots → batches → films → sheets → cells → modules) through the bulk services."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scale", type=float, required=True,
                            help="1 ≈ 10⁴ items, 100 ≈ 10⁶ items; fractions give smaller labs (0.01 ≈ 100 items)")
        parser.add_argument("--seed", type=int, default=1, help="the same scale and seed give the same lab")
        parser.add_argument("--reuse", action="store_true",
                            help="do nothing if this database holds the same lab already (make bench uses it)")
        parser.add_argument("--with-history", action="store_true",
                            help="also write the creation rows of the audit history (twice the rows, slower)")

    def handle(self, *args, scale: float, seed: int, with_history: bool, reuse: bool, **options) -> None:
        from bench.synth import existing_lab, lab_description, synth_lab

        if not 0 < scale <= 10_000:
            raise CommandError("--scale must be greater than 0 and at most 10000")
        if reuse and existing_lab() is not None:
            if existing_lab() != lab_description(scale, seed):
                raise CommandError(f"this database holds another synthetic lab ({existing_lab()}); "
                                   "start from a fresh database (make bench BENCH_FRESH=1)")
            self.stdout.write(f"reusing the synthetic lab in this database ({existing_lab()})")
            return
        try:
            result = synth_lab(scale=scale, seed=seed, history=with_history,
                               log=lambda line: self.stdout.write(line) if options["verbosity"] > 1 else None)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"synthetic lab at scale {scale:g} (seed {seed}): {result.items:,} items, {result.edges:,} lineage edges, "
            f"{result.records:,} domain records in {result.seconds:,.1f} s"
        )
