"""Scientists see equipment, calibrations, logs, storage events and flags in the admin; append-only rows stay so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.services import storage_event_record
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories import traced_item
from tests.utils.factories_instruments import calibrate, import_log, make_equipment, make_room

pytestmark = pytest.mark.django_db


def test_admin_lists_and_pages(sci, tech, project):
    room = make_room(tech, name="Dry room admin", max_gap_min=120)
    t0 = (timezone.now() - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    import_log(room, tech, t0, [-50, -30, -50])
    item = traced_item(project=project, user=tech)
    storage_event_record(item=item, room=room, user=tech, opened_at=t0, closed_at=t0 + timedelta(hours=2))
    mill = make_equipment(tech, kind=EquipmentKind.BALL_MILL, name="Mill admin")
    today = timezone.localdate()
    calibration = calibrate(mill, tech, on=today - timedelta(days=400), due=today - timedelta(days=35))
    client = client_for(sci)
    for url in ("/admin/instruments/equipment/", f"/admin/instruments/equipment/{mill.pk}/change/",
                "/admin/instruments/calibration/", "/admin/instruments/environmentlog/",
                "/admin/instruments/storageevent/", "/admin/instruments/excursionflag/",
                f"/admin/instruments/calibration/{calibration.pk}/change/"):
        assert client.get(url).status_code == 200, url
    listing = client.get("/admin/instruments/equipment/").content.decode()
    assert "Calibration overdue" in listing and "Mill admin" in listing
    assert item.code in client.get("/admin/instruments/excursionflag/").content.decode()
    # append-only: the calibration page is read-only, and nothing is deleted from the admin
    page = client.get(f"/admin/instruments/calibration/{calibration.pk}/change/").content.decode()
    assert 'name="due_on"' not in page
    assert client.post(f"/admin/instruments/calibration/{calibration.pk}/delete/", {"post": "yes"}).status_code == 403


def test_admin_equipment_list_queries_are_fixed(sci, tech):
    today = timezone.localdate()

    def add(n):
        for _ in range(n):
            calibrate(make_equipment(tech), tech, on=today - timedelta(days=10), due=today + timedelta(days=10))

    assert_fixed_queries(client_for(sci), "/admin/instruments/equipment/", add_rows=add)
