"""Storage open/close events, sensor-log import, an item's exposure against hand-worked values, excursion flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assbtrack.instruments.models import EnvironmentLog, ExcursionFlag, SensorReading, StorageEvent
from assbtrack.instruments.selectors import item_exposure, item_exposure_between, items_exposed_during
from assbtrack.instruments.services import (
    environment_log_import,
    storage_close,
    storage_event_record,
    storage_open,
)
from tests.utils.checks import client_for
from tests.utils.factories import traced_item
from tests.utils.factories_instruments import import_log, make_equipment, make_room, sensor_csv

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
# The synthetic log of the domain tests: −50, −50, −30, −50, −50 °C hourly from T0; limit −40 °C.
# The excursion runs from T0 + 1.5 h to T0 + 2.5 h (worst −30 °C, 5 °C·h above the limit).
DEW = [-50.0, -50.0, -30.0, -50.0, -50.0]


@pytest.fixture
def t0():
    return (timezone.now() - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def room(tech):
    return make_room(tech, limit_c=-40.0, max_gap_min=120, name="Dry room 1")


def test_exposure_of_an_item_from_its_events_and_the_log(tech, project, room, t0):
    import_log(room, tech, t0, DEW)
    item = traced_item(project=project, user=tech)
    storage_event_record(item=item, room=room, user=tech, opened_at=t0 + 1.75 * H, closed_at=t0 + 3.25 * H)
    result = item_exposure(item)
    # Worked by hand (see the domain test): open 1.5 h; above 1.75 → 2.5 h = 0.75 h; below 0.75 h;
    # excess 0.25 h·(5+10)/2 + ½·0.5 h·10 = 1.875 + 2.5 = 4.375 °C·h; worst −30 °C
    assert result.open_h == pytest.approx(1.5)
    assert result.above_limit_h == pytest.approx(0.75)
    assert result.below_limit_h == pytest.approx(0.75)
    assert result.no_data_h == pytest.approx(0.0)
    assert result.excess_c_h == pytest.approx(4.375)
    assert result.worst_dew_point_c == pytest.approx(-30.0)
    [excursion] = result.excursions
    assert (excursion.started_at, excursion.ended_at) == (t0 + 1.75 * H, t0 + 2.5 * H)
    assert excursion.room == room

    # a second, later opening in the same room adds up: 3.5 → 4 h, all below (−50)
    storage_event_record(item=item, room=room, user=tech, opened_at=t0 + 3.5 * H, closed_at=t0 + 4 * H)
    total = item_exposure(item)
    assert (total.open_h, total.below_limit_h, total.excess_c_h) == pytest.approx((2.0, 1.25, 4.375))
    # only the time between two moments (e.g. two measurements of an exposure study)
    part = item_exposure_between(item, start=t0 + 2 * H, end=t0 + 3.75 * H)
    assert (part.open_h, part.above_limit_h, part.excess_c_h) == pytest.approx((1.5, 0.5, 2.5))


def test_open_now_counts_until_now_with_the_time_after_the_log_as_no_data(tech, project, room, t0):
    import_log(room, tech, t0, DEW)
    item = traced_item(project=project, user=tech)
    now = timezone.now()
    storage_open(item=item, room=room, user=tech, at=t0 + 3 * H)
    result = item_exposure(item, now=now)
    expected_open_h = (now - (t0 + 3 * H)).total_seconds() / 3600
    assert result.open_event is not None
    assert result.open_h == pytest.approx(expected_open_h)
    assert result.below_limit_h == pytest.approx(1.0)  # readings run to T0 + 4 h
    assert result.no_data_h == pytest.approx(expected_open_h - 1.0)
    with pytest.raises(ValidationError) as error:
        storage_open(item=item, room=room, user=tech)
    assert "close it first" in error.value.message_dict["room"][0]
    closed = storage_close(item=item, user=tech, at=t0 + 3.5 * H)
    assert closed.closed_at == t0 + 3.5 * H and closed.closed_by == tech
    assert item_exposure(item).open_h == pytest.approx(0.5)


def test_storage_refusals(tech, project, room, t0):
    item = traced_item(project=project, user=tech)
    mill = make_equipment(tech)
    with pytest.raises(ValidationError) as error:
        storage_open(item=item, room=mill, user=tech)
    assert "not a dry room" in error.value.message_dict["room"][0]
    with pytest.raises(ValidationError) as error:
        storage_open(item=item, room=room, user=tech, at=timezone.now() + timedelta(hours=2))
    assert "future" in error.value.message_dict["opened_at"][0]
    with pytest.raises(ValidationError) as error:
        storage_close(item=item, user=tech)
    assert "not open" in error.value.message_dict["closed_at"][0]
    storage_event_record(item=item, room=room, user=tech, opened_at=t0, closed_at=t0 + 2 * H)
    with pytest.raises(ValidationError) as error:
        storage_event_record(item=item, room=room, user=tech, opened_at=t0 + H, closed_at=t0 + 3 * H)
    assert "already open" in error.value.message_dict["opened_at"][0]
    with pytest.raises(ValidationError) as error:
        storage_event_record(item=item, room=room, user=tech, opened_at=t0 + 5 * H, closed_at=t0 + 4 * H)
    assert "closed_at" in error.value.message_dict
    storage_open(item=item, room=room, user=tech, at=t0 + 4 * H)
    with pytest.raises(ValidationError) as error:
        storage_close(item=item, user=tech, at=t0 + 3 * H)
    assert "after it was opened" in error.value.message_dict["closed_at"][0]
    assert StorageEvent.objects.filter(item=item).count() == 2
    assert StorageEvent.objects.get(item=item, closed_at__isnull=True).history.get().history_user == tech


def _items_around_the_excursion(tech, project, room, other_room, t0):
    """during: 1.75–3.25 h; before: 0–1.25 h; after: 3–4 h; still_open: from 2 h; elsewhere: 1.5–2.5 h elsewhere."""
    items = {name: traced_item(project=project, user=tech)
             for name in ("during", "before", "after", "still_open", "elsewhere")}
    storage_event_record(item=items["during"], room=room, user=tech, opened_at=t0 + 1.75 * H, closed_at=t0 + 3.25 * H)
    storage_event_record(item=items["before"], room=room, user=tech, opened_at=t0, closed_at=t0 + 1.25 * H)
    storage_event_record(item=items["after"], room=room, user=tech, opened_at=t0 + 3 * H, closed_at=t0 + 4 * H)
    storage_open(item=items["still_open"], room=room, user=tech, at=t0 + 2 * H)
    storage_event_record(item=items["elsewhere"], room=other_room, user=tech, opened_at=t0 + 1.5 * H,
                         closed_at=t0 + 2.5 * H)
    return items


def _flags_by_item(items):
    names = {item.pk: name for name, item in items.items()}
    return {names[flag.item_id]: flag for flag in ExcursionFlag.objects.all()}


@pytest.mark.parametrize("log_first", [True, False], ids=["log-then-events", "events-then-log"])
def test_excursions_flag_exactly_the_items_open_during_them(tech, project, room, t0, log_first):
    other_room = make_room(tech, limit_c=-40.0, name="Dry room 2")
    if log_first:
        import_log(room, tech, t0, DEW)
        import_log(other_room, tech, t0, [-55.0] * 5)  # the other room stayed dry
    items = _items_around_the_excursion(tech, project, room, other_room, t0)
    if not log_first:
        assert not ExcursionFlag.objects.exists()
        import_log(room, tech, t0, DEW)
        import_log(other_room, tech, t0, [-55.0] * 5)
    flags = _flags_by_item(items)
    assert set(flags) == {"during", "still_open"}
    assert (flags["during"].started_at, flags["during"].ended_at) == (t0 + 1.75 * H, t0 + 2.5 * H)
    assert (flags["still_open"].started_at, flags["still_open"].ended_at) == (t0 + 2 * H, t0 + 2.5 * H)
    assert flags["during"].worst_dew_point_c == pytest.approx(-30.0)
    assert flags["during"].excess_c_h == pytest.approx(4.375)
    # 2 → 2.5 h: a triangle from 10 °C above down to the limit: ½·0.5·10 = 2.5 °C·h
    assert flags["still_open"].excess_c_h == pytest.approx(2.5)
    assert flags["during"].limit_c == -40.0 and flags["during"].room == room
    exposed = items_exposed_during(room, t0 + 1.5 * H, t0 + 2.5 * H)
    assert {item.pk for item in exposed} == {items["during"].pk, items["still_open"].pk}

    client = client_for(tech)
    assert 'id="excursion-flag"' in client.get(f"/instruments/items/{items['during'].code}/storage/").content.decode()
    assert 'id="excursion-flag"' not in client.get(
        f"/instruments/items/{items['before'].code}/storage/").content.decode()
    qc = client.get("/instruments/qc/").content.decode()
    assert items["during"].code in qc and items["still_open"].code in qc and items["after"].code not in qc


def test_a_log_with_bad_lines_lists_them_all_and_writes_nothing(tech, room, t0):
    content = (
        "time,dew_point_c,temperature_c,relative_humidity_percent\n"
        f"{t0.isoformat()},-50,21,0.5\n"
        "yesterday,-50,21,0.5\n"
        f"{(t0 + H).isoformat()},wet,21,0.5\n"
        f"{(t0 + 2 * H).isoformat()},-45,21,140\n"
        f"{(t0 + 3 * H).isoformat()},,21,0.5\n"
    ).encode()
    with pytest.raises(ValidationError) as error:
        environment_log_import(room=room, user=tech, content=content, file_name="bad.csv")
    messages = error.value.message_dict["file"]
    assert messages[0].startswith("line 3, time:")
    assert messages[1].startswith("line 4, dew_point_c: 'wet'")
    assert messages[2].startswith("line 5, relative_humidity_percent: 140 is outside 0 … 100")
    assert messages[3] == "line 6, dew_point_c: is required"
    assert len(messages) == 4
    assert not EnvironmentLog.objects.exists() and not SensorReading.objects.exists()
    with pytest.raises(ValidationError) as error:
        environment_log_import(room=room, user=tech, content=b"when,dew\n1,2\n", file_name="odd.csv")
    assert "unknown column" in error.value.message_dict["file"][0]


def test_overlapping_logs_skip_known_times_and_the_same_file_is_refused(tech, room, t0):
    first = import_log(room, tech, t0, DEW)
    assert (first.readings_added, first.readings_skipped) == (5, 0)
    assert (first.first_at, first.last_at) == (t0, t0 + 4 * H)
    with pytest.raises(ValidationError) as error:
        import_log(room, tech, t0, DEW)
    assert "imported already" in error.value.message_dict["file"][0]
    second = environment_log_import(room=room, user=tech, content=sensor_csv(t0 + 3 * H, [-50, -50, -48]),
                                    file_name="next.csv")
    assert (second.readings_added, second.readings_skipped) == (1, 2)
    assert SensorReading.objects.filter(room=room).count() == 6
    # naive times are read in the time zone chosen for the file
    naive = b"time,dew_point_c\n2026-01-10 08:00,-52\n"
    log = environment_log_import(room=room, user=tech, content=naive, file_name="local.csv",
                                 timezone_name="Europe/Berlin")
    reading = log.readings.get()
    assert reading.time.isoformat() == "2026-01-10T07:00:00+00:00"
    with pytest.raises(ValidationError) as error:
        environment_log_import(room=room, user=tech, content=b"time,dew_point_c\n2026-01-11 08:00,-52\n",
                               file_name="x.csv", timezone_name="Mars/Olympus")
    assert "timezone_name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        environment_log_import(room=make_equipment(tech), user=tech, content=naive, file_name="x.csv")
    assert "room" in error.value.message_dict
