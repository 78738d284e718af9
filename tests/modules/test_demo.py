"""The modules demo: built through the services from the cells demo's cells, or skipped with a log line."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assbtrack.jobs.models import Job
from assbtrack.tracing.demo import DemoContext
from modules import demo
from modules.models import PressureMapResult
from tests.utils.checks import client_for
from tests.utils.factories import scientist, technician
from tests.utils.factories_modules import make_cells


@pytest.mark.django_db
def test_demo_builds_designs_a_module_and_comparable_maps(project, other_project, django_capture_on_commit_callbacks):
    tech, sci = technician(), scientist()
    context = DemoContext(project=project, other_project=other_project, users={"technician": tech, "scientist": sci})
    context.items["cells"] = make_cells(project, tech, 4)
    with django_capture_on_commit_callbacks(execute=False):
        demo.load(context)

    module = context.items["module"]
    module.item.refresh_from_db()
    assert module.arrangement == "2S2P" and module.item.status == "released"
    assert module.pressure_readings.count() == 5
    sprung, rigid = context.items["housing_designs"]
    assert (sprung.compliance, rigid.compliance) == ("springs and gaskets", "neither")
    assert sprung.plate_check.ok and not rigid.plate_check.ok
    maps = {result.scan.design_id: result for result in PressureMapResult.objects.select_related("scan")}
    assert maps[sprung.pk].coefficient_of_variation < maps[rigid.pk].coefficient_of_variation
    assert Job.objects.filter(kind="module_efficiency_for_module", subject=module.item).exists()

    page = client_for(sci).get(reverse("modules:pressure-maps"))
    assert page.status_code == 200
    assert sprung.name in page.content.decode() and rigid.name in page.content.decode()


@pytest.mark.django_db
def test_demo_without_cells_only_logs(project, other_project):
    context = DemoContext(project=project, other_project=other_project,
                          users={"technician": technician(), "scientist": scientist()})
    demo.load(context)
    assert "module" not in context.items
    assert context.log == ["modules: fewer than 2 demo cells to build a module with; no module demo data"]
