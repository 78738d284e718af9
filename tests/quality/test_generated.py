"""The generated per-model tests (tests/utils/generated.py) for the control-chart flags of the partner API."""

from __future__ import annotations

import itertools

from django.test import TestCase

from assbtrack.quality.models import ControlFlag
from tests.quality.test_spc_charts import BASELINE, Lab, chart
from tests.utils.generated import GeneratedModelTests, ModelCase

_series = itertools.count(1)


def _flags(project, user, n: int) -> list[ControlFlag]:
    """A series of its own (a composition of its own): the 20 baseline batches, then ``n`` batches far below
    them, charted once; each of those is flagged."""
    lab = Lab(project, user)
    composition = f"Li6PS5Cl-{next(_series)}"
    for value in BASELINE:
        lab.batch(value, composition=composition)
    low = [lab.batch(2.2, composition=composition) for _ in range(n)]
    chart(low[-1], user)
    flags = list(ControlFlag.objects.filter(item__in=[batch.item for batch in low]).order_by("pk"))
    assert {flag.item_id for flag in flags} == {batch.item_id for batch in low}
    return flags


class TestControlFlags(GeneratedModelTests, TestCase):
    # A flag is derived (each chart replaces its series' flags), so it keeps no history of its own; the records it
    # names do. It has no web page of its own: the SPC page and the record pages show it.
    case = ModelCase(
        model=ControlFlag, make=lambda project, user: _flags(project, user, 1)[0], api="control-flags", key="id",
        key_of=lambda flag: flag.pk, make_many=_flags, history=False,
    )
