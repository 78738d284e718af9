"""The demo chain as far as films: realistic films and the sheets the cells demo builds on."""

from __future__ import annotations

import pytest

from assbtrack.tracing import demo
from assbtrack.tracing.choices import ItemKind, ItemStatus
from electrodes.models import Sheet

pytestmark = pytest.mark.django_db


def test_demo_films_and_sheets(monkeypatch):
    monkeypatch.setattr(demo, "CHAIN_APPS", ("materials", "electrodes"))
    monkeypatch.setattr(demo, "LATE_DEMOS", ())
    context = demo.demo_load()
    items = context.items
    cathode, separator, anode = items["cathode_film"], items["separator_film"], items["anode_film"]
    assert cathode.item.kind == ItemKind.CATHODE_FILM and cathode.process == "dry"
    assert items["slurry_cathode_film"].process == "slurry"
    assert 3.0 <= cathode.areal_capacity_mah_per_cm2 <= 6.0
    assert cathode.porosity == pytest.approx(0.12, abs=1e-3)
    assert cathode.binder_fraction == pytest.approx(0.005, abs=1e-4)
    assert items["slurry_cathode_film"].porosity > cathode.porosity
    assert 25.0 <= separator.thickness_um <= 35.0
    assert 0 < separator.conductivity_retention < 1
    assert anode.item.kind == ItemKind.ANODE_FILM
    # N/P near 1.1 against the main cathode
    assert anode.areal_capacity_mah_per_cm2 / cathode.areal_capacity_mah_per_cm2 == pytest.approx(1.1, abs=0.15)
    for key in ("cathode_sheets", "separator_sheets", "anode_sheets"):
        sheets = items[key]
        assert len(sheets) >= 4 and all(isinstance(sheet, Sheet) for sheet in sheets)
        assert {sheet.item.status for sheet in sheets} == {ItemStatus.RELEASED}
    assert any(line.startswith("electrodes:") for line in context.log)
