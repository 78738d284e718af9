"""Hypothesis drives every technician form with generated input, as a browser would post it.

Each form's fields are read from its own page (inputs, selects, textareas, the formset management
fields); every example starts from what the page offers and replaces some fields with generated values:
numbers out of range, NaN, infinities, huge strings, codes of another project, forged row counts.
Whatever comes in: never a server error, and a refused form writes nothing at all.
"""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

from django.apps import apps
from django.db.models import F, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from assbtrack.tracing.models import LineageEdge, TracedItem
from tests.utils.checks import client_for
from tests.utils.factories import ProjectFactory, technician
from tests.utils.factories_cells import make_cell
from tests.utils.factories_electrodes import make_film
from tests.utils.factories_materials import make_batch, make_lot
from tests.utils.factories_modules import make_design

DOMAIN_APPS = ("tracing", "materials", "electrodes", "cells", "modules", "jobs")
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class FormFields(HTMLParser):
    """The fields of the page's POST form with the value the page offers for each (first option of a select)."""

    def __init__(self, target: str):
        super().__init__()
        self.target = target
        self.fields: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self._select: str | None = None
        self._in_post_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action") or ""
            self._in_post_form = ((attrs.get("method") or "").lower() == "post" and not self.fields
                                  and action in ("", self.target))
        if not self._in_post_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken" and "__prefix__" not in name:
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                self.fields.setdefault(name, "")
            elif attrs.get("type") != "file":
                self.fields[name] = attrs.get("value") or ""
        elif tag == "textarea" and name and "__prefix__" not in name:
            self.fields[name] = ""
        elif tag == "select" and name and "__prefix__" not in name:
            self._select = name
            self.fields[name] = ""
            self.options[name] = []
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            self.options[self._select].append(value)
            if value and not self.fields[self._select]:
                self.fields[self._select] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_post_form = False


def form_fields(html: str, target: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    parser = FormFields(target)
    parser.feed(html)
    return parser.fields, parser.options


WEIRD_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1e308", "-1", "0", "-0", "1e-320",
                 "9" * 400, "0x10", "1,5", " 3 ", "١٢", "12abc"]


def field_value(codes: list[str], options: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(WEIRD_NUMBERS),
        st.sampled_from(codes),
        st.sampled_from(options) if options else st.just(""),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(max_size=60),
        st.integers(min_value=1000, max_value=120_000).map(lambda n: "x" * n),
        st.sampled_from(["100000", "-5", "", "2", "40"]),  # formset counts and row numbers, forged
    )


def snapshot() -> dict[str, object]:
    counts: dict[str, object] = {}
    for label in DOMAIN_APPS:
        for model in apps.get_app_config(label).get_models():
            counts[model._meta.label] = model.objects.count()
    counts["used"] = TracedItem.objects.aggregate(total=Sum("quantity_used"))["total"]
    counts["statuses"] = sorted(TracedItem.objects.values_list("code", "status"))
    return counts

def assert_mass_balance() -> None:
    assert not TracedItem.objects.filter(quantity__isnull=False,
                                         quantity_used__gt=F("quantity") + Decimal("0.001")).exists()
    for item in TracedItem.objects.filter(quantity__isnull=False):
        used = LineageEdge.objects.filter(parent=item, unit=item.unit).aggregate(total=Sum("amount"))["total"]
        assert (used or 0) <= item.quantity + Decimal("0.001"), item.code


class TechnicianFormsFuzz(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.project, cls.other_project = ProjectFactory(), ProjectFactory()
        cls.tech = technician()
        cls.lot = make_lot(cls.project, cls.tech, mass_g=30)
        cls.batch = make_batch(cls.project, cls.tech)
        cls.film = make_film(cls.project, cls.tech)
        cls.open_film = make_film(cls.project, cls.tech, result=False)  # still taking passes
        cls.cell = make_cell(cls.project, cls.tech)
        cls.design = make_design(cls.project, cls.tech)
        foreign_lot = make_lot(cls.other_project, cls.tech, mass_g=30)
        foreign_batch = make_batch(cls.other_project, cls.tech)
        cls.codes = [cls.lot.item.code, cls.batch.item.code, cls.film.item.code, cls.cell.item.code,
                     foreign_lot.item.code, foreign_batch.item.code, "SSE-999999", "lot-000001", "", "MOD-000001",
                     cls.lot.item.code.lower()]

    def urls(self) -> list[tuple[str, str]]:
        """(the page that shows the form, the URL it posts to)."""
        batch, film, cell = self.batch.item.code, self.film.item.code, self.cell.item.code
        film_page, open_page = f"/electrodes/films/{film}/", f"/electrodes/films/{self.open_film.item.code}/"
        return [(url, url) for url in self.page_forms(batch, cell)] + [
            (open_page, f"{open_page}passes/"), (open_page, f"{open_page}result/"), (film_page, f"{film_page}sheets/"),
        ]

    def page_forms(self, batch: str, cell: str) -> list[str]:
        return [
            "/materials/lots/new/", "/materials/batches/new/", f"/materials/batches/{batch}/steps/new/",
            f"/materials/batches/{batch}/measurements/new/", f"/materials/batches/{batch}/exposures/new/",
            "/electrodes/films/new/",
            "/cells/new/", "/cells/figure1/", f"/cells/{cell}/densification/", f"/cells/{cell}/events/new/",
            f"/cells/{cell}/measurements/",
            "/modules/assemble/", "/modules/designs/new/",
        ]

    def test_pages_offer_forms(self):
        client = client_for(self.tech)
        for page, url in self.urls():
            response = client.get(page)
            assert response.status_code == 200, page
            fields, _ = form_fields(response.content.decode(), url)
            assert fields, f"no form fields found for {url}"

    def fuzz_one(self, data, prefix: str) -> None:
        client = client_for(self.tech)
        forms = [pair for pair in self.urls() if pair[1].startswith(prefix)]
        page, url = data.draw(st.sampled_from(forms), label="url")
        fields, options = form_fields(client.get(page).content.decode(), url)
        names = sorted(fields)
        changed = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=min(len(names), 6)),
                            label="fields")
        for name in changed:
            fields[name] = data.draw(field_value(self.codes, options.get(name, [])), label=name)
        before = snapshot()
        response = client.post(url, fields)
        assert response.status_code in (200, 302, 400, 404), (url, response.status_code)
        if response.status_code != 302:
            assert snapshot() == before, f"a refused form wrote something: {url}"
        assert_mass_balance()

    @FUZZ
    @given(data=st.data())
    def test_materials_forms(self, data):
        self.fuzz_one(data, "/materials/")

    @FUZZ
    @given(data=st.data())
    def test_electrodes_forms(self, data):
        self.fuzz_one(data, "/electrodes/")

    @FUZZ
    @given(data=st.data())
    def test_cells_forms(self, data):
        self.fuzz_one(data, "/cells/")

    @FUZZ
    @given(data=st.data())
    def test_modules_forms(self, data):
        self.fuzz_one(data, "/modules/")
