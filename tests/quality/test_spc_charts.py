"""Control charts of QC series: the flag a rule raises on a record, where it shows, and who may set a baseline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from assbtrack.jobs.handlers import JobContext, job_handler
from assbtrack.jobs.models import Job, JobStatus
from assbtrack.jobs.services import job_start, job_succeed
from assbtrack.quality.models import ControlFlag, ControlSeries
from assbtrack.quality.services import SPC_CHART, control_charts_submit
from assbtrack.tracing.choices import ItemKind
from tests.conftest import wait_for
from tests.utils.checks import assert_fixed_queries, client_for
from tests.utils.factories_materials import make_batch, make_lot, make_measurement

# 20 baseline batches alternating 3.0 and 3.2 mS/cm: centre 3.1, moving range 0.2, σ = 0.2 / 1.128 = 0.17730,
# UCL 3.6319, LCL 2.5681. A batch at 2.2 mS/cm lies (2.2 − 3.1) / 0.1773 = −5.08 σ away: WE1 and nothing else
# (one point beyond 2σ is not two of three; the baseline alternates sides, so no run of eight).
BASELINE = [3.0, 3.2] * 10
SIGMA = 0.2 / 1.128
START = timezone.now() - timedelta(days=60)


class Lab:
    def __init__(self, project, user):
        self.project, self.user = project, user
        self.precursors = [(make_lot(project, user, formula=f, mass_g=500.0).item, 1.0) for f in ("Li2S", "P2S5")]
        self.count = 0

    def batch(self, conductivity_ms_per_cm: float, **overrides):
        batch = make_batch(self.project, self.user, precursors=self.precursors, batch_mass_g=1.9, **overrides)
        make_measurement(batch, self.user, conductivity_ms_per_cm=conductivity_ms_per_cm,
                         measured_at=START + timedelta(hours=self.count))
        self.count += 1
        return batch


def run_in_process(job: Job) -> Job:
    """What a worker does with the job, in this process (the worker test below does it for real)."""
    state, claimed = job_start(job_id=job.pk)
    assert claimed is not None, state
    output = job_handler(job.kind).run(
        JobContext(job_id=job.pk, inputs=claimed.inputs, subject_id=None, report_progress=lambda *a: None)
    )
    return job_succeed(job_id=job.pk, output=output)


def chart(batch, user) -> Job:
    [job] = control_charts_submit(items=[batch.item], user=user)
    return run_in_process(job) if job.status != JobStatus.SUCCEEDED else job


@pytest.mark.django_db
def test_a_batch_beyond_three_sigma_is_flagged_we1_with_its_position(project, sci):
    lab = Lab(project, sci)
    for value in BASELINE:
        lab.batch(value)
    low = lab.batch(2.2)
    job = chart(low, sci)
    assert job.result["center"] == pytest.approx(3.1, rel=1e-6)
    assert job.result["sigma"] == pytest.approx(SIGMA, rel=1e-6)
    assert job.result["baseline_count"] == 20
    [flag] = ControlFlag.objects.all()
    assert (flag.item_id, flag.rule, flag.position) == (low.item.pk, "we1", 21)
    assert flag.z == pytest.approx((2.2 - 3.1) / SIGMA, abs=1e-3)
    assert {f.name for f in job.files.all()} == {"control_chart.png", "control_chart.svg"}
    series = ControlSeries.objects.get()
    assert series.key == f"materials.conductivity:{project.code}:Li6PS5Cl:mechanochemical"
    assert (series.points, series.chart_job_id) == (21, job.pk)


@pytest.mark.django_db
def test_one_chart_per_series_for_a_transaction_that_records_many(project, sci, django_capture_on_commit_callbacks):
    lab = Lab(project, sci)
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            for value in BASELINE:
                lab.batch(value)
    submits = [callback for callback in callbacks if callback.__name__ == "submit"]
    assert len(submits) == 1
    submits[0]()
    [job] = Job.objects.filter(kind=SPC_CHART)
    assert len(job.inputs["points"]) == 20


@pytest.mark.django_db
def test_fewer_than_eight_batches_are_not_charted_and_other_routes_are_another_series(project, sci):
    lab = Lab(project, sci)
    for value in BASELINE[:7]:
        batch = lab.batch(value)
    assert control_charts_submit(items=[batch.item], user=sci) == []
    other = lab.batch(3.0, route="melt_quench")
    assert control_charts_submit(items=[other.item], user=sci) == []
    assert ControlSeries.objects.count() == 2


@pytest.mark.django_db
def test_a_later_chart_replaces_the_flags_and_a_recovered_series_has_none(project, sci):
    lab = Lab(project, sci)
    for value in BASELINE:
        lab.batch(value)
    low = lab.batch(2.2)
    chart(low, sci)
    assert ControlFlag.objects.filter(item=low.item).exists()
    # the scientist widens the baseline to all 21: σ = (19·0.2 + 1.0) / 20 / 1.128 = 0.21277, centre 3.05714;
    # z(2.2) = −4.03: still WE1
    series = ControlSeries.objects.get()
    response = client_for(sci).post(f"/quality/spc/{series.pk}/baseline/", {f"s{series.pk}-baseline_count": "21"})
    assert response.status_code == 302
    job = Job.objects.filter(kind=SPC_CHART).order_by("-id").first()
    run_in_process(job)
    assert job.inputs["baseline_count"] == 21
    series.refresh_from_db()
    assert series.sigma == pytest.approx((19 * 0.2 + 1.0) / 20 / 1.128, rel=1e-6)
    assert list(ControlFlag.objects.values_list("rule", "position")) == [("we1", 21)]


@pytest.mark.django_db
def test_only_a_scientist_sets_a_baseline_and_bad_counts_change_nothing(project, sci, tech):
    lab = Lab(project, sci)
    for value in BASELINE:
        batch = lab.batch(value)
    chart(batch, sci)
    series = ControlSeries.objects.get()
    url = f"/quality/spc/{series.pk}/baseline/"
    assert client_for(tech).post(url, {f"s{series.pk}-baseline_count": "10"}).status_code == 403
    jobs = Job.objects.count()
    for bad in ("5", "x", "-3"):
        response = client_for(sci).post(url, {f"s{series.pk}-baseline_count": bad}, follow=True)
        assert response.status_code == 200
        assert "Baseline of" in response.content.decode()
    series.refresh_from_db()
    assert series.baseline_count is None and Job.objects.count() == jobs
    assert client_for(sci).post("/quality/spc/999999/baseline/", {}).status_code == 404


@pytest.mark.django_db
def test_the_flag_shows_on_the_pages_the_admin_filter_and_the_api(project, sci, partner, outsider):
    lab = Lab(project, sci)
    for value in BASELINE:
        lab.batch(value)
    low = lab.batch(2.2)
    chart(low, sci)
    code = low.item.code
    sci_client = client_for(sci)
    for url in (f"/items/{code}/", f"/materials/batches/{code}/", "/", "/quality/spc/"):
        page = sci_client.get(url).content.decode()
        assert "WE1" in page and code in page, url
    in_control = sci_client.get(f"/items/{lab.precursors[0][0].code}/").content.decode()
    assert 'id="control-flags"' not in in_control
    admin = sci_client.get("/admin/materials/synthesisbatch/?out_of_control=we1").content.decode()
    assert code in admin
    assert sci_client.get("/admin/materials/synthesisbatch/?out_of_control=no").content.decode().count(code) == 0
    api = client_for(partner)
    rows = api.get("/api/v1/control-flags/").json()["results"]
    assert [(row["code"], row["rule"], row["position"]) for row in rows] == [(code, "we1", 21)]
    batch_row = api.get(f"/api/v1/sse-batches/{code}/").json()
    assert batch_row["out_of_control"] is True
    assert api.get(f"/api/v1/sse-batches/?code={lab.batch(3.1).item.code}").json()["results"][0][
        "out_of_control"] is False
    assert client_for(outsider).get("/api/v1/control-flags/").json()["results"] == []
    assert client_for(outsider).get(f"/api/v1/control-flags/{rows[0]['id']}/").status_code == 404


@pytest.mark.django_db
def test_spc_page_and_dashboard_cost_a_fixed_number_of_queries(project, sci):
    lab = Lab(project, sci)
    compositions = iter(f"Li6PS5Cl-{n}" for n in range(100))

    def add_series(n: int) -> None:
        for _ in range(n):
            composition = next(compositions)
            for value in BASELINE[:8] + [2.0]:
                batch = lab.batch(value, composition=composition)
            chart(batch, sci)

    client = client_for(sci)
    count = assert_fixed_queries(client, "/quality/spc/", add_rows=add_series, sizes=(1, 3))
    assert count <= 12
    # each series: 3.0, 3.2 ×4 then 2.0, baseline all nine: centre 26.8/9 = 2.978, σ = 2.6/8/1.128 = 0.288;
    # z(2.0) = −3.39 (WE1), and the first eight are all above the centre (WE4 at the eighth)
    assert sorted(ControlFlag.objects.values_list("position", "rule")) == [(8, "we4")] * 3 + [(9, "we1")] * 3
    home_first = len_queries(client, "/")
    add_series(1)
    assert len_queries(client, "/") == home_first


def len_queries(client, url):
    from tests.utils.checks import count_queries

    count, status = count_queries(client, url)
    assert status == 200
    return count


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_new_out_of_control_measurement_is_flagged_by_the_worker(celery_worker_process, settings, project, sci):
    """The chart is submitted when the measurement commits, drawn on a real worker, and the flag stored there."""
    settings.MEDIA_ROOT = celery_worker_process["media"]
    lab = Lab(project, sci)
    for value in BASELINE:
        lab.batch(value)
    charts = Job.objects.filter(kind=SPC_CHART)
    assert charts.count() == 13  # one chart per batch from the eighth on, each with one more point
    wait_for(lambda: not charts.exclude(status__in=(JobStatus.SUCCEEDED, JobStatus.FAILED)).exists(),
             timeout_s=120, message="the baseline charts")
    assert list(charts.exclude(status=JobStatus.SUCCEEDED).values_list("error", flat=True)) == []
    assert not ControlFlag.objects.exists()
    low = lab.batch(2.2)  # the measurement commits: its chart goes to the worker
    flag = wait_for(lambda: ControlFlag.objects.filter(item=low.item).first(), timeout_s=60,
                    message="the flag of the new batch")
    assert (flag.rule, flag.position) == ("we1", 21)
    job = Job.objects.get(pk=flag.job_id)
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout_s=30, message="the chart job")
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
    page = client_for(sci).get(f"/materials/batches/{low.item.code}/").content.decode()
    assert "WE1" in page


@pytest.mark.django_db
def test_films_of_one_recipe_are_charted_by_loading_and_porosity(project, sci):
    """Separator films of 110 cm², 30 µm, masses 0.400/0.420 g ×4 then 0.495 g (loading = mass / 110 cm²).
    Baseline all nine: mean 3.775/9 = 0.41944 g, moving ranges 7·0.020 + 0.075 = 0.215 → σ = 0.215/8/1.128
    = 0.023825 g; z(0.495) = 3.171: WE1. Porosity is linear in the mass (same thickness), so its z mirrors it.
    Every film is 30 µm: the thickness series has σ = 0 and no chart."""
    from electrodes.models import Film
    from tests.utils.factories_electrodes import make_component_sources, make_film

    components = make_component_sources(project, sci, ItemKind.SEPARATOR_FILM, stock_g=100.0)
    films = [make_film(project, sci, ItemKind.SEPARATOR_FILM, components=components, mass_g=mass)
             for mass in [0.400, 0.420] * 4 + [0.495]]
    jobs = control_charts_submit(items=[films[-1].item], user=sci)
    assert sorted(job.inputs["series"].split(":")[0] for job in jobs) == [
        "electrodes.areal_loading_mg_per_cm2", "electrodes.porosity"]
    for job in jobs:
        job = run_in_process(job)
        assert job.result["sigma"] == pytest.approx(
            0.215 / 8 / 1.128 * (1000 / 110 if "loading" in job.inputs["series"] else
                                 abs(Film.objects.get(pk=films[0].pk).porosity - films[1].porosity) / 0.020),
            rel=1e-4)
    flags = sorted(ControlFlag.objects.values_list("series__key", "item_id", "rule", "position"))
    assert [(item, rule, position) for _, item, rule, position in flags] == [(films[-1].pk, "we1", 9)] * 2
    assert ControlFlag.objects.get(series__key__startswith="electrodes.porosity").z == pytest.approx(-3.171, abs=2e-3)
