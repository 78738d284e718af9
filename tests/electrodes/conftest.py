"""Fixtures of the electrodes tests: stocked lots and a batch shared by many films, so lists grow fast."""

from __future__ import annotations

import pytest

from assbtrack.tracing.choices import ItemKind
from tests.utils.factories_electrodes import make_component_sources, make_film


@pytest.fixture
def cathode_sources(project, tech):
    """Lots of 500 g and a 475 g SSE batch in the cathode recipe's order: NCM811, Li6PS5Cl, carbon, PTFE."""
    return make_component_sources(project, tech, ItemKind.CATHODE_FILM, stock_g=500.0)


@pytest.fixture
def add_films(project, tech, cathode_sources):
    """``add_films(n)`` makes n more cathode films (with results) from the shared stock."""
    made = []

    def add(n: int, **overrides):
        for _ in range(n):
            made.append(make_film(project, tech, ItemKind.CATHODE_FILM, components=cathode_sources, **overrides))
        return made

    return add
