"""Calibration state (ok / overdue / never) on a day, its warning, its banner, and append-only calibrations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assbtrack.instruments.choices import CalibrationState, EquipmentKind
from assbtrack.instruments.selectors import (
    calibration_warning,
    equipment_calibration_state,
    equipment_overdue,
)
from assbtrack.instruments.services import calibration_add, channel_add, equipment_create
from tests.utils.checks import client_for
from tests.utils.factories_instruments import calibrate, make_equipment, make_room

pytestmark = pytest.mark.django_db


def test_states_on_given_days(tech):
    mill = make_equipment(tech)
    assert equipment_calibration_state(mill, date(2026, 1, 1)).state == CalibrationState.NEVER
    calibrate(mill, tech, on=date(2025, 1, 10), due=date(2026, 1, 10))
    mill = type(mill).objects.get(pk=mill.pk)
    assert equipment_calibration_state(mill, date(2025, 1, 9)).state == CalibrationState.NEVER  # before the first
    in_time = equipment_calibration_state(mill, date(2026, 1, 10))  # the due day itself is still in calibration
    assert (in_time.state, in_time.due_on) == (CalibrationState.OK, date(2026, 1, 10))
    late = equipment_calibration_state(mill, date(2026, 1, 11))
    assert (late.state, late.due_on, late.calibrated_on) == (CalibrationState.OVERDUE, date(2026, 1, 10),
                                                             date(2025, 1, 10))
    # a later calibration brings it back, from its own date on; the earlier days stay overdue
    calibrate(mill, tech, on=date(2026, 2, 1), due=date(2027, 2, 1))
    mill = type(mill).objects.get(pk=mill.pk)
    assert equipment_calibration_state(mill, date(2026, 1, 20)).state == CalibrationState.OVERDUE
    assert equipment_calibration_state(mill, date(2026, 2, 1)).state == CalibrationState.OK


def test_using_overdue_equipment_warns_with_the_due_date(tech):
    analyser = make_equipment(tech, kind=EquipmentKind.IMPEDANCE_ANALYSER, name="EIS 1")
    today = timezone.localdate()
    calibrate(analyser, tech, on=today - timedelta(days=400), due=today - timedelta(days=35))
    message = calibration_warning(analyser)
    assert message is not None
    assert "EIS 1" in message and f"{today - timedelta(days=35):%Y-%m-%d}" in message and "35 days overdue" in message
    assert calibration_warning(make_equipment(tech)).endswith("no calibration on record. The record is kept and "
                                                             "flagged.")
    calibrate(analyser, tech, on=today, due=today + timedelta(days=365))
    assert calibration_warning(type(analyser).objects.get(pk=analyser.pk)) is None
    assert calibration_warning(None) is None


def test_overdue_list_and_banners(tech):
    today = timezone.localdate()
    late = make_equipment(tech, name="Press A", kind=EquipmentKind.PRESS_UNIAXIAL)
    calibrate(late, tech, on=today - timedelta(days=100), due=today - timedelta(days=1))
    fine = make_equipment(tech, name="Press B", kind=EquipmentKind.PRESS_UNIAXIAL)
    calibrate(fine, tech, on=today - timedelta(days=10), due=today + timedelta(days=100))
    never = make_equipment(tech, name="Calender 1", kind=EquipmentKind.CALENDER)
    names = [equipment.name for equipment, _ in equipment_overdue()]
    assert names == ["Calender 1", "Press A"]  # never calibrated first, then the most overdue

    client = client_for(tech)
    page = client.get(f"/instruments/{late.pk}/").content.decode()
    assert 'id="calibration-warning"' in page and f"{today - timedelta(days=1):%Y-%m-%d}" in page
    assert 'id="calibration-warning"' not in client.get(f"/instruments/{fine.pk}/").content.decode()
    assert "no calibration on record" in client.get(f"/instruments/{never.pk}/").content.decode()
    listing = client.get("/instruments/").content.decode()
    assert "<b>2</b> pieces of equipment are out of calibration" in listing
    dashboard = client.get("/").content.decode()
    assert 'id="instruments-qc"' in dashboard and "Press A" in dashboard and "Press B" not in dashboard


def test_calibration_refusals_and_append_only(tech):
    mill = make_equipment(tech)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        calibration_add(equipment=mill, user=tech, calibrated_on=today, due_on=today)
    assert "due_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        calibration_add(equipment=mill, user=tech, calibrated_on=today + timedelta(days=30),
                        due_on=today + timedelta(days=60))
    assert "calibrated_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        calibration_add(equipment=mill, user=tech, calibrated_on=None, due_on=None)
    assert set(error.value.message_dict) == {"calibrated_on", "due_on"}
    calibration = calibrate(mill, tech, on=today, due=today + timedelta(days=1))
    calibration.notes = "changed"
    with pytest.raises(ValueError, match="append-only"):
        calibration.save()


def test_calibration_form_with_certificate(tech, settings):
    mill = make_equipment(tech, name="Mill 7")
    client = client_for(tech)
    today = timezone.localdate()
    bad = client.post(f"/instruments/{mill.pk}/calibrations/new/",
                      {"calibrated_on": today.isoformat(), "due_on": (today - timedelta(days=1)).isoformat(),
                       "performed_by": "Metrology Ltd"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "must be after the calibration date" in page and 'value="Metrology Ltd"' in page
    certificate = SimpleUploadedFile("cert.pdf", b"%PDF-1.4 certificate", content_type="application/pdf")
    ok = client.post(f"/instruments/{mill.pk}/calibrations/new/",
                     {"calibrated_on": today.isoformat(), "due_on": (today + timedelta(days=365)).isoformat(),
                      "performed_by": "Metrology Ltd", "certificate": certificate})
    assert ok.status_code == 302
    calibration = mill.calibrations.get()
    download = client.get(f"/instruments/calibrations/{calibration.pk}/certificate/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 certificate"
    assert download["Content-Type"] == "application/pdf"


def test_equipment_refusals(tech):
    equipment_create(user=tech, kind=EquipmentKind.BALL_MILL, name="Mill 1", serial_number="X1")
    with pytest.raises(ValidationError) as error:
        equipment_create(user=tech, kind=EquipmentKind.BALL_MILL, name="mill 1")
    assert "name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        equipment_create(user=tech, kind=EquipmentKind.BALL_MILL, name="Mill 2", serial_number="X1")
    assert "serial_number" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        equipment_create(user=tech, kind=EquipmentKind.BALL_MILL, name="Mill 3", dew_point_limit_c=-40)
    assert "dew_point_limit_c" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        equipment_create(user=tech, kind="toaster", name="Toaster")
    assert "kind" in error.value.message_dict
    room = make_room(tech, limit_c=-45)
    glovebox = equipment_create(user=tech, kind=EquipmentKind.GLOVEBOX, name="Glovebox 1")
    assert (room.dew_point_limit_c, glovebox.dew_point_limit_c) == (-45.0, -70.0)
    with pytest.raises(ValidationError) as error:
        channel_add(equipment=room, label="1", user=tech)
    assert "label" in error.value.message_dict
    cycler = make_equipment(tech, kind=EquipmentKind.CYCLER, name="Cycler 1")
    channel_add(equipment=cycler, label="3", user=tech)
    with pytest.raises(ValidationError):
        channel_add(equipment=cycler, label="3", user=tech)
    assert cycler.history.count() == 1 and cycler.history.get().history_user == tech
