"""Every technician page at tablet widths: the page itself never scrolls sideways.

The pages are found by walking the URL resolver (a new route is visited without being listed here) and filled
with the demo's records, loaded through the services, so that every list and detail page has rows. Each page is
opened by the technician at 768 px and at 1024 px wide; ``document.scrollingElement.scrollWidth`` must not exceed
``innerWidth`` (wide tables scroll inside their own wrapper instead). Routes that are not pages (POST-only
actions, downloads, images, JSON) are named below with the reason; any other route that does not answer a page is
a failure, so a route cannot drop out of the check unnoticed.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from assbtrack.access.models import ApiToken
from assbtrack.access.services import api_token_create
from assbtrack.imports.models import ImportRun
from assbtrack.imports.services import import_check, import_upload
from assbtrack.instruments.models import Calibration, Equipment
from assbtrack.jobs.models import Job
from assbtrack.tracing.models import TracedItem
from cells.models import CyclingTest
from modules.models import HousingDesign, PressureScan
from tests.e2e.steps import TECHNICIAN
from tests.utils.checks import client_for
from tests.utils.factories_imports import fill_csv_template

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

WIDTHS = (768, 1024)
PARAM = re.compile(r"<(?:(?P<converter>[^:>]+):)?(?P<name>[^>]+)>")
# routes that answer no page a technician looks at, and why
NOT_PAGES = {
    "quality:spc-baseline": "a scientist's POST",
    "quality:design-plan": "a POST that makes a planned record from a proposal",
    "logout": "a POST that ends the session",
    "tracing:recall": "a scientist's POST",
    "tracing:status-action": "a signed POST",
    "tracing:deviation": "a scientist's form (a technician is refused it)",
    "tracing:lineage-csv": "a CSV download",
    "jobs:status": "JSON polled by the job page",
    "jobs:file": "a job's image or data file",
    "instruments:certificate": "the calibration certificate file",
    "imports:template": "a CSV template download",
    "imports:check": "a POST that starts the check",
    "imports:confirm": "a POST that starts the import",
    "imports:report-csv": "a CSV download",
    "materials:batch-plots": "HTML fragment polled by the batch page",
    "materials:batch-status": "a scientist's signed POST",
    "materials:trends-redraw": "a POST that redraws the dashboard trends",
    "electrodes:film-pass": "a POST from the film page",
    "electrodes:film-result": "a POST from the film page",
    "electrodes:film-sheets": "a POST from the film page",
    "electrodes:film-plot": "an image",
    "electrodes:porosity-plot": "an image",
    "cells:trends-redraw": "a POST that redraws the dashboard trends",
    "cells:cycling-plots": "HTML fragment polled by the cycling page",
    "cells:cycling-retry": "a POST from the cycling page",
    "cells:cycling-discard": "a POST from the cycling page",
    "cells:cycling-csv": "a CSV download",
    "cells:energy": "a POST from the cell page that starts the energy model",
    "modules:design-sweep": "a POST from the design page that starts the sweep",
    "modules:efficiency": "a POST from the module page that starts the efficiency model",
    "modules:pressure-maps-plot": "an image",
    "modules:scan-image": "an image",
    "modules:scan-heatmap": "an image",
    "access:api-token-revoke": "a POST from the token page",
}
# item pages differ by kind: each is opened for one item of every kind the demo builds
ITEM_PAGES = {"tracing:item", "tracing:impact", "tracing:composition", "tracing:deviation", "instruments:storage"}
ITEM_KINDS = ("material_lot", "sse_batch", "cathode_film", "separator_film", "anode_film", "sheet", "cell", "module")


def walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or "")


def first_code(kind: str, project) -> str:
    code = TracedItem.objects.filter(kind=kind, project=project).order_by("pk").values_list("code", flat=True).first()
    assert code, f"the demo built no {kind}"
    return code


def record_values(demo) -> dict[str, str]:
    project, technician = demo.project, demo.users["technician"]
    # an import whose check found problems: its page lists them by row and column
    template = client_for(technician).get("/imports/templates/material_lots.csv").content
    content = fill_csv_template(template, [{}, {}])
    run = ImportRun.objects.order_by("pk").first() or import_check(run=import_upload(
        kind="material_lots", project=project, user=technician, file_name="lots.csv", content=content
    ))
    token = ApiToken.objects.filter(user=technician).first() or api_token_create(
        user=technician, name="tablet", lifetime_days=5
    )[0]
    batch = demo.items["sse_batch"]
    values = {
        "job_id": Job.objects.order_by("pk").first(),
        "instruments:pk": Equipment.objects.order_by("pk").first(),
        "calibration": Calibration.objects.order_by("pk").first(),
        "run_id": run,
        "test_id": CyclingTest.objects.order_by("pk").first(),
        "design_id": HousingDesign.objects.order_by("pk").first(),
        "scan_id": PressureScan.objects.order_by("pk").first(),
        "token_id": token,
        "quality:job_id": Job.objects.filter(kind="design_space").order_by("pk").first(),
    }
    missing = [key for key, value in values.items() if value is None]
    assert missing == [], f"the demo built none of {missing}"
    found = {key: str(value.pk) for key, value in values.items()}
    found.update({
        "materials:code": batch.item.code, "electrodes:code": demo.items["cathode_film"].item.code,
        "cells:code": demo.items["cells"][0].item.code, "modules:code": demo.items["module"].item.code,
        "project": project.code, "composition": batch.composition, "kind": "material_lots",
        "file_format": "csv", "name": "plot.png", "action": "release",
    })
    return found


def concrete(path: str, name: str, values: dict[str, str], code: str | None = None) -> str:
    app = name.split(":")[0]

    def value(match: re.Match) -> str:
        key = match.group("name")
        if key == "code" and code is not None:
            return code
        if key == "pk" and name == "instruments:certificate":
            return values["calibration"]
        return values.get(f"{app}:{key}") or values[key]

    return "/" + PARAM.sub(value, path)


def technician_pages(demo) -> list[tuple[str, str]]:
    values = record_values(demo)
    pages = []
    for path, name in walk(get_resolver().url_patterns):
        if path.startswith(("admin/", "api/")) or name in {"api-schema", "api-docs", "api-redoc", "login"}:
            continue
        if name in NOT_PAGES:
            continue
        if name in ITEM_PAGES:
            pages += [(concrete(path, name, values, first_code(kind, demo.project)), name) for kind in ITEM_KINDS]
        else:
            pages.append((concrete(path, name, values), name))
    return pages


def test_every_technician_page_fits_a_tablet_without_scrolling_sideways(demo, browser, live_server):
    pages = technician_pages(demo)
    client = client_for(demo.users["technician"])
    not_html = []
    for url, name in pages:
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            not_html.append((name, url, response.status_code, response["Content-Type"]))
    assert not_html == [], "pages that did not answer HTML (add to NOT_PAGES with a reason if not a page):\n" + (
        "\n".join(map(str, not_html)))
    assert len({name for _, name in pages}) > 40

    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 1024}, base_url=live_server.url)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/accounts/login/")
        page.fill("#id_username", TECHNICIAN[0])
        page.fill("#id_password", TECHNICIAN[1])
        page.click("button[type=submit]")
        page.wait_for_url(lambda address: "/accounts/login/" not in address)
        too_wide = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 1024})
            for url, name in pages:
                page.goto(url)
                scroll_width, inner_width = page.evaluate(
                    "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
                )
                assert inner_width == width
                if scroll_width > inner_width:
                    too_wide.append(f"{width} px: {url} ({name}) is {scroll_width} px wide")
    finally:
        context.close()
    assert too_wide == [], "\n".join(too_wide)
