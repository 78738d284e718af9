"""Issue 15: the lineage graph fits the page and pans and zooms in the browser (a static script, no inline
JavaScript); the affected nodes are drawn as affected, with the legend beside them."""

from __future__ import annotations

import pytest

from assbtrack.tracing.services import item_quarantine
from tests.api.helpers import make_chain
from tests.utils.factories import PASSWORD, scientist

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_the_graph_fits_the_page_pans_and_zooms(journey, project):
    sci = scientist()
    chain = make_chain(project, sci, cells=2)
    cell = chain["cells"][0].item
    item_quarantine(item=chain["batch"].item, user=sci, reason="conductivity below specification")

    tab = journey("lineage-graph")
    problems: list[str] = []
    tab.page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    tab.page.on("pageerror", lambda error: problems.append(str(error)))
    tab.login(sci.username, PASSWORD)
    page = tab.go(f"/items/{cell.code}/")
    graph = page.locator("#lineage-graph .graph").first
    svg = graph.locator("svg.lineage-graph")
    svg.wait_for()
    graph.locator(".graph-zoom button", has_text="+").wait_for()
    assert page.locator(".graph-legend").is_visible()
    # fits: the drawing is no wider than its box on a tablet
    width = svg.evaluate("e => e.getBoundingClientRect().width")
    box = graph.evaluate("e => e.getBoundingClientRect().width")
    assert 0 < width <= box + 1
    assert svg.locator("g.node.root.affected").count() == 1
    start = svg.get_attribute("viewBox")

    graph.locator(".graph-zoom button", has_text="+").click()
    zoomed = [float(v) for v in svg.get_attribute("viewBox").split()]
    assert zoomed[2] < [float(v) for v in start.split()][2]  # a narrower view: zoomed in

    bounds = svg.bounding_box()
    page.mouse.move(bounds["x"] + bounds["width"] / 2, bounds["y"] + 10)
    page.mouse.down()
    page.mouse.move(bounds["x"] + bounds["width"] / 2 - 120, bounds["y"] + 10, steps=6)
    page.mouse.up()
    panned = [float(v) for v in svg.get_attribute("viewBox").split()]
    assert panned[0] > zoomed[0] and panned[2] == pytest.approx(zoomed[2])  # dragged left: the view moves right
    assert page.url.endswith(f"/items/{cell.code}/")  # the drag did not open a node

    graph.locator(".graph-zoom button", has_text="Fit").click()
    assert svg.get_attribute("viewBox") == start
    tab.shot("graph")
    assert problems == []
