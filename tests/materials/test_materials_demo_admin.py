"""The materials demo hands the chain what it promised; the admin sets specs through the service and never edits
a measurement; ``run_model`` runs the materials models."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import call_command

from assbtrack.tracing.choices import ItemStatus
from assbtrack.tracing.demo import DemoContext
from materials import demo
from materials.models import ConductivitySpec, SynthesisBatch
from materials.selectors import arrhenius_points, batch_detail_queryset
from tests.utils.checks import client_for
from tests.utils.factories import partner_for, scientist, technician
from tests.utils.factories_materials import make_batch, make_measurement

pytestmark = pytest.mark.django_db


def test_demo_hands_on_lots_and_a_released_batch(project, other_project):
    context = DemoContext(project=project, other_project=other_project,
                          users={"technician": technician(), "scientist": scientist(), "partner": partner_for(project)})
    demo.load(context)
    lots = context.items["lots"]
    assert {"NCM811", "carbon", "PTFE", "Li foil", "Li2S", "P2S5", "LiCl"} <= set(lots)
    assert (lots["NCM811"].role, lots["NCM811"].density_g_per_cm3, lots["NCM811"].specific_capacity_mah_per_g) == (
        "active_material", 4.78, 200.0)
    assert (lots["Li foil"].role, lots["Li foil"].density_g_per_cm3, lots["Li foil"].specific_capacity_mah_per_g) == (
        "foil", 0.534, 3861.0)
    assert lots["carbon"].density_g_per_cm3 == 2.0 and lots["PTFE"].density_g_per_cm3 == 2.2

    main = batch_detail_queryset().get(pk=context.items["sse_batch"].pk)
    assert (main.composition, main.density_g_per_cm3, main.item.status) == ("Li6PS5Cl", 1.86, ItemStatus.RELEASED)
    assert len(arrhenius_points(main)) >= 3
    assert main.steps.count() >= 2 and main.exposures.count() >= 1
    assert main.item.quantity_remaining > 50  # enough left for films
    series = SynthesisBatch.objects.filter(item__project=project, composition="Li6PS5Cl")
    assert {0.25, 4.0} <= set(series.values_list("milling_time_h", flat=True))
    assert SynthesisBatch.objects.filter(composition="Li2ZrCl6", sse_class="halide").count() == 1
    assert any(line.startswith("materials:") for line in context.log)


def test_admin_sets_a_spec_through_the_service(project, sci):
    client = client_for(sci)
    response = client.post("/admin/materials/conductivityspec/add/",
                           {"project": project.pk, "composition": "Li6PS5Cl", "minimum_ms_per_cm": "2.5"})
    assert response.status_code == 302
    spec = ConductivitySpec.objects.get()
    assert (spec.minimum_ms_per_cm, spec.set_by) == (2.5, sci)
    bad = client.post(f"/admin/materials/conductivityspec/{spec.pk}/change/", {"minimum_ms_per_cm": "-1"})
    assert bad.status_code == 200
    spec.refresh_from_db()
    assert spec.minimum_ms_per_cm == 2.5


def test_admin_never_changes_a_measurement(project, tech, sci):
    measurement = make_measurement(make_batch(project, tech), tech, conductivity_ms_per_cm=3.0)
    client = client_for(sci)
    page = client.get(f"/admin/materials/conductivitymeasurement/{measurement.pk}/change/")
    assert page.status_code == 200 and 'name="resistance_ohm"' not in page.content.decode()
    client.post(f"/admin/materials/conductivitymeasurement/{measurement.pk}/change/", {"resistance_ohm": "1"})
    measurement.refresh_from_db()
    assert measurement.conductivity_ms_per_cm == pytest.approx(3.0)


def test_admin_edit_of_a_released_batch_needs_a_reason(project, tech, sci):
    from tests.utils.factories_materials import make_released_batch

    batch = make_released_batch(project, sci)
    url = f"/admin/materials/synthesisbatch/{batch.pk}/change/"
    form = {"composition": "Li6PS5Cl", "sse_class": "sulfide", "route": "mechanochemical", "mill": "P7",
            "jar_material": "", "media_material": "", "speed_rpm": "500", "milling_time_h": "1",
            "heat_treatment_atmosphere": "", "environment": "glovebox", "density_g_per_cm3": "1.9",
            "change_reason": "",
            "steps-TOTAL_FORMS": "0", "steps-INITIAL_FORMS": "0", "measurements-TOTAL_FORMS": "1",
            "measurements-INITIAL_FORMS": "1", "exposures-TOTAL_FORMS": "0", "exposures-INITIAL_FORMS": "0"}
    response = client_for(sci).post(url, form)
    assert response.status_code == 200 and "say why it is changed" in response.content.decode()
    assert SynthesisBatch.objects.get(pk=batch.pk).density_g_per_cm3 == 1.86


def test_run_model_runs_the_materials_models(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"thickness_mm": 1.0, "diameter_mm": 10,
                                                              "resistance_ohm": 40})))
    out = io.StringIO()
    call_command("run_model", "conductivity", "--input", "-", stdout=out)
    assert json.loads(out.getvalue())["conductivity_ms_per_cm"] == pytest.approx(3.18, abs=0.005)
