"""The generated per-model tests (tests/utils/generated.py) for films and sheets."""

from __future__ import annotations

from django.test import TestCase

from electrodes.models import Film, Sheet
from tests.materials.test_generated import quarantine
from tests.utils.factories_electrodes import make_film, make_sheets, make_sse_batch
from tests.utils.generated import GeneratedModelTests, ModelCase


def _films(project, user, count: int) -> list[Film]:
    batch = make_sse_batch(project, user, stock_g=50.0)  # 0.37 g of SSE per cathode film
    return [make_film(project, user, sse_batch=batch) for _ in range(count)]


class TestFilms(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=Film, make=make_film, make_many=_films, api="films", change=quarantine,
        pages=("/electrodes/",), page_of=lambda film: f"/electrodes/films/{film.item.code}/",
        new_page="/electrodes/films/new/",
    )


def _sheet(project, user) -> Sheet:
    return make_sheets(make_film(project, user), user, count=1)[0]


def _sheets(project, user, count: int) -> list[Sheet]:
    return make_sheets(make_film(project, user), user, count=count, area_cm2=2.0) if count else []


class TestSheets(GeneratedModelTests, TestCase):
    case = ModelCase(
        model=Sheet, make=_sheet, make_many=_sheets, api="sheets", change=quarantine,
        pages=("/electrodes/sheets/",), page_of=lambda sheet: f"/items/{sheet.item.code}/",
    )
