"""Issue 15: the lineage graph draws the truth — the root and every affected node drawn as affected — laid out
by Graphviz dot so that no two boxes (items, or the amounts on the links) overlap, in an SVG that scales."""

from __future__ import annotations

import re
import shutil

import pytest
from django.urls import reverse

from assbtrack.tracing.graph import dot_layout, item_graphs, item_node_url, parse_plain
from assbtrack.tracing.selectors import held_ancestors_for
from assbtrack.tracing.services import item_quarantine
from tests.api.helpers import make_chain
from tests.utils.checks import client_for

pytestmark = pytest.mark.django_db

BOX = re.compile(r'data-box="([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)"')
NODE = re.compile(r'<g class="([^"]*)" data-code="([^"]*)" data-box')


def boxes(svg: str) -> list[tuple[float, float, float, float]]:
    return [tuple(float(value) for value in match.groups()) for match in BOX.finditer(svg)]


def overlapping(found: list[tuple[float, float, float, float]]) -> list[tuple]:
    pairs = []
    for index, (x1, y1, w1, h1) in enumerate(found):
        for x2, y2, w2, h2 in found[index + 1:]:
            if x1 < x2 + w2 and x2 < x1 + w1 and y1 < y2 + h2 and y2 < y1 + h1:
                pairs.append(((x1, y1, w1, h1), (x2, y2, w2, h2)))
    return pairs


def node_classes(svg: str) -> dict[str, set[str]]:
    return {code: set(classes.split()) for classes, code in NODE.findall(svg)}


def test_dot_is_installed_by_the_set_up():
    assert shutil.which("dot"), "Graphviz dot is missing: run `bash assbtrack/scripts/services.sh graphviz`"


def test_parse_plain_reads_boxes_top_down_in_points():
    layout = parse_plain("graph 1 3 2\nnode a 0.5 1.5 1 0.5 \"\" solid box black lightgrey\n"
                         "edge a b 4 1 1.5 1.2 1.5 1.4 1.5 1.6 1.5 solid black\nstop\n")
    assert (layout.width_pt, layout.height_pt) == (216.0, 144.0)
    # centre (0.5 in, 1.5 in from the bottom) of a 1 × 0.5 in box: top left at (0, 0.25 in) from the top
    assert layout.boxes["a"] == (0.0, 18.0, 72.0, 36.0)
    assert layout.splines[("a", "b")][0] == (72.0, 36.0)


def test_graph_of_a_quarantined_batch_draws_every_downstream_node_affected_without_overlaps(project, sci):
    chain = make_chain(project, sci, cells=2, layers=2)
    film = chain["films"]["cathode"].item
    item_quarantine(item=chain["batch"].item, user=sci, reason="conductivity below specification")
    graphs = item_graphs(film, user=sci, item_url="/x/", node_url=item_node_url())

    down = node_classes(graphs.downstream_svg)
    # the film itself (the root), its 4 sheets (2 layers × 2 cells), the 2 cells and the module: all come from
    # the held batch
    assert film.code in down and len(down) == 1 + 4 + 2 + 1
    assert all("affected" in classes for classes in down.values()), down
    assert "root" in down[film.code]
    up = node_classes(graphs.upstream_svg)
    assert "affected" not in up[chain["batch"].item.code]  # held, drawn as quarantined, not as affected
    assert "node-quarantined" in up[chain["batch"].item.code]
    assert not any("affected" in classes for code, classes in up.items() if code.startswith("LOT-"))
    for svg in (graphs.upstream_svg, graphs.downstream_svg):
        found = boxes(svg)
        assert len(found) >= 3
        assert overlapping(found) == []
        assert re.search(r'viewBox="[-\d.]+ [-\d.]+ [\d.]+ [\d.]+"', svg)


def test_an_unheld_graph_draws_nothing_affected_and_the_root_is_affected_when_it_is(project, sci):
    chain = make_chain(project, sci, cells=2)
    cell = chain["cells"][0].item
    graphs = item_graphs(cell, user=sci, item_url="/x/", node_url=item_node_url())
    assert not any("affected" in classes for classes in node_classes(graphs.upstream_svg).values())
    item_quarantine(item=chain["films"]["separator"].item, user=sci, reason="pinholes")
    graphs = item_graphs(cell, user=sci, item_url="/x/", node_url=item_node_url())
    up = node_classes(graphs.upstream_svg)
    assert {"root", "affected"} <= up[cell.code]
    assert "affected" not in up[chain["films"]["separator"].item.code]
    down = node_classes(graphs.downstream_svg)
    assert {"root", "affected"} <= down[cell.code] and "affected" in down[chain["module"].item.code]
    assert [a.code for a in graphs.affected_by] == [chain["films"]["separator"].item.code]
    assert held_ancestors_for([cell.pk])[cell.pk] == graphs.affected_by


def test_item_page_has_the_legend_and_pan_zoom_script_and_a_clear_message_without_dot(project, sci, settings):
    chain = make_chain(project, sci, cells=1)
    client = client_for(sci)
    page = client.get(reverse("tracing:item", args=[chain["module"].item.code])).content.decode()
    assert 'class="graph-legend"' in page and "lineage-graph.js" in page and "data-pan-zoom" in page
    assert "<script>" not in page  # no inline script: the page's JavaScript is a static file
    settings.GRAPHVIZ_DOT = "/nonexistent/dot"
    page = client.get(reverse("tracing:item", args=[chain["module"].item.code])).content.decode()
    assert "The graph cannot be drawn: Graphviz is not installed" in page


def test_dot_layout_gives_up_after_its_time_limit(settings):
    from assbtrack.tracing.graph import GraphLayoutError

    settings.GRAPHVIZ_TIMEOUT_S = 0.000001
    with pytest.raises(GraphLayoutError, match="longer than"):
        dot_layout("digraph { " + " ".join(f"n{i} -> n{i + 1};" for i in range(3000)) + " }")
