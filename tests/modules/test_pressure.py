"""Stack pressure: readings over time, film-scan uploads, their pressure maps and how the files are served.

Test films by hand (tests/utils/factories_modules.py, calibration 0.05 MPa per unit of colour density,
80 × 80 px on a 20 × 20 grid of 4 px blocks):

- uniform density 100 → 5 MPa everywhere: mean 5, CV 0, coverage 1, centre-to-edge 1.
- centre-heavy: density 160 (8 MPa) in rows and columns 20–59, the middle half, and 40 (2 MPa)
  around it. A quarter of the area at 8 MPa: mean = 0.25·8 + 0.75·2 = 3.5 MPa; std =
  √(0.25·4.5² + 0.75·1.5²) = √6.75 = 2.598 MPa, CV = 0.7423; the central grid region (rows and
  columns 5–14) is exactly the 8 MPa square and the border ring is all 2 MPa: centre-to-edge = 4.
"""

from __future__ import annotations

import io
import math
from datetime import timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from modules.models import PressureMapResult, PressureReading, PressureScan
from modules.services import pressure_reading_create, pressure_scan_process
from tests.utils.checks import client_for
from tests.utils.factories_modules import (
    centre_heavy_density,
    film_png,
    make_design,
    make_module,
    make_scan,
    uniform_density,
)


@pytest.fixture
def module(project, tech):
    return make_module(project, tech, cell_count=2)


# --- readings -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_applied_pressure_follows_the_latest_set_reading(module, tech):
    now = timezone.now()
    pressure_reading_create(module=module, user=tech, kind="measured", pressure_mpa=4.6, measured_at=now)
    module.refresh_from_db()
    assert module.applied_stack_pressure_mpa == 5.0  # a measured value is not a set point
    latest = pressure_reading_create(module=module, user=tech, kind="set", pressure_mpa=8.0, measured_at=now)
    pressure_reading_create(module=module, user=tech, kind="set", pressure_mpa=6.0,
                            measured_at=now - timedelta(days=5))  # logged late, but older
    module.refresh_from_db()
    assert module.applied_stack_pressure_mpa == 8.0
    correction = pressure_reading_create(module=module, user=tech, kind="set", pressure_mpa=7.5,
                                         measured_at=latest.measured_at, supersedes=latest)
    module.refresh_from_db()
    assert module.applied_stack_pressure_mpa == 7.5
    latest.refresh_from_db()
    assert latest.superseded_by == correction and latest.pressure_mpa == 8.0  # the old value is kept


@pytest.mark.django_db
def test_reading_refusals(module, project, tech):
    now = timezone.now()
    other = make_module(project, tech, cell_count=1, design=module.housing_design)
    foreign = PressureReading.objects.get(module=other)
    with pytest.raises(ValidationError) as caught:
        pressure_reading_create(module=module, user=tech, kind="set", pressure_mpa=5, measured_at=now,
                                supersedes=foreign)
    assert "supersedes" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        pressure_reading_create(module=module, user=tech, kind="measured", pressure_mpa=5,
                                measured_at=now + timedelta(days=2))
    assert "measured_at" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        pressure_reading_create(module=module, user=tech, kind="set", pressure_mpa=0, measured_at=now)
    assert "pressure_mpa" in caught.value.message_dict
    first = PressureReading.objects.get(module=module)
    pressure_reading_create(module=module, user=tech, kind="set", pressure_mpa=5.1, measured_at=now, supersedes=first)
    with pytest.raises(ValidationError) as caught:
        pressure_reading_create(module=module, user=tech, kind="set", pressure_mpa=5.2, measured_at=now,
                                supersedes=first)
    assert "corrected already" in caught.value.message_dict["supersedes"][0]


