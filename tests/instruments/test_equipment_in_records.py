"""Records name the equipment they used: wrong kinds refused, out-of-calibration use warned and flagged on the record
and the QC dashboard; the cycler channel of a cell is visible; the item page shows the exposure panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from assbtrack.instruments.choices import EquipmentKind
from assbtrack.instruments.selectors import records_with_uncalibrated_equipment
from assbtrack.instruments.services import channel_add, storage_event_record
from cells.services import cell_densification_record, cycling_test_create
from electrodes.services import film_pass_add
from tests.utils.checks import client_for
from tests.utils.factories_cells import make_cell
from tests.utils.factories_electrodes import make_film
from tests.utils.factories_instruments import calibrate, import_log, make_equipment, make_room
from tests.utils.factories_materials import make_batch, make_measurement

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def overdue_analyser(tech, today):
    analyser = make_equipment(tech, kind=EquipmentKind.IMPEDANCE_ANALYSER, name="EIS old")
    calibrate(analyser, tech, on=today - timedelta(days=400), due=today - timedelta(days=10))
    return analyser


@pytest.fixture
def good_analyser(tech, today):
    analyser = make_equipment(tech, kind=EquipmentKind.IMPEDANCE_ANALYSER, name="EIS new")
    calibrate(analyser, tech, on=today - timedelta(days=10), due=today + timedelta(days=355))
    return analyser


def test_a_record_refuses_equipment_of_the_wrong_kind(tech, project, good_analyser):
    with pytest.raises(ValidationError) as error:
        make_batch(project, tech, equipment=good_analyser)
    assert "is a impedance analyser, not a ball mill" in error.value.message_dict["equipment"][0]
    mill = make_equipment(tech, kind=EquipmentKind.BALL_MILL, name="Mill Z", make_model="Fritsch P7")
    with pytest.raises(ValidationError) as error:  # never calibrated: used only once someone confirms it
        make_batch(project, tech, equipment=mill, confirm_warnings=False)
    assert error.value.message_dict["confirm_warnings"] == [
        "Mill Z has no calibration on record; tick the box to confirm it"]
    batch = make_batch(project, tech, equipment=mill, confirm_warnings=True)
    assert [(row.code, row.confirmed_by) for row in batch.item.confirmed_warnings.all()] == [
        ("calibration_overdue", tech)]
    assert (batch.equipment, batch.mill) == (mill, "Fritsch P7")  # the make and model follows the equipment
    with pytest.raises(ValidationError) as error:
        make_measurement(batch, tech, equipment=mill)
    assert "equipment" in error.value.message_dict


def test_overdue_equipment_is_used_with_a_warning_and_flagged(tech, project, overdue_analyser, good_analyser):
    batch = make_batch(project, tech)
    client = client_for(tech)
    response = client.post(f"/materials/batches/{batch.item.code}/measurements/new/", {
        "temperature_c": "25", "thickness_mm": "1", "diameter_mm": "10", "resistance_ohm": "40",
        "equipment": overdue_analyser.pk,
    }, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "EIS old: calibration was due on" in page and "10 days overdue" in page  # the warning message
    measurement = batch.measurements.get()
    assert measurement.equipment == overdue_analyser  # kept, not refused
    assert "⚠ calibration overdue" in page  # flagged on the record's row
    make_measurement(batch, tech, equipment=good_analyser)
    flagged = records_with_uncalibrated_equipment()
    assert [(row["code"], row["equipment_name"], row["state"]) for row in flagged] == [
        (batch.item.code, "EIS old", "overdue")
    ]
    qc = client.get("/instruments/qc/").content.decode()
    assert batch.item.code in qc and "Conductivity measurement" in qc
    assert batch.item.code in client.get("/").content.decode()  # the dashboard panel


def test_a_measurement_made_while_in_calibration_is_not_flagged_later(tech, project, today):
    analyser = make_equipment(tech, kind=EquipmentKind.IMPEDANCE_ANALYSER, name="EIS mid")
    calibrate(analyser, tech, on=today - timedelta(days=400), due=today - timedelta(days=5))
    batch = make_batch(project, tech)
    make_measurement(batch, tech, equipment=analyser, measured_at=timezone.now() - timedelta(days=30))
    assert records_with_uncalibrated_equipment() == []  # it was in calibration on the day of use
    make_measurement(batch, tech, equipment=analyser)
    assert len(records_with_uncalibrated_equipment()) == 1


def test_passes_densification_and_cycling_name_their_equipment(tech, project, today):
    calender = make_equipment(tech, kind=EquipmentKind.CALENDER, name="Calender 9")
    calibrate(calender, tech, on=today - timedelta(days=30), due=today + timedelta(days=300))
    film = make_film(project, tech, passes=[], result=False)
    step = film_pass_add(film=film, user=tech, roll_temperature_c=80, gap_um=100, line_force_n_per_mm=50,
                         speed_m_per_min=1, thickness_um=150, equipment=calender)
    assert step.equipment == calender
    film_page = client_for(tech).get(f"/electrodes/films/{film.item.code}/").content.decode()
    assert "Calender 9" in film_page

    press = make_equipment(tech, kind=EquipmentKind.PRESS_ISOSTATIC, name="WIP 1")  # never calibrated
    cell = make_cell(project, tech)
    with pytest.raises(ValidationError) as asked:  # never calibrated: used once someone confirms it
        cell_densification_record(cell=cell, user=tech, method="isostatic", pressure_mpa=300, hold_time_min=10,
                                  equipment=press)
    assert "WIP 1 has no calibration on record" in asked.value.message_dict["confirm_warnings"][0]
    record = cell_densification_record(cell=cell, user=tech, method="isostatic", pressure_mpa=300, hold_time_min=10,
                                       equipment=press, confirm_warnings=True)
    assert record.equipment == press
    assert [row.code for row in cell.item.confirmed_warnings.all()] == ["calibration_overdue"]
    with pytest.raises(ValidationError):
        cell_densification_record(cell=cell, user=tech, method="isostatic", pressure_mpa=300, hold_time_min=10,
                                  equipment=calender.__class__.objects.get(pk=make_equipment(tech).pk))

    cycler = make_equipment(tech, kind=EquipmentKind.CYCLER, name="Cycler 7")
    calibrate(cycler, tech, on=today - timedelta(days=30), due=today + timedelta(days=300))
    channel = channel_add(equipment=cycler, label="B-07", user=tech)
    columns = {"cycle": "cycle", "voltage_v": "voltage_v", "current_ma": "current_ma", "time_s": "time_s"}
    test = cycling_test_create(cell=cell, user=tech, data_file=ContentFile(b"cycle,voltage_v,current_ma,time_s\n"
                                                                           b"1,4.2,1,0\n", name="t.csv"),
                               cycler="", column_map=columns, submit=False, cycler_channel=channel)
    assert (test.cycler, test.channel, test.cycler_channel) == ("Cycler 7", "B-07", channel)
    client = client_for(tech)
    cell_page = client.get(f"/cells/{cell.item.code}/").content.decode()
    assert "Cycler 7</a> channel B-07" in cell_page
    assert "⚠ never calibrated" in cell_page  # the press row
    cycler_page = client.get(f"/instruments/{cycler.pk}/").content.decode()
    assert cell.item.code in cycler_page  # which cell is on the channel
    labels = {row["label"] for row in records_with_uncalibrated_equipment()}
    assert labels == {"Densification"}


def test_the_item_page_shows_the_exposure_panel(tech, project):
    room = make_room(tech, name="Dry room P", max_gap_min=120)
    t0 = (timezone.now() - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    import_log(room, tech, t0, [-50, -50, -30, -50, -50])
    batch = make_batch(project, tech)
    storage_event_record(item=batch.item, room=room, user=tech, opened_at=t0 + timedelta(hours=1.75),
                         closed_at=t0 + timedelta(hours=3.25))
    client = client_for(tech)
    page = client.get(f"/items/{batch.item.code}/").content.decode()
    assert 'id="exposure"' in page and 'id="excursion-flag"' in page
    assert "4.38 °C·h" in page  # 4.375 °C·h worked by hand in the exposure tests
    assert "Dry room P" in client.get(f"/materials/batches/{batch.item.code}/").content.decode()
