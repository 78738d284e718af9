"""Drill: twenty technicians submit a synthesis batch drawing on the same precursor lot at the same moment.

Real HTTP requests from 20 threads to the live server (its own threads, its own database connections).
The lot holds 20 g and each request asks for 3 g, so at most six can be granted (18 g); every other
request must be refused with the "left" message beside the precursor row, and none may be a server error.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
import requests
from django.test import Client

from assbtrack.tracing.models import LineageEdge, TracedItem
from materials.models import SynthesisBatch
from tests.utils.factories import technician
from tests.utils.factories_materials import make_lot

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
LOT_G = 20
ASK_G = 3
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def batch_form(project, lot_code: str, token: str) -> dict:
    return {
        "csrfmiddlewaretoken": token,
        "project": project.pk, "composition": "Li6PS5Cl", "sse_class": "sulfide", "route": "mechanochemical",
        "batch_mass_g": "2.8", "mill": "Fritsch P7", "jar_material": "zirconia", "media_material": "zirconia",
        "ball_diameter_mm": "5", "ball_to_powder_ratio": "30", "speed_rpm": "510", "milling_time_h": "1",
        "heat_treatment_temperature_c": "550", "heat_treatment_time_h": "5", "heat_treatment_atmosphere": "argon",
        "environment": "glovebox", "glovebox_o2_ppm": "0.3", "glovebox_h2o_ppm": "0.1", "dew_point_c": "",
        "density_g_per_cm3": "1.86", "notes": "",
        "precursors-TOTAL_FORMS": "1", "precursors-INITIAL_FORMS": "0",
        "precursors-MIN_NUM_FORMS": "0", "precursors-MAX_NUM_FORMS": "40",
        "precursors-0-lot": lot_code, "precursors-0-mass_g": str(ASK_G),
    }


def test_twenty_concurrent_batches_never_overdraw_the_lot(live_server, project):
    tech = technician()
    lot = make_lot(project, tech, mass_g=LOT_G)
    login = Client()
    login.force_login(tech)
    session_key = login.cookies["sessionid"].value
    url = f"{live_server.url}/materials/batches/new/"

    # each thread gets its own browser-like session with a CSRF cookie and the form's token
    sessions = []
    for _ in range(THREADS):
        session = requests.Session()
        session.cookies.set("sessionid", session_key)
        page = session.get(url, timeout=30)
        assert page.status_code == 200
        sessions.append((session, TOKEN.search(page.text).group(1)))

    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, str]] = [None] * THREADS  # type: ignore[list-item]

    def submit(index: int) -> None:
        session, token = sessions[index]
        barrier.wait(timeout=30)
        response = session.post(url, data=batch_form(project, lot.item.code, token), headers={"Referer": url},
                                allow_redirects=False, timeout=120)
        results[index] = (response.status_code, response.text)

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert all(result is not None for result in results), "a request never came back"

    statuses = [status for status, _ in results]
    assert 500 not in statuses
    granted = [text for status, text in results if status == 302]
    refused = [text for status, text in results if status != 302]
    assert all(status in (200, 302) for status in statuses), statuses
    # 20 g / 3 g: six fit, the seventh would need 21 g
    assert len(granted) == LOT_G // ASK_G
    assert len(refused) == THREADS - LOT_G // ASK_G
    for text in refused:
        start = text.index('id="id_precursors-0-mass_g-error"')
        assert " left" in text[start:start + 400], text[start:start + 400]

    item = TracedItem.objects.get(pk=lot.pk)
    edges = LineageEdge.objects.filter(parent=item)
    used = sum((edge.amount for edge in edges), Decimal(0))
    assert used <= LOT_G
    assert item.quantity_used == used == ASK_G * len(granted)
    assert SynthesisBatch.objects.count() == len(granted)
