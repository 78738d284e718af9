"""The one code field: every form that takes a code uses it; it reads every shape a scanner or a hand types,
refuses a code of another kind in words, and finds items only in the user's projects."""

from __future__ import annotations

import importlib
import re

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse

from assbtrack.tracing.fields import CodeField, code_parse, codes_resolve
from assbtrack.tracing.models import TracedItem, TracedRecord
from assbtrack.tracing.reports import item_qr_payload
from materials.forms import PrecursorForm
from tests.utils.factories import partner_for
from tests.utils.factories_materials import make_batch, make_lot

CODE_LIKE = re.compile(r"[A-Z]{2,5}-\d{6}")


def _project_form_classes() -> list[type[forms.BaseForm]]:
    """Every form class of the project's own apps (their forms, views and admin modules imported first)."""
    root = str(settings.BASE_DIR)
    for config in apps.get_app_configs():
        if not config.path.startswith(root) or "/.venv/" in config.path:
            continue
        for room in ("forms", "views", "admin", "admin_mixins"):
            try:
                importlib.import_module(f"{config.name}.{room}")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.{room}":
                    raise
    found, todo = [], [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        module = cls.__module__.split(".")[0]
        if module in {"assbtrack", "materials", "electrodes", "cells", "modules"}:
            found.append(cls)
    return found


def _takes_a_code(name: str, field: forms.Field) -> bool:
    if isinstance(field, forms.ModelChoiceField):
        model = getattr(field.queryset, "model", None)  # None until the form's __init__ sets the queryset
        if model is not None:
            return issubclass(model, (TracedItem, TracedRecord))
        return name.endswith(("code", "codes"))
    if not isinstance(field, forms.CharField):
        return False
    placeholder = str(field.widget.attrs.get("placeholder", ""))
    label = str(field.label or "").lower()
    return (name.endswith(("code", "codes")) or bool(CODE_LIKE.search(placeholder))
            or "code" in label or "(scan" in label)


def test_every_form_field_that_takes_a_code_is_the_code_field():
    classes = _project_form_classes()
    code_fields, wrong = [], []
    for cls in classes:
        for name, field in cls.base_fields.items():
            if isinstance(field, CodeField):
                code_fields.append(f"{cls.__name__}.{name}")
            elif _takes_a_code(name, field):
                wrong.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert not wrong, f"code fields that are not CodeField: {wrong}"
    # The walk reaches the technician forms of every app (else it would prove nothing).
    for expected in ("PrecursorForm.lot", "ComponentRowForm.source_code", "LayerForm.cathode", "LayerForm.anode_lot",
                     "Figure1Form.cells", "CellCodeForm.cell_code", "PressureScanForm.module_code"):
        assert expected in code_fields


@pytest.fixture
def lot(project, tech):
    return make_lot(project, tech)


def _precursor(text: str, user) -> PrecursorForm:
    form = PrecursorForm({"lot": text, "mass_g": "1"})
    form.is_valid()
    codes_resolve(user, form)
    return form


@pytest.mark.parametrize("shape", ["bare", "label", "absolute_url", "page_path", "lower", "spaces"])
def test_each_payload_form_finds_the_lot(lot, tech, shape):
    code = lot.item.code
    text = {
        "bare": code,
        "label": item_qr_payload(lot.item, f"http://lab.example{lot.item.get_absolute_url()}"),
        "absolute_url": f"https://lab.example/items/{code}/",
        "page_path": lot.item.get_absolute_url(),
        "lower": code.lower(),
        "spaces": f"   {code.lower()}  \t",
    }[shape]
    form = _precursor(text, tech)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["lot"] == code


def test_a_label_payload_is_longer_than_any_code_and_still_fits(lot, tech):
    payload = item_qr_payload(lot.item, "https://assbtrack.lab.example.org" + "/x" * 60 + lot.item.get_absolute_url())
    assert len(payload) > 100
    assert _precursor(payload, tech).is_valid()


def test_wrong_kind_says_which_kind_was_expected(project, tech):
    batch = make_batch(project, tech)
    form = _precursor(batch.item.code, tech)
    assert form.errors["lot"] == [f"{batch.item.code} is an SSE batch; this field takes a lot"]


def test_out_of_scope_reads_like_unknown(project, other_project, tech):
    foreign = make_lot(other_project, tech)
    partner = partner_for(project)
    form = _precursor(foreign.item.code, partner)
    assert form.errors["lot"] == [f"No lot {foreign.item.code} that you may use."]
    unknown = _precursor("LOT-999999", partner)
    assert unknown.errors["lot"] == ["No lot LOT-999999 that you may use."]


@pytest.mark.parametrize(("text", "fragment"), [
    ("hello", "is not an item code"),
    ("ABC-000001", "is not an assbtrack code"),
    ("LOT-000001 SHT-000002", "holds 2 codes"),
    ("LOT-12", "is not an item code"),
])
def test_text_that_is_no_code_is_refused_in_words(text, fragment):
    with pytest.raises(forms.ValidationError) as caught:
        code_parse(text)
    assert fragment in caught.value.messages[0]


def test_a_label_payload_of_one_code_twice_is_one_code():
    assert code_parse("SHT-000030 https://lab.example/items/SHT-000030/") == "SHT-000030"


def test_many_codes_field_reads_payloads_and_refuses_each_wrong_one():
    class CellsForm(forms.Form):
        cells = CodeField(kinds=("cell",), multiple=True, max_codes=3)

    form = CellsForm({"cells": "cell-000001 http://x/items/CELL-000001/, CELL-000002; SHT-000003, nonsense"})
    assert not form.is_valid()
    assert form.errors["cells"] == ["SHT-000003 is a sheet; this field takes a cell",
                                    "“nonsense” is not an item code: scan the label or type the code, e.g. SHT-000001"]
    form = CellsForm({"cells": "cell-000001 http://x/items/CELL-000001/, CELL-000002"})
    assert form.is_valid()
    assert form.cleaned_data["cells"] == ["CELL-000001", "CELL-000002"]


def test_the_label_sheet_lists_the_codes_it_could_not_find(lot, tech):
    client = Client()
    client.force_login(tech)
    response = client.get(reverse("tracing:labels"), {"codes": f"{lot.item.code.lower()},LOT-999999,rubbish"})
    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-code="{lot.item.code}"' in page
    notice = page[page.index('id="labels-not-found"'):]
    notice = notice[:notice.index("</p>")]
    assert "LOT-999999" in notice and "rubbish" in notice and lot.item.code not in notice


def test_the_header_search_reads_a_label_payload(lot, tech):
    client = Client()
    client.force_login(tech)
    payload = item_qr_payload(lot.item, f"http://testserver{lot.item.get_absolute_url()}")
    response = client.get(reverse("tracing:search"), {"q": payload.lower()})
    assert response.status_code == 302
    assert response.url == lot.item.get_absolute_url()
