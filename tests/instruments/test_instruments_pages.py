"""The instruments pages: who may use them, forms that keep what was typed, fixed query counts."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.models import Equipment, SensorReading, StorageEvent
from assbtrack.instruments.services import channel_add, storage_event_record, storage_open
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories import traced_item, user_without_role
from tests.utils.factories_instruments import calibrate, import_log, make_equipment, make_room, sensor_csv

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
_hours = itertools.count(0)


@pytest.fixture
def t0():
    return (timezone.now() - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)


def test_partners_and_people_without_a_role_are_refused(partner, tech, client):
    mill = make_equipment(tech)
    item = traced_item(project=partner.organisations.get().grants.get().project, user=tech)
    for url in ("/instruments/", f"/instruments/{mill.pk}/", "/instruments/new/", "/instruments/qc/",
                f"/instruments/items/{item.code}/storage/", f"/instruments/{mill.pk}/calibrations/new/"):
        assert client_for(partner).get(url).status_code == 403, url
        assert client_for(user_without_role()).get(url).status_code == 403, url
        assert client.get(url).status_code == 302, url  # anonymous: to the log-in page


def test_new_equipment_form_keeps_input_and_names_the_field(tech):
    client = client_for(tech)
    make_equipment(tech, name="Mill 1")
    response = client.post("/instruments/new/", {"kind": "ball_mill", "name": "Mill 1", "location": "B.112",
                                                 "dew_point_limit_c": "nan"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="B.112"' in page and "Enter a number." in page
    response = client.post("/instruments/new/", {"kind": "ball_mill", "name": "Mill 1", "location": "B.112"})
    assert response.status_code == 400 and "already equipment called" in response.content.decode()
    response = client.post("/instruments/new/", {"kind": "dry_room", "name": "Dry room A", "location": "Hall 3",
                                                 "sensor_max_gap_min": "10"})
    room = Equipment.objects.get(name="Dry room A")
    assert response.status_code == 302 and response["Location"] == f"/instruments/{room.pk}/"
    assert (room.dew_point_limit_c, room.sensor_max_gap_min, room.created_by) == (-40.0, 10.0, tech)


def test_sensor_log_page_reports_every_bad_line(tech, t0):
    room = make_room(tech)
    client = client_for(tech)
    bad = b"time,dew_point_c\n2026-01-01T00:00,-50\nnot a time,-50\n2026-01-01T02:00,hot\n"
    response = client.post(f"/instruments/{room.pk}/logs/new/",
                           {"file": SimpleUploadedFile("log.csv", bad), "timezone_name": "UTC"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "line 3, time" in page and "line 4, dew_point_c" in page
    assert not SensorReading.objects.exists()
    good = SimpleUploadedFile("log.csv", sensor_csv(t0, [-50, -45, -42]))
    response = client.post(f"/instruments/{room.pk}/logs/new/", {"file": good, "timezone_name": "UTC"})
    assert response.status_code == 302 and SensorReading.objects.filter(room=room).count() == 3


def test_storage_page_opens_and_closes(tech, project, t0):
    room = make_room(tech, name="Glovebox room")
    item = traced_item(project=project, user=tech)
    client = client_for(tech)
    url = f"/instruments/items/{item.code}/storage/"
    response = client.post(url, {"action": "open", "open-room": room.pk, "open-at": "", "open-notes": "weighing"})
    assert response.status_code == 302
    event = StorageEvent.objects.get(item=item)
    assert event.closed_at is None and event.notes == "weighing"
    page = client.get(url).content.decode()
    assert "Open in Glovebox room since" in page and "Close (back into sealed storage)" in page
    response = client.post(url, {"action": "close", "close-at": "1999-01-01T00:00"})
    assert response.status_code == 400 and "must be after it was opened" in response.content.decode()
    response = client.post(url, {"action": "close", "close-at": ""})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.closed_at is not None and event.closed_by == tech
    response = client.post(url, {"action": "record", "record-room": room.pk, "record-opened_at": "2026-13-01T00:00",
                                 "record-closed_at": "x"})
    assert response.status_code == 400
    assert client.get("/instruments/items/NOPE-000001/storage/").status_code == 404


def test_cycler_channels_are_listed(tech):
    cycler = make_equipment(tech, kind=EquipmentKind.CYCLER, name="Cycler 2")
    client = client_for(tech)
    assert client.post(f"/instruments/{cycler.pk}/channels/new/", {"label": "B-07"}).status_code == 302
    response = client.post(f"/instruments/{cycler.pk}/channels/new/", {"label": "B-07"})
    assert response.status_code == 400 and "has a channel B-07 already" in response.content.decode()
    assert "B-07" in client.get(f"/instruments/{cycler.pk}/").content.decode()


def test_list_page_queries_are_fixed(tech):
    today = timezone.localdate()

    def add(n):
        for index in range(n):
            equipment = make_equipment(tech, kind=EquipmentKind.CYCLER if index % 2 else EquipmentKind.BALL_MILL)
            calibrate(equipment, tech, on=today - timedelta(days=30), due=today + timedelta(days=index - 5))
            if index % 2:
                channel_add(equipment=equipment, label="1", user=tech)

    assert_fixed_queries(client_for(tech), "/instruments/", add_rows=add)


def test_equipment_and_room_pages_queries_are_fixed(tech, project, t0):
    room = make_room(tech, name="Dry room Q", max_gap_min=120)
    cycler = make_equipment(tech, kind=EquipmentKind.CYCLER, name="Cycler Q")
    today = timezone.localdate()

    def add(n):
        for _ in range(n):
            hour = next(_hours)
            start = t0 + hour * 6 * H
            import_log(room, tech, start, [-50, -30, -50], name=f"log-{hour}.csv")
            item = traced_item(project=project, user=tech)
            storage_event_record(item=item, room=room, user=tech, opened_at=start, closed_at=start + 2 * H)
            storage_open(item=traced_item(project=project, user=tech), room=room, user=tech, at=start)
            calibrate(cycler, tech, on=today - timedelta(days=hour + 1), due=today + timedelta(days=1))
            channel_add(equipment=cycler, label=f"ch{hour}", user=tech)

    assert_fixed_queries(client_for(tech), f"/instruments/{room.pk}/", add_rows=add)
    assert_fixed_queries(client_for(tech), f"/instruments/{cycler.pk}/", add_rows=add)
    assert_fixed_queries(client_for(tech), "/instruments/qc/", add_rows=add)


def test_storage_page_queries_are_fixed_with_more_events(tech, project, t0):
    room = make_room(tech, name="Dry room S", max_gap_min=120)
    other = make_room(tech, name="Dry room T", max_gap_min=120)
    item = traced_item(project=project, user=tech)

    def add(n):
        for _ in range(n):
            hour = next(_hours)
            start = t0 + hour * 6 * H
            for target in (room, other):
                import_log(target, tech, start, [-50, -30, -50], name=f"{target.pk}-{hour}.csv")
            storage_event_record(item=item, room=room if hour % 2 else other, user=tech, opened_at=start + 0.5 * H,
                                 closed_at=start + 1.5 * H)

    assert_fixed_queries(client_for(tech), f"/instruments/items/{item.code}/storage/", add_rows=add)
