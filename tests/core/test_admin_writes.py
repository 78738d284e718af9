"""The admin writes traced records through their service (``record_update``), never on its own: the service's
checks apply, its refusal is shown on the admin form and changes nothing, and the history names the editor."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse

from assbtrack.tracing.admin_mixins import TracedRecordAdmin
from assbtrack.tracing.services import item_release, record_update
from materials.models import MaterialLot
from tests.utils.checks import client_for
from tests.utils.factories_materials import make_lot

pytestmark = pytest.mark.django_db


def form_data(record, **changes) -> dict:
    """What the admin's change form posts back for ``record``, with ``changes``."""
    data = {}
    for field in record._meta.concrete_fields:
        if field.editable and field.name not in ("id", "item"):
            value = field.value_from_object(record)
            data[field.name] = "" if value is None else value
    return {**data, **changes}


def test_every_traced_record_admin_saves_through_a_service():
    admins = [model_admin for model_admin in admin.site._registry.values()
              if isinstance(model_admin, TracedRecordAdmin)]
    assert {type(model_admin).__name__ for model_admin in admins} >= {
        "MaterialLotAdmin", "SynthesisBatchAdmin", "FilmAdmin", "SheetAdmin", "CellAdmin", "ModuleAdmin"}
    for model_admin in admins:
        assert model_admin.update_service.__module__.endswith("services"), type(model_admin).__name__
        assert not model_admin.has_add_permission(None)  # records are created by their kind's create service


def test_the_services_refusal_is_shown_on_the_admin_form_and_changes_nothing(project, sci, tech):
    lot = make_lot(project, tech, supplier="Sigma")
    item_release(item=lot.item, user=sci)
    url = reverse("admin:materials_materiallot_change", args=[lot.pk])
    history_before = lot.history.count()
    client = client_for(sci)

    refused = client.post(url, form_data(lot, supplier="Ampcera", change_reason=""))
    assert refused.status_code == 200
    form = refused.context["adminform"].form
    assert form.errors["change_reason"] == [f"{lot.item.code} is released: say why it is changed"]
    assert form.data["supplier"] == "Ampcera"  # the form comes back as it was typed
    lot.refresh_from_db()
    assert lot.supplier == "Sigma" and lot.history.count() == history_before

    saved = client.post(url, form_data(lot, supplier="Ampcera", change_reason="supplier mistyped"))
    assert saved.status_code == 302, saved.content
    lot.refresh_from_db()
    assert lot.supplier == "Ampcera"
    latest = lot.history.first()
    assert (latest.history_change_reason, latest.history_user) == ("supplier mistyped", sci)
    assert lot.history.count() == history_before + 1


def test_a_draft_is_edited_without_a_reason(project, sci, tech):
    lot = make_lot(project, tech, supplier="Sigma")
    response = client_for(sci).post(reverse("admin:materials_materiallot_change", args=[lot.pk]),
                                    form_data(lot, supplier="Ampcera", change_reason=""))
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.supplier == "Ampcera" and lot.history.first().history_user == sci


def test_record_update_validates_the_whole_record_before_saving(project, sci, tech):
    lot = make_lot(project, tech, density_g_per_cm3=1.6)
    with pytest.raises(ValidationError):
        record_update(record=lot, changes={"density_g_per_cm3": -1.0}, user=sci)
    assert MaterialLot.objects.get(pk=lot.pk).density_g_per_cm3 == 1.6
    with pytest.raises(ValidationError) as refused:
        item_release(item=lot.item, user=sci)
        record_update(record=MaterialLot.objects.get(pk=lot.pk), changes={"supplier": "X"}, user=sci)
    assert "change_reason" in refused.value.message_dict
    assert MaterialLot.objects.get(pk=lot.pk).supplier != "X"
