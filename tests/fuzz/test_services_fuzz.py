"""Hypothesis drives the services directly: any argument either writes a whole record or is refused with a
ValidationError that names a field, and a refusal leaves the database exactly as it was."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from assbtrack.tracing.services import edge_create, item_create
from cells.services import cell_densification_record
from electrodes.services import film_pass_add
from materials.services import batch_create, lot_create, measurement_add
from tests.fuzz.test_forms_fuzz import assert_mass_balance, snapshot
from tests.utils.factories import ProjectFactory, technician
from tests.utils.factories_cells import make_cell
from tests.utils.factories_electrodes import make_film
from tests.utils.factories_materials import make_batch, make_lot

FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, -1, 1e-320, 1e308, float("nan"), float("inf"), "12", "abc", None, "", "1e400"]),
)
texts = st.one_of(st.text(max_size=50), st.integers(min_value=200, max_value=50_000).map(lambda n: "é" * n))


class ServicesFuzz(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.project, cls.other_project = ProjectFactory(), ProjectFactory()
        cls.tech = technician()
        cls.lot = make_lot(cls.project, cls.tech, mass_g=30)
        cls.foreign_lot = make_lot(cls.other_project, cls.tech, mass_g=30)
        cls.batch = make_batch(cls.project, cls.tech)
        cls.open_film = make_film(cls.project, cls.tech, result=False)
        cls.cell = make_cell(cls.project, cls.tech)

    def call(self, service, *, must_refuse: bool = False, **kwargs) -> None:
        """Call ``service``; with ``must_refuse`` (an argument of another project among them) it must refuse."""
        before = snapshot()
        try:
            service(**kwargs)
        except ValidationError as error:
            assert error.messages, "a refusal says why"
            assert snapshot() == before, f"{service.__name__} wrote part of a refused record"
        else:
            assert not must_refuse, f"{service.__name__} accepted an item of another project"
            assert snapshot() != before, f"{service.__name__} answered without writing anything"
        assert_mass_balance()

    @FUZZ
    @given(mass=numbers, purity=numbers, density=numbers, name=texts, formula=texts,
           role=st.sampled_from(["precursor", "catalyst", "", "x" * 300]))
    def test_lot_create(self, mass, purity, density, name, formula, role):
        self.call(lot_create, project=self.project, user=self.tech, chemical_name=name, formula=formula, role=role,
                  mass_g=mass, purity_percent=purity, density_g_per_cm3=density)

    @FUZZ
    @given(masses=st.lists(numbers, min_size=1, max_size=3), batch_mass=numbers, milling=numbers, speed=numbers,
           foreign=st.booleans(), composition=texts)
    def test_batch_create(self, masses, batch_mass, milling, speed, foreign, composition):
        lots = [self.foreign_lot.item if foreign and index == 0 else self.lot.item for index in range(len(masses))]
        self.call(batch_create, must_refuse=foreign, project=self.project, user=self.tech,
                  precursors=list(zip(lots, masses)),
                  composition=composition, sse_class="sulfide", route="mechanochemical", batch_mass_g=batch_mass,
                  milling_time_h=milling, speed_rpm=speed)

    @FUZZ
    @given(temperature=numbers, thickness=numbers, resistance=numbers, diameter=numbers)
    def test_measurement_add(self, temperature, thickness, resistance, diameter):
        self.call(measurement_add, batch=self.batch, user=self.tech, temperature_c=temperature,
                  thickness_mm=thickness, resistance_ohm=resistance, diameter_mm=diameter)

    @FUZZ
    @given(quantity=numbers, amount=numbers, unit=st.sampled_from(["g", "mg", "kg", "cm2", "", "furlong"]),
           foreign=st.booleans())
    def test_item_and_edge_create(self, quantity, amount, unit, foreign):
        before = snapshot()
        try:
            child = item_create(kind="sse_batch", project=self.project, user=self.tech, quantity=quantity, unit="g")
        except ValidationError:
            assert snapshot() == before
            return
        parent = self.foreign_lot.item if foreign else self.lot.item
        self.call(edge_create, must_refuse=foreign, parent=parent, child=child, role="precursor", user=self.tech,
                  amount=amount, unit=unit)

    @FUZZ
    @given(temperature=numbers, gap=numbers, force=numbers, speed=numbers, thickness=numbers,
           kind=st.sampled_from(["calender", "shear", "", "melt"]))
    def test_film_pass_add(self, temperature, gap, force, speed, thickness, kind):
        self.call(film_pass_add, film=self.open_film, user=self.tech, roll_temperature_c=temperature, gap_um=gap,
                  line_force_n_per_mm=force, speed_m_per_min=speed, thickness_um=thickness, kind=kind)

    @FUZZ
    @given(pressure=numbers, hold=numbers, temperature=numbers, method=st.sampled_from(["cip", "uniaxial", "", "?"]),
           notes=texts)
    def test_cell_densification_record(self, pressure, hold, temperature, method, notes):
        self.call(cell_densification_record, cell=self.cell, user=self.tech, method=method, pressure_mpa=pressure,
                  hold_time_min=hold, temperature_c=temperature, notes=notes)
