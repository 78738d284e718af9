"""The dry-room exposure study takes its dew point and time from the log when the batch has open/close events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assbtrack.instruments.services import storage_event_record
from materials.services import exposure_add
from tests.utils.checks import client_for
from tests.utils.factories_instruments import import_log, make_room
from tests.utils.factories_materials import make_batch, make_measurement

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


@pytest.fixture
def t0():
    return (timezone.now() - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def test_dew_point_and_hours_come_from_the_log(tech, project, t0):
    room = make_room(tech, name="Dry room X", limit_c=-40, max_gap_min=120)
    # −45 °C for the first 3 h, then a ramp to −35 °C at 4 h (above the limit from 3.5 h)
    import_log(room, tech, t0, [-45, -45, -45, -45, -35])
    batch = make_batch(project, tech)
    before = make_measurement(batch, tech, conductivity_ms_per_cm=3.0, measured_at=t0 - 2 * H)
    after = make_measurement(batch, tech, conductivity_ms_per_cm=2.4, measured_at=t0 + 6 * H)
    storage_event_record(item=batch.item, room=room, user=tech, opened_at=t0 + 0.5 * H, closed_at=t0 + 2.5 * H)
    study = exposure_add(batch=batch, user=tech, dew_point_c=None, duration_h=None, measurement_before=before,
                         measurement_after=after)
    # open 0.5 → 2.5 h, all at −45 °C: the effective dew point is −45 °C, 2 h out of sealed storage
    assert study.from_log is True
    assert study.dew_point_c == pytest.approx(-45.0, abs=0.005)
    assert study.duration_h == pytest.approx(2.0)
    assert study.retention_percent == pytest.approx(80.0)
    assert study.exposed_at == t0 + 0.5 * H
    assert "From the dry-room log (Dry room X): 2.00 h out of sealed storage, 0.00 h above the limit" in study.notes
    assert "worst dew point -45.0 °C" in study.notes


def test_only_the_time_between_the_two_measurements_counts(tech, project, t0):
    room = make_room(tech, name="Dry room Y", limit_c=-40, max_gap_min=120)
    import_log(room, tech, t0, [-45, -45, -45, -45, -35])
    batch = make_batch(project, tech)
    storage_event_record(item=batch.item, room=room, user=tech, opened_at=t0, closed_at=t0 + 4 * H)
    before = make_measurement(batch, tech, conductivity_ms_per_cm=3.0, measured_at=t0 + 1 * H)
    after = make_measurement(batch, tech, conductivity_ms_per_cm=2.7, measured_at=t0 + 4 * H)
    study = exposure_add(batch=batch, user=tech, dew_point_c=None, duration_h=None, measurement_before=before,
                         measurement_after=after, from_log=True)
    # 1 → 4 h: 2 h at −45 °C, then −45 → −35 over the last hour (above −40 from 3.5 h: 0.5 h, excess ½·0.5·5)
    assert study.duration_h == pytest.approx(3.0)
    assert "0.50 h above the limit" in study.notes and "1.25 °C·h above the limit" in study.notes
    assert -45.0 < study.dew_point_c < -40.0  # the ramp raises the effective dew point above the plateau


def test_typed_values_are_kept_and_a_batch_never_opened_is_refused_from_the_log(tech, project, t0):
    batch = make_batch(project, tech)
    before = make_measurement(batch, tech, conductivity_ms_per_cm=3.0, measured_at=t0)
    after = make_measurement(batch, tech, conductivity_ms_per_cm=2.7, measured_at=t0 + 5 * H)
    typed = exposure_add(batch=batch, user=tech, dew_point_c=-50, duration_h=4, measurement_before=before,
                         measurement_after=after)
    assert (typed.from_log, typed.dew_point_c, typed.duration_h) == (False, -50.0, 4.0)
    with pytest.raises(ValidationError) as error:
        exposure_add(batch=batch, user=tech, dew_point_c=None, duration_h=None, measurement_before=before,
                     measurement_after=after, from_log=True)
    assert "was not out of sealed storage" in error.value.message_dict["from_log"][0]
    client = client_for(tech)
    response = client.post(f"/materials/batches/{batch.item.code}/exposures/new/", {
        "measurement_before": before.pk, "measurement_after": after.pk,
    })
    assert response.status_code in (200, 400)
    assert "or take it from the dry-room log" in response.content.decode()