@pytest.mark.django_db
def test_reading_form(module, tech):
    url = reverse("modules:pressure-reading", args=[module.item.code])
    client = client_for(tech)
    bad = client.post(url, {"kind": "measured", "pressure_mpa": "inf", "measured_at": "2025-03-02T10:00"})
    assert bad.status_code == 200 and "pressure_mpa" in bad.context["form"].errors
    assert PressureReading.objects.filter(module=module).count() == 1
    good = client.post(url, {"kind": "measured", "pressure_mpa": "4.7", "measured_at": "2025-03-02T10:00",
                             "method": "load cell"})
    assert good.status_code == 302
    reading = PressureReading.objects.filter(module=module).latest("id")
    assert (reading.kind, reading.pressure_mpa, reading.method) == ("measured", 4.7, "load cell")


@pytest.mark.django_db
def test_module_release_needs_a_measured_pressure(module, sci, tech):
    from assbtrack.tracing.services import item_release

    with pytest.raises(ValidationError) as caught:
        item_release(item=module.item, user=sci)
    assert "no measured stack pressure" in str(caught.value)
    pressure_reading_create(module=module, user=tech, kind="measured", pressure_mpa=4.9, measured_at=timezone.now())
    assert item_release(item=module.item, user=sci).status == "released"


# --- maps (synchronously, through the function the job runs) --------------------------------------------


@pytest.mark.django_db
def test_uniform_film_map(project, tech):
    scan = make_scan(tech, design=make_design(project, tech), density=uniform_density())
    result, files = pressure_scan_process(scan_id=scan.pk)
    assert result.mean_mpa == pytest.approx(5.0)
    assert result.coefficient_of_variation == pytest.approx(0.0, abs=1e-12)
    assert result.coverage_fraction == 1.0 and result.centre_to_edge_ratio == pytest.approx(1.0)
    assert np.asarray(result.grid_mpa).shape == (20, 20)
    assert files[f"pressure-map-scan-{scan.pk}.png"].startswith(b"\x89PNG")
    assert result.heatmap_png.read().startswith(b"\x89PNG")


@pytest.mark.django_db
def test_centre_heavy_film_map(project, tech):
    scan = make_scan(tech, design=make_design(project, tech), density=centre_heavy_density())
    result, _ = pressure_scan_process(scan_id=scan.pk)
    assert result.mean_mpa == pytest.approx(3.5)
    assert result.std_mpa == pytest.approx(math.sqrt(6.75))
    assert result.coefficient_of_variation == pytest.approx(math.sqrt(6.75) / 3.5)
    assert (result.min_mpa, result.max_mpa) == (pytest.approx(2.0), pytest.approx(8.0))
    assert result.centre_to_edge_ratio == pytest.approx(4.0)
    # Processing again rewrites the one result.
    pressure_scan_process(scan_id=scan.pk)
    assert PressureMapResult.objects.filter(scan=scan).count() == 1


@pytest.mark.django_db
def test_blank_film_fails_with_a_reason(project, tech):
    from assbtrack.domain.inputs import ModelInputError

    scan = make_scan(tech, design=make_design(project, tech), density=np.zeros((80, 80)))
    with pytest.raises(ModelInputError) as caught:
        pressure_scan_process(scan_id=scan.pk)
    assert "no pressure anywhere" in caught.value.reason


# --- upload form and file views -----------------------------------------------------------------------


def scan_post(for_design, upload, **changes):
    data = {
        "design": for_design.pk if for_design else "", "module_code": "", "label": "run 1", "image": upload,
        "scanned_on": "2025-03-02", "calibration_low_intensity": "0", "calibration_low_pressure_mpa": "0",
        "calibration_high_intensity": "200", "calibration_high_pressure_mpa": "10", "grid_rows": "20",
        "grid_cols": "20", "threshold_fraction": "0.1",
    }
    data.update(changes)
    return data


def png_upload(name="film.png", density=None, fmt="PNG", content_type="image/png"):
    return SimpleUploadedFile(name, film_png(uniform_density() if density is None else density, fmt=fmt),
                              content_type=content_type)


