"""The cycler upload page: the channel is marked as required, a chosen file is kept after an error, a picture
renamed .mpr is refused in a sentence, and a failed test is tried again, replaced or discarded from the cell page."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cells.choices import ImportStatus
from cells.models import CyclingTest
from cells.services import CyclingImportError, cycling_test_create, cycling_test_import
from tests.cells.test_cycling_entry_points import csv_in_amperes
from tests.utils.checks import client_for
from tests.utils.factories_cells import make_cell

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(200))


def _field_error(page: str, field_id: str) -> str:
    start = page.index(f'id="{field_id}-error"')
    return page[start:page.index("</p>", start)]


def test_the_channel_is_marked_and_its_absence_refused_beside_it_keeping_the_file(project, tech):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    client = client_for(tech)
    url = reverse("cells:cycling-new", args=[cell.item.code])
    page = client.get(url).content.decode()
    assert "Cycler channel (equipment) *" in page
    response = client.post(url, {"temperature_c": "25",
                                 "data_file": SimpleUploadedFile("run.csv", csv_in_amperes())})
    page = response.content.decode()
    assert response.status_code == 200
    assert "choose the cycler channel, or type the cycler" in _field_error(page, "id_cycler_channel")
    assert "Kept from your last try: run.csv" in page
    assert not CyclingTest.objects.exists()
    # the kept file is used: the second try names the cycler only and chooses no file
    token = response.context["form"]["upload_token"].value()
    response = client.post(url, {"temperature_c": "25", "cycler": "Arbin", "upload_token": token,
                                 "current_unit": "A", "time_unit": "h"})
    assert response.status_code == 302
    assert CyclingTest.objects.get(cell=cell).file_name == "run.csv"


@pytest.mark.parametrize("name", ["cycling.mpr", "cycling.csv"])
def test_a_picture_renamed_as_a_cycler_file_is_refused_in_a_sentence(project, tech, name):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    response = client_for(tech).post(reverse("cells:cycling-new", args=[cell.item.code]), {
        "temperature_c": "25", "cycler": "BioLogic", "data_file": SimpleUploadedFile(name, PNG),
    })
    page = response.content.decode()
    assert response.status_code == 200
    assert f"{name} is a PNG image, not a cycler file" in _field_error(page, "id_data_file")
    assert "IHDR" not in page and "\\x" not in page
    assert not CyclingTest.objects.exists()


def test_an_mpr_that_does_not_begin_as_one_is_refused(project, tech):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    response = client_for(tech).post(reverse("cells:cycling-new", args=[cell.item.code]), {
        "temperature_c": "25", "cycler": "BioLogic",
        "data_file": SimpleUploadedFile("run.mpr", b"Cycle,Time\n1,2\n"),
    })
    assert "run.mpr is not a BioLogic .mpr file" in _field_error(response.content.decode(), "id_data_file")


def _failed_test(cell, tech) -> CyclingTest:
    test = cycling_test_create(cell=cell, user=tech, data_file=ContentFile(csv_in_amperes(), name="run.csv"),
                               cycler="Arbin", import_options={"time_unit": "h"}, submit=False)
    with pytest.raises(CyclingImportError):
        cycling_test_import(test=test, submit_plots=False)
    return CyclingTest.objects.get(pk=test.pk)


def test_a_failed_test_is_tried_again_replaced_or_discarded_from_the_cell_page(project, tech):
    cell = make_cell(project, tech, sheet_area_cm2=0.25)
    failed = _failed_test(cell, tech)
    assert failed.status == ImportStatus.FAILED
    client = client_for(tech)
    page = client.get(reverse("cells:cell", args=[cell.item.code])).content.decode()
    actions = page[page.index(f'data-test="{failed.pk}"'):]
    actions = actions[:actions.index("</div>")]
    assert reverse("cells:cycling-retry", args=[failed.pk]) in actions
    assert reverse("cells:cycling-discard", args=[failed.pk]) in actions
    assert f"{failed.get_absolute_url()}#import" in actions  # the replacement file is chosen there

    # try again: the same file with the options it was read with
    response = client.post(reverse("cells:cycling-retry", args=[failed.pk]), {"same_options": "1"})
    assert response.status_code == 302
    again = CyclingTest.objects.get(pk=failed.pk)
    assert again.status == ImportStatus.PENDING and again.import_options["time_unit"] == "h"

    # replaced: a new file, read with the options chosen beside it
    with pytest.raises(CyclingImportError):  # the same options fail the same way
        cycling_test_import(test=again, submit_plots=False)
    client.post(reverse("cells:cycling-retry", args=[failed.pk]), {
        "data_file": SimpleUploadedFile("run_fixed.csv", csv_in_amperes()), "current_unit": "A", "time_unit": "h",
    })
    replaced = CyclingTest.objects.get(pk=failed.pk)
    assert replaced.status == ImportStatus.PENDING and replaced.file_name == "run_fixed.csv"
    assert replaced.import_options["current_unit"] == "A"

    # discarded
    other = _failed_test(cell, tech)
    response = client.post(reverse("cells:cycling-discard", args=[other.pk]))
    assert response.status_code == 302 and response.url == reverse("cells:cell", args=[cell.item.code])
    assert not CyclingTest.objects.filter(pk=other.pk).exists()
