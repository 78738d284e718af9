"""Uploads are checked for type and size, and what is stored is never served as a page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cells.models import CyclingTest
from modules.models import PressureScan
from tests.utils.checks import client_for
from tests.utils.factories_cells import make_cell
from tests.utils.factories_modules import film_png, make_design, make_scan, uniform_density

pytestmark = pytest.mark.django_db

PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script><h1>pwned</h1></body></html>"


def scan_form(design, image) -> dict:
    return {
        "design": design.pk, "module_code": "", "label": "disguised", "image": image, "scanned_on": "2026-01-05",
        "calibration_low_intensity": "0", "calibration_low_pressure_mpa": "0", "calibration_high_intensity": "200",
        "calibration_high_pressure_mpa": "10", "grid_rows": "20", "grid_cols": "20", "threshold_fraction": "0.1",
    }


def error_beside(html: str, field_id: str) -> str:
    marker = f'id="{field_id}-error"'
    assert marker in html, f"no error beside {field_id}"
    start = html.index(marker)
    return html[start:start + 400]


def test_an_html_page_named_png_is_refused_as_a_scan(project, tech):
    design = make_design(project, tech)
    upload = SimpleUploadedFile("film.png", PAGE, content_type="image/png")
    response = client_for(tech).post("/modules/scans/new/", scan_form(design, upload))
    assert response.status_code == 200
    error_beside(response.content.decode(), "id_image")
    assert not PressureScan.objects.exists()


def test_a_scan_with_the_wrong_ending_or_too_large_is_refused(project, tech, monkeypatch):
    design = make_design(project, tech)
    client = client_for(tech)
    response = client.post("/modules/scans/new/", scan_form(design, SimpleUploadedFile("film.html", PAGE)))
    assert "PNG, JPEG or TIFF" in error_beside(response.content.decode(), "id_image")
    monkeypatch.setattr("modules.forms.MAX_SCAN_BYTES", 100)
    big = film_png(uniform_density(120, 120))
    assert len(big) > 100
    response = client.post("/modules/scans/new/", scan_form(design, SimpleUploadedFile("film.png", big)))
    assert "MB is accepted" in error_beside(response.content.decode(), "id_image")
    assert not PressureScan.objects.exists()


def test_a_stored_scan_is_served_as_an_image_never_sniffed(project, tech):
    scan = make_scan(tech, design=make_design(project, tech))
    response = client_for(tech).get(f"/modules/scans/{scan.pk}/image")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def cycling_form(upload) -> dict:
    return {
        "data_file": upload, "cycler": "BioLogic VMP3", "channel": "1", "temperature_c": "25",
        "stack_pressure_mpa": "", "protocol": "", "c_rate": "", "voltage_min_v": "", "voltage_max_v": "",
        "started_at": "", "column_cycle": "cycle", "column_voltage_v": "voltage_v",
        "column_current_ma": "current_ma", "column_time_s": "time_s",
    }


def test_an_html_page_as_a_cycler_file_is_refused_or_never_served_as_html(project, tech):
    cell = make_cell(project, tech)
    client = client_for(tech)
    for name in ("run.html", "run.png"):  # endings no cycler reader takes
        response = client.post(f"/cells/{cell.item.code}/cycling/new/",
                               cycling_form(SimpleUploadedFile(name, PAGE, content_type="text/html")))
        assert response.status_code == 200
        error_beside(response.content.decode(), "id_data_file")
    assert not CyclingTest.objects.exists()

    # an HTML page named like a cycler export may be stored (a worker reads it and fails), but no page
    # sends it back: the test's page shows only its escaped name and the reader's verdict
    response = client.post(f"/cells/{cell.item.code}/cycling/new/",
                           cycling_form(SimpleUploadedFile("<b>run</b>.mpt", PAGE, content_type="text/html")))
    assert response.status_code in (200, 302)
    for test in CyclingTest.objects.all():
        page = client.get(f"/cells/cycling/{test.pk}/")
        assert page["Content-Type"].startswith("text/html")
        html = page.content.decode()
        assert "<script>alert" not in html and "<b>run</b>" not in html
        assert page["X-Content-Type-Options"] == "nosniff"


def test_a_cycler_file_too_large_is_refused_beside_the_field(project, tech, monkeypatch):
    cell = make_cell(project, tech)
    monkeypatch.setattr("cells.cycler_import.MAX_CYCLER_FILE_BYTES", 100)
    rows = b"cycle,voltage_v,current_ma,time_s\n" + b"1,3.7,1.0,0\n" * 20
    response = client_for(tech).post(f"/cells/{cell.item.code}/cycling/new/",
                                     cycling_form(SimpleUploadedFile("run.csv", rows)))
    assert "larger than" in error_beside(response.content.decode(), "id_data_file")
    assert not CyclingTest.objects.exists()