@pytest.mark.django_db
def test_upload_stores_the_scan_and_queues_its_map(project, tech, module, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(tech).post(
            reverse("modules:scan-upload"),
            scan_post(None, png_upload("my film.TIFF", fmt="TIFF"), module_code=module.item.code.lower()),
        )
    scan = PressureScan.objects.get()
    assert response.status_code == 302 and response["Location"] == scan.get_absolute_url()
    assert scan.design == module.housing_design and scan.module == module
    assert scan.image_format == "TIFF" and scan.image.name.endswith(".tif") and "my film" not in scan.image.name
    assert (scan.width_px, scan.height_px) == (80, 80)
    assert scan.job.kind == "pressure_scan_map" and scan.job.subject == module.item
    assert scan.job.inputs == {"scan_id": scan.pk} and scan.job.queue == "plots"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (SimpleUploadedFile("film.png", b"<html><script>alert(1)</script></html>", content_type="image/png"),
         "not a PNG, JPEG or TIFF image"),
        (SimpleUploadedFile("film.html", b"<html></html>", content_type="text/html"), "Upload a PNG, JPEG or TIFF"),
        (None, "GIF image"),
        (SimpleUploadedFile("film.png", film_png(uniform_density())[:60], content_type="image/png"),
         "damaged"),
        (SimpleUploadedFile("film.png", b"", content_type="image/png"), "empty"),
    ],
)
def test_bad_upload_is_refused_beside_the_field(project, tech, upload, words):
    if upload is None:
        buffer = io.BytesIO()
        Image.new("L", (80, 80), 128).save(buffer, format="GIF")
        upload = SimpleUploadedFile("film.png", buffer.getvalue(), content_type="image/png")
    response = client_for(tech).post(reverse("modules:scan-upload"), scan_post(make_design(project, tech), upload))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "image" in errors and words in " ".join(errors["image"]), errors
    assert 'id="id_image-error"' in response.content.decode()  # shown beside the field
    assert not PressureScan.objects.exists()


@pytest.mark.django_db
def test_oversized_upload_is_refused(project, tech, settings, monkeypatch):
    from modules import forms

    monkeypatch.setattr(forms, "MAX_SCAN_BYTES", 1000)
    response = client_for(tech).post(reverse("modules:scan-upload"),
                                     scan_post(make_design(project, tech), png_upload(density=np.random.default_rng(1)
                                                                                       .uniform(0, 200, (80, 80)))))
    assert "at most 0 MB" in " ".join(response.context["form"].errors["image"])
    assert not PressureScan.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"calibration_high_intensity": "0"}, "calibration_high_intensity"),
        ({"calibration_high_pressure_mpa": "-1"}, "calibration_high_pressure_mpa"),
        ({"grid_rows": "200"}, "grid_rows"),
        ({"design": "", "module_code": ""}, "design"),
        ({"design": "", "module_code": "MOD-999999"}, "module_code"),
        ({"threshold_fraction": "nan"}, "threshold_fraction"),
    ],
)
def test_bad_scan_settings_are_refused_beside_the_field(project, tech, changes, field):
    response = client_for(tech).post(reverse("modules:scan-upload"),
                                     scan_post(make_design(project, tech), png_upload(), **changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not PressureScan.objects.exists()


@pytest.mark.django_db
def test_scan_files_are_served_as_images_to_those_who_may_see_them(project, other_project, tech, partner, outsider):
    scan = make_scan(tech, design=make_design(project, tech))
    pressure_scan_process(scan_id=scan.pk)
    for url, content_type in ((reverse("modules:scan-image", args=[scan.pk]), "image/png"),
                              (reverse("modules:scan-heatmap", args=[scan.pk]), "image/png")):
        response = client_for(partner).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
        assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).get(scan.get_absolute_url()).status_code == 404
    assert client_for(partner).get(scan.get_absolute_url()).status_code == 200
