"""Issue 15: the dashboard's conductivity trend plots each batch's own value, the one its batch page marks
as the batch's, never the measurement of the powder after a dry-room exposure study."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assbtrack.access.models import Project
from assbtrack.jobs.plots import project_plot_panels
from materials.choices import CONDUCTIVITY_TREND
from materials.selectors import batch_conductivity_ms_per_cm, batch_detail_queryset, batch_room_measurement
from materials.services import conductivity_trend_submit, exposure_add
from tests.utils.checks import client_for
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

from .test_qc_dashboard_trends import succeed

pytestmark = pytest.mark.django_db


def plotted(job) -> dict[str, float]:
    return {point["label"]: point["conductivity_ms_per_cm"] for point in job.inputs["points"]}


def dashboard_trend(project):
    [panel] = project_plot_panels(CONDUCTIVITY_TREND, "Conductivity over time", Project.objects.filter(pk=project.pk))
    return panel.job


def test_the_trend_plots_the_batch_value_not_the_measurement_after_an_exposure(project, tech, sci):
    now = timezone.now()
    batch = make_batch(project, tech, precursors=[(make_lot(project, tech, mass_g=50).item, 5.0)])
    # What the technician does, in this order; each record redraws the trend (as the batch forms do).
    pristine = make_measurement(batch, tech, conductivity_ms_per_cm=3.2, measured_at=now - timedelta(days=10))
    succeed(conductivity_trend_submit(project=project, user=tech))
    after = make_measurement(batch, tech, conductivity_ms_per_cm=0.9, measured_at=now - timedelta(days=1),
                             notes="after 6 h in the dry room at -20 °C dew point")
    succeed(conductivity_trend_submit(project=project, user=tech))  # for now the newest 25 °C value: 0.9
    exposure_add(batch=batch, user=tech, dew_point_c=-20.0, duration_h=6.0, measurement_before=pristine,
                 measurement_after=after, exposed_at=now - timedelta(days=2))
    shown = conductivity_trend_submit(project=project, user=tech)
    if shown.status != "succeeded":
        succeed(shown)

    # The batch page marks the pristine measurement as the batch's (3.2 mS/cm, not 0.9 after the exposure)
    page_batch = batch_detail_queryset().get(pk=batch.pk)
    assert batch_room_measurement(page_batch).pk == pristine.pk
    assert batch_conductivity_ms_per_cm(page_batch) == pytest.approx(3.2)
    # ... and the dashboard shows a drawing of exactly that value, not the earlier one with 0.9
    job = dashboard_trend(project)
    assert plotted(job) == {batch.item.code: pytest.approx(3.2)}
    drawn = job.reused_from or job  # a drawing of the same data earlier is shown again, not redrawn
    assert plotted(drawn) == {batch.item.code: pytest.approx(3.2)}
    page = client_for(sci).get("/").content.decode()
    assert f'src="/jobs/{drawn.pk}/files/conductivity_trend.png"' in page
