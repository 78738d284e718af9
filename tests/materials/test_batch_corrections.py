"""Correcting a batch from its page: its maker or a scientist, a draft in place, a released batch only with a
reason; the history keeps every version. A film refused for a batch without density names the batch and
links to its correction page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assbtrack.tracing.services import item_release
from electrodes.models import Film
from materials.models import SynthesisBatch
from materials.services import batch_correct
from tests.utils.checks import client_for
from tests.utils.factories import release_checks_set_aside, technician
from tests.utils.factories_electrodes import make_component_sources
from tests.utils.factories_materials import make_batch

from ..electrodes.test_views import NEW, film_post, recipe_rows

pytestmark = pytest.mark.django_db


def correct_url(batch) -> str:
    return reverse("materials:batch-correct", args=[batch.item.code])


def correction_post(batch, **changes) -> dict:
    fields = ("composition", "density_g_per_cm3", "milling_time_h", "speed_rpm", "ball_diameter_mm",
              "ball_to_powder_ratio", "heat_treatment_temperature_c", "heat_treatment_time_h", "glovebox_o2_ppm",
              "glovebox_h2o_ppm")
    data = {name: "" if getattr(batch, name) is None else str(getattr(batch, name)) for name in fields}
    data["change_reason"] = ""
    data.update(changes)
    return data


def test_a_film_blocked_by_a_batch_without_density_links_to_its_correction_and_then_goes_through(project, tech):
    batch = make_batch(project, tech, density_g_per_cm3=None)
    sources = make_component_sources(project, tech, sse_batch=batch, stock_g=500.0)
    client = client_for(tech)
    refused = client.post(NEW, film_post(project, recipe_rows(sources))).content.decode()
    assert f"{batch.item.code} has no density recorded" in refused
    assert f'<a href="{correct_url(batch)}">correct {batch.item.code}</a>' in refused
    assert not Film.objects.exists()

    form = client.get(correct_url(batch)).content.decode()
    assert 'value="Li6PS5Cl"' in form and 'name="density_g_per_cm3"' in form  # prefilled
    done = client.post(correct_url(batch), correction_post(batch, density_g_per_cm3="1.86"))
    assert done.status_code == 302 and done["Location"] == reverse("materials:batch", args=[batch.item.code])
    batch.refresh_from_db()
    assert batch.density_g_per_cm3 == 1.86
    versions = list(batch.history.order_by("history_date", "history_id"))
    assert [v.density_g_per_cm3 for v in versions] == [None, 1.86]  # the version before is kept
    assert versions[-1].history_change_reason == "corrected (draft)" and versions[-1].history_user == tech

    assert client.post(NEW, film_post(project, recipe_rows(sources))).status_code == 302
    assert Film.objects.count() == 1


def test_only_the_maker_or_a_scientist_corrects_and_bad_values_are_refused_beside_the_field(project, tech, sci):
    batch = make_batch(project, tech, density_g_per_cm3=None)
    other = technician()
    page = client_for(other).post(correct_url(batch), correction_post(batch, density_g_per_cm3="1.9"))
    assert page.status_code == 200 and "only the person who recorded" in page.content.decode()
    page = client_for(tech).post(correct_url(batch), correction_post(batch, density_g_per_cm3="-1",
                                                                      milling_time_h="-2"))
    html = page.content.decode()
    assert 'id="id_density_g_per_cm3-error"' in html and 'id="id_milling_time_h-error"' in html  # both at once
    batch.refresh_from_db()
    assert batch.density_g_per_cm3 is None and batch.history.count() == 1  # nothing changed
    corrected = batch_correct(batch=batch, user=sci, density_g_per_cm3=1.9)
    assert corrected.density_g_per_cm3 == 1.9 and corrected.history.first().history_user == sci
    with pytest.raises(ValidationError) as refused:
        batch_correct(batch=batch, user=tech, precursor_mass_g=3.0)
    assert "precursor_mass_g" in refused.value.message_dict


def test_a_released_batch_is_corrected_only_with_a_reason_and_the_audit_shows_both_versions(project, tech, sci):
    batch = make_batch(project, tech, milling_time_h=10.0)
    with release_checks_set_aside():
        item_release(item=batch.item, user=sci, reason="QC passed")
    batch = SynthesisBatch.objects.get(pk=batch.pk)
    client = client_for(tech)
    page = client.post(correct_url(batch), correction_post(batch, milling_time_h="12"))
    assert page.status_code == 200 and "change_reason" in page.content.decode()
    batch.refresh_from_db()
    assert batch.milling_time_h == 10.0

    answer = client.post(correct_url(batch), correction_post(batch, milling_time_h="12",
                                                              change_reason="the timer log says 12 h"))
    assert answer.status_code == 302
    batch.refresh_from_db()
    assert (batch.milling_time_h, batch.item.status) == (12.0, "released")
    newest, before = batch.history.order_by("-history_date", "-history_id")[:2]
    assert (before.milling_time_h, newest.milling_time_h) == (10.0, 12.0)
    assert newest.history_change_reason == "correction of a released record: the timer log says 12 h"
    audit = client.get(batch.item.get_absolute_url()).content.decode()
    assert "correction of a released record: the timer log says 12 h" in audit


def test_a_measurement_is_corrected_by_a_superseding_one_from_the_batch_page(project, tech):
    from tests.utils.factories_materials import make_measurement

    batch = make_batch(project, tech)
    wrong = make_measurement(batch, tech, thickness_mm=1.2)
    client = client_for(tech)
    page = client.get(reverse("materials:batch", args=[batch.item.code])).content.decode()
    link = f"{reverse('materials:measurement-new', args=[batch.item.code])}?corrects={wrong.pk}"
    assert f'href="{link}"' in page
    form = client.get(link).content.decode()
    assert 'name="thickness_mm" value="1.2"' in form and f'<option value="{wrong.pk}" selected>' in form

    data = {"temperature_c": str(wrong.temperature_c), "thickness_mm": "1.0",
            "resistance_ohm": str(wrong.resistance_ohm), "stack_pressure_mpa": "", "notes": "", "measured_at": "",
            "supersedes": str(wrong.pk), "correction_reason": "thickness misread",
            **({"diameter_mm": str(wrong.diameter_mm)} if wrong.diameter_mm is not None else
               {"area_cm2": str(wrong.area_cm2)})}
    assert client.post(link, data).status_code == 302
    wrong.refresh_from_db()
    new = wrong.superseded_by
    assert new is not None and (new.thickness_mm, new.correction_reason) == (1.0, "thickness misread")
    assert wrong.thickness_mm == 1.2  # never edited in place
    assert [v.thickness_mm for v in wrong.history.all()] == [1.2, 1.2]  # its one change: pointing at the correction
    page = client.get(reverse("materials:batch", args=[batch.item.code])).content.decode()
    assert f"superseded by #{new.pk}" in page and "corrects an earlier value: thickness misread" in page
    assert f"?corrects={wrong.pk}" not in page  # a superseded row is not corrected again
