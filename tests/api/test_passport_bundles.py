"""Passport bundles of modules, bundles built as a job (asked for, or too large for a request), and the module
passport's fixed query count."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from assbtrack.api.bundle import BUNDLE_JOB
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.tracing.choices import ItemKind
from tests.cells.test_cells_api import imported
from tests.conftest import wait_for
from tests.utils.checks import assert_fixed_queries
from tests.utils.factories_cells import make_cell, make_li_foil
from tests.utils.factories_electrodes import make_film
from tests.utils.factories_modules import make_module

from .helpers import make_chain, token_client


def _archive(response) -> zipfile.ZipFile:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return zipfile.ZipFile(io.BytesIO(body))


@pytest.mark.django_db
def test_module_bundle_holds_the_time_series_of_each_tested_cell(project, sci, partner):
    chain = make_chain(project, sci, cells=3)
    tested = [imported(cell, sci) for cell in chain["cells"][:2]]  # the third cell was never cycled

    response = token_client(partner).get(f"/api/v1/modules/{chain['module'].item.code}/passport/bundle/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = _archive(response)
    names = set(archive.namelist())
    assert {f"cycling-test-{test.pk}.bdf.csv" for test in tested} <= names
    assert len([name for name in names if name.startswith("cycling-test-")]) == 2
    passport = json.loads(archive.read("passport.json"))
    assert passport["generalProductInformation"]["batteryIdentifier"] == chain["module"].item.code
    metadata = json.loads(archive.read("ro-crate-metadata.json"))
    descriptions = {entity["@id"]: entity.get("description", "") for entity in metadata["@graph"]}
    for test in tested:
        assert test.cell.item.code in descriptions[f"cycling-test-{test.pk}.bdf.csv"]


@pytest.mark.django_db
def test_a_confidential_cycling_summary_keeps_the_time_series_out_of_the_partners_bundle(project, sci, partner):
    chain = make_chain(project, sci, cells=1)
    test = imported(chain["cells"][0], sci)
    project.confidential_fields = ["cyclingSummary"]
    project.save()
    url = f"/api/v1/cells/{chain['cells'][0].item.code}/passport/bundle/"
    for_partner = set(_archive(token_client(partner).get(url)).namelist())
    for_staff = set(_archive(token_client(sci).get(url)).namelist())
    assert f"cycling-test-{test.pk}.bdf.csv" not in for_partner
    assert f"cycling-test-{test.pk}.bdf.csv" in for_staff


@pytest.mark.django_db
def test_a_bundle_over_the_inline_limit_becomes_a_job_of_the_requester(project, sci, partner, settings):
    chain = make_chain(project, sci, cells=1)
    imported(chain["cells"][0], sci)
    url = f"/api/v1/cells/{chain['cells'][0].item.code}/passport/bundle/"
    settings.PASSPORT_BUNDLE_INLINE_BYTES = 10  # the cycler file is larger: no zip inside the request
    response = token_client(partner).get(url)
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    assert job.kind == BUNDLE_JOB and job.requested_by == partner and job.subject is None
    assert job.inputs["code"] == chain["cells"][0].item.code and "user_id" not in job.inputs  # the requester
    assert response["Location"].endswith(f"/jobs/{job.pk}/")
    # under the limit it is answered at once; ?async=1 asks for a job anyway
    settings.PASSPORT_BUNDLE_INLINE_BYTES = 10 * 1024 * 1024
    assert token_client(partner).get(url).status_code == 200
    assert token_client(partner).get(url, {"async": "1"}).status_code == 202


@pytest.mark.django_db
def test_module_passport_costs_the_same_queries_with_3_or_30_cells(project, sci, partner):
    films = {"cathode": make_film(project, sci, ItemKind.CATHODE_FILM, area_cm2=5000.0),
             "separator": make_film(project, sci, ItemKind.SEPARATOR_FILM, area_cm2=5000.0),
             "foil": make_li_foil(project, sci, mass_g=100.0)}
    state = {"cells": [], "code": ""}

    def add_rows(count: int) -> None:
        for _ in range(count):
            cell = make_cell(project, sci, films=films, foil_mass_g=0.5, sheet_area_cm2=12.0)
            imported(cell, sci)
            state["cells"].append(cell)
        # a fresh module of all the cells so far (cells are consumed by a module: build new ones each time)
        fresh = [make_cell(project, sci, films=films, foil_mass_g=0.5, sheet_area_cm2=12.0)
                 for _ in state["cells"]]
        state["code"] = make_module(project, sci, cells=fresh).item.code

    assert_fixed_queries(token_client(partner), lambda: f"/api/v1/modules/{state['code']}/passport/",
                         add_rows=add_rows)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_builds_the_bundle_and_only_the_requester_downloads_it(celery_worker_process, settings, project,
                                                                         sci, partner, outsider):
    settings.MEDIA_ROOT = celery_worker_process["media"]
    chain = make_chain(project, sci, cells=2)
    test = imported(chain["cells"][0], sci)
    code = chain["module"].item.code
    response = token_client(partner).get(f"/api/v1/modules/{code}/passport/bundle/", {"async": "1"})
    assert response.status_code == 202
    job_id = response.json()["job"]

    def finished():
        job = Job.objects.get(pk=job_id)
        return job if job.is_finished else None

    job = wait_for(finished, timeout_s=120, message=f"bundle job {job_id}")
    assert job.status == JobStatus.SUCCEEDED, job.error
    name = f"{code}-passport.zip"
    assert job.result["file"] == name and job.result["bytes"] > 0
    download = token_client(partner).get(f"/jobs/{job_id}/files/{name}")
    assert download.status_code == 200
    archive = _archive(download)
    assert {"passport.json", f"cycling-test-{test.pk}.bdf.csv", "ro-crate-metadata.json"} <= set(archive.namelist())
    assert json.loads(archive.read("passport.json"))["generalProductInformation"]["batteryIdentifier"] == code
    # a partner of another organisation cannot open the job or its file
    assert token_client(outsider).get(f"/jobs/{job_id}/files/{name}").status_code == 404
    assert token_client(outsider).get(f"/api/v1/jobs/{job_id}/").status_code == 404
