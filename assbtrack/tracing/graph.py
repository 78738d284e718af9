"""The lineage graph drawn as SVG on the server, laid out by Graphviz ``dot``: no JavaScript library, no internet.

What is drawn is decided here; where it goes is decided by ``dot`` (Debian's ``graphviz``, installed by
``assbtrack/scripts/services.sh graphviz``), run as a subprocess with a time limit and read back in its
``plain`` format. Every box (items, and the amounts on the links) is given to ``dot`` at its drawn size, so
``dot`` keeps them apart: labels never overlap. The item itself is on the left, ancestors (or uses) to the
right. A rank holding many items of one kind shows them as one group node ("48 × sheet") that expands on
click (a link adding the kind to ``?expand=``). The SVG has a ``viewBox`` and scales to the page;
``assbtrack/static/assbtrack/lineage-graph.js`` adds pan and zoom.

*Affected* comes from ``held_ancestors_for`` (one query for every node of both graphs and the root), the
same mechanism as every list, the API and the exports: a node is affected when something upstream of it is
quarantined or rejected, whether or not that ancestor is in this drawing.
"""

from __future__ import annotations

import logging
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from .selectors import (
    UPSTREAM,
    HeldAncestor,
    Lineage,
    held_ancestors_for,
    lineage_downstream,
    lineage_upstream,
    visible_project_ids_for,
)

logger = logging.getLogger(__name__)

COLLAPSE_ABOVE = 8
LABEL_LINKS_UP_TO = 60
POINTS_PER_INCH = 72.0
NODE_H_PT = 36.0
LABEL_H_PT = 14.0
PAD_PT = 8.0
# Text widths are estimated generously (a little over the average advance of a sans-serif face), so that
# the text fits inside the box that dot is told about.
CODE_FONT_PT, SUB_FONT_PT, LINK_FONT_PT = 12.0, 10.0, 9.0
CHAR_EM = 0.62

KIND_COLOURS = {
    "material_lot": "#ebe9fe",
    "sse_batch": "#d1e9ff",
    "cathode_film": "#ccfbef",
    "anode_film": "#ccfbef",
    "separator_film": "#ccfbef",
    "sheet": "#e3fbcc",
    "cell": "#fef0c7",
    "module": "#fce7f6",
}
AFFECTED_FILL = "#fda29b"
AFFECTED_TEXT = "#7a271a"
STATUS_STROKES = {
    "draft": ("#98a2b3", "1.5", ""),
    "released": ("#079455", "2", ""),
    "consumed": ("#444ce7", "1.5", ""),
    "quarantined": ("#dc6803", "3", "6 3"),
    "rejected": ("#d92d20", "3", ""),
}


class GraphLayoutError(RuntimeError):
    """dot is missing, failed or took too long: the page says so instead of drawing a wrong picture."""


@dataclass(frozen=True)
class GraphNode:
    key: str
    label: str
    sublabel: str
    kind: str
    status: str
    href: str
    tooltip: str
    affected: bool
    root: bool = False

    @property
    def width_pt(self) -> float:
        code = len(self.label) * CODE_FONT_PT * CHAR_EM
        sub = len(self.display_sublabel) * SUB_FONT_PT * CHAR_EM
        return max(code, sub, 90.0) + 2 * PAD_PT

    @property
    def display_sublabel(self) -> str:
        if self.affected and "affected" not in self.sublabel:  # a group's note already counts them
            return f"{self.sublabel} · affected"
        return self.sublabel


@dataclass
class _Edge:
    near: str
    far: str
    text: str
    label_key: str = ""


@dataclass
class Layout:
    """Positions from dot, in SVG points (origin top left): boxes by key as (x, y, width, height), and the
    spline control points of each drawn segment."""

    width_pt: float
    height_pt: float
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    splines: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)


def _amount(amount: Decimal | None, unit: str) -> str:
    if amount is None:
        return ""
    return f"{amount.normalize():f} {unit}".strip()


def _dot_source(nodes: list[GraphNode], edges: list[_Edge]) -> str:
    lines = [
        "digraph lineage {",
        '  graph [rankdir=LR, nodesep=0.18, ranksep=0.35, margin=0, splines=true, outputorder=edgesfirst];',
        '  node [shape=box, fixedsize=true, label=""];',
        "  edge [arrowhead=none];",
    ]
    for node in nodes:
        lines.append(f"  {node.key} [width={node.width_pt / POINTS_PER_INCH:.4f}, "
                     f"height={NODE_H_PT / POINTS_PER_INCH:.4f}];")
    for edge in edges:
        if edge.label_key:
            width = len(edge.text) * LINK_FONT_PT * CHAR_EM + 6
            lines.append(f"  {edge.label_key} [shape=plaintext, width={width / POINTS_PER_INCH:.4f}, "
                         f"height={LABEL_H_PT / POINTS_PER_INCH:.4f}];")
            lines.append(f"  {edge.near} -> {edge.label_key};")
            lines.append(f"  {edge.label_key} -> {edge.far};")
        else:
            lines.append(f"  {edge.near} -> {edge.far};")
    lines.append("}")
    return "\n".join(lines)


def dot_layout(source: str) -> Layout:
    """Run ``dot -Tplain`` on ``source`` and read the boxes and splines back (points, y downwards)."""
    command = [getattr(settings, "GRAPHVIZ_DOT", "dot"), "-Tplain"]
    timeout_s = getattr(settings, "GRAPHVIZ_TIMEOUT_S", 10)
    try:
        done = subprocess.run(command, input=source, capture_output=True, text=True, timeout=timeout_s, check=False)
    except FileNotFoundError as error:
        raise GraphLayoutError(
            "Graphviz is not installed (no dot program): run `bash assbtrack/scripts/services.sh graphviz`, "
            "or install Debian's graphviz"
        ) from error
    except subprocess.TimeoutExpired as error:
        raise GraphLayoutError(f"Graphviz took longer than {timeout_s} s to lay the graph out") from error
    if done.returncode != 0:
        raise GraphLayoutError(f"Graphviz could not lay the graph out: {done.stderr.strip()[:300]}")
    return parse_plain(done.stdout)


def parse_plain(text: str) -> Layout:
    """dot's ``plain`` output: ``graph scale w h``, ``node name x y w h ...``, ``edge tail head n x1 y1 ...``
    (inches, centre points for nodes, y upwards)."""
    layout = Layout(0.0, 0.0)
    height_in = 0.0
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "graph":
            height_in = float(parts[3])
            layout.width_pt = float(parts[2]) * POINTS_PER_INCH
            layout.height_pt = height_in * POINTS_PER_INCH
        elif parts[0] == "node":
            x, y, w, h = (float(value) * POINTS_PER_INCH for value in parts[2:6])
            top = height_in * POINTS_PER_INCH - y
            layout.boxes[parts[1]] = (x - w / 2, top - h / 2, w, h)
        elif parts[0] == "edge":
            count = int(parts[3])
            values = [float(value) for value in parts[4:4 + 2 * count]]
            points = [
                (values[i] * POINTS_PER_INCH, (height_in - values[i + 1]) * POINTS_PER_INCH)
                for i in range(0, len(values), 2)
            ]
            layout.splines[(parts[1], parts[2])] = points
    return layout


def _graph_nodes(lineage: Lineage, held: dict[int, list[HeldAncestor]], node_url: str, item_url: str,
                 expanded: set[str]) -> tuple[list[GraphNode], dict[int, str]]:
    root = lineage.root
    nodes = [
        GraphNode(
            key=f"n{root.pk}", label=root.code, sublabel=root.get_status_display().lower(), kind=root.kind,
            status=root.status, href=node_url.format(code=root.code),
            tooltip=f"{root.code} ({root.kind}, {root.status})", affected=bool(held.get(root.pk)), root=True,
        )
    ]
    key_of: dict[int, str] = {root.pk: f"n{root.pk}"}
    columns: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for node in lineage.ordered():
        columns[node.depth][node.kind].append(node)
    for depth in sorted(columns):
        for kind, members in sorted(columns[depth].items()):
            if len(members) > COLLAPSE_ABOVE and kind not in expanded:
                key = f"g{depth}_{kind}"
                held_count = sum(1 for node in members if node.is_held)
                hit = sum(1 for node in members if held.get(node.id))
                notes = [f"{held_count} held"] if held_count else []
                notes += [f"{hit} affected"] if hit else []
                query = urlencode({"expand": ",".join(sorted({*expanded, kind}))})
                nodes.append(GraphNode(
                    key=key, label=f"{len(members)} × {kind.replace('_', ' ')}",
                    sublabel=", ".join(notes) or "click to expand", kind=kind,
                    status="quarantined" if held_count else "draft", href=f"{item_url}?{query}#lineage-graph",
                    tooltip=", ".join(node.code for node in members[:40]), affected=bool(hit),
                ))
                for node in members:
                    key_of[node.id] = key
            else:
                for node in members:
                    key_of[node.id] = f"n{node.id}"
                    reason = f": {node.status_reason}" if node.status_reason else ""
                    nodes.append(GraphNode(
                        key=f"n{node.id}", label=node.code, sublabel=node.status, kind=node.kind,
                        status=node.status, href=node_url.format(code=node.code),
                        tooltip=f"{node.code} ({node.kind}, {node.status}{reason})", affected=bool(held.get(node.id)),
                    ))
    return nodes, key_of


def _graph_edges(lineage: Lineage, key_of: dict[int, str]) -> list[_Edge]:
    drawn: dict[tuple[str, str], list] = defaultdict(list)
    for link in lineage.links:
        drawn[(key_of[link.parent_id], key_of[link.child_id])].append(link)
    label_links = len(drawn) <= LABEL_LINKS_UP_TO
    edges = []
    for index, ((parent_key, child_key), links) in enumerate(drawn.items()):
        near, far = (child_key, parent_key) if lineage.direction == UPSTREAM else (parent_key, child_key)
        if len(links) == 1:
            text = " ".join(filter(None, [_amount(links[0].amount, links[0].unit), links[0].role.replace("_", " ")]))
        else:
            text = f"{len(links)} uses"
        edges.append(_Edge(near, far, text, f"l{index}" if label_links and text else ""))
    return edges


def _path(points: list[tuple[float, float]]) -> str:
    head, rest = points[0], points[1:]
    commands = [f"M {head[0]:.1f} {head[1]:.1f}"]
    for i in range(0, len(rest) - len(rest) % 3, 3):
        (x1, y1), (x2, y2), (x3, y3) = rest[i:i + 3]
        commands.append(f"C {x1:.1f} {y1:.1f} {x2:.1f} {y2:.1f} {x3:.1f} {y3:.1f}")
    return " ".join(commands)


def lineage_svg(lineage: Lineage, *, item_url: str, node_url: str, expanded: set[str] = frozenset(),
                held: dict[int, list[HeldAncestor]] | None = None) -> str:
    """SVG markup of ``lineage``. ``node_url`` has a ``{code}`` placeholder; ``item_url`` is this page.

    ``held`` is ``held_ancestors_for`` of the root and the nodes (computed here when not given).
    """
    root = lineage.root
    if held is None:
        held = held_ancestors_for([root.pk, *lineage.nodes])
    nodes, key_of = _graph_nodes(lineage, held, node_url, item_url, expanded)
    edges = _graph_edges(lineage, key_of)
    try:
        layout = dot_layout(_dot_source(nodes, edges))
    except GraphLayoutError as error:
        logger.warning("lineage graph of %s not drawn: %s", root.code, error)
        return f'<p class="error graph-error" role="alert">The graph cannot be drawn: {escape(str(error))}.</p>'

    margin = 4.0
    width, height = layout.width_pt + 2 * margin, layout.height_pt + 2 * margin
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage-graph" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="{-margin:.1f} {-margin:.1f} {width:.1f} {height:.1f}" preserveAspectRatio="xMidYMin meet" '
        f'role="img" aria-label="{escape(lineage.direction)} lineage of {escape(root.code)}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#667085"/></marker></defs>',
        '<g class="viewport">',
    ]
    child_end_at_start = lineage.direction == UPSTREAM  # upstream: near is the child; arrows point at it
    for edge in edges:
        segments = [(edge.near, edge.label_key), (edge.label_key, edge.far)] if edge.label_key else [
            (edge.near, edge.far)]
        for index, segment in enumerate(segments):
            points = layout.splines.get(segment)
            if not points:
                continue
            marker = ""
            if child_end_at_start and index == 0:
                marker = ' marker-start="url(#arrow)"'
            elif not child_end_at_start and index == len(segments) - 1:
                marker = ' marker-end="url(#arrow)"'
            parts.append(f'<path class="link" d="{_path(points)}" fill="none" stroke="#98a2b3" '
                         f'stroke-width="1.2"{marker}/>')
        if edge.label_key and edge.label_key in layout.boxes:
            x, y, w, h = layout.boxes[edge.label_key]
            parts.append(
                f'<text class="link-label" data-box="{x:.1f},{y:.1f},{w:.1f},{h:.1f}" x="{x + w / 2:.1f}" '
                f'y="{y + h / 2 + 3:.1f}" font-size="{LINK_FONT_PT:g}" text-anchor="middle" '
                f'fill="#475467">{escape(edge.text)}</text>'
            )
    for node in nodes:
        x, y, w, h = layout.boxes[node.key]
        stroke, stroke_width, dash = STATUS_STROKES.get(node.status, STATUS_STROKES["draft"])
        fill = AFFECTED_FILL if node.affected else KIND_COLOURS.get(node.kind, "#f2f4f7")
        text_colour = AFFECTED_TEXT if node.affected else "#475467"
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        classes = " ".join(filter(None, ["node", f"node-{node.status}", "affected" if node.affected else "",
                                         "root" if node.root else ""]))
        parts.append(
            f'<a href="{escape(node.href)}"><g class="{escape(classes)}" data-code="{escape(node.label)}" '
            f'data-box="{x:.1f},{y:.1f},{w:.1f},{h:.1f}">'
            f"<title>{escape(node.tooltip)}{' (affected by a hold upstream)' if node.affected else ''}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{"3" if node.root else stroke_width}"{dash_attr}/>'
            f'<text x="{x + PAD_PT:.1f}" y="{y + 15:.1f}" font-size="{CODE_FONT_PT:g}" font-weight="600" '
            f'fill="#1d2433">{escape(node.label)}</text>'
            f'<text x="{x + PAD_PT:.1f}" y="{y + 29:.1f}" font-size="{SUB_FONT_PT:g}" fill="{text_colour}">'
            f"{escape(node.display_sublabel)}</text></g></a>"
        )
    parts.append("</g></svg>")
    return "".join(parts)


@dataclass
class ItemGraphs:
    """Both directions of one item's lineage, traced for one user, and their drawings; ``held`` is the held
    ancestors of the root and of every node (the item's own are ``held[item.pk]``)."""

    upstream: Lineage
    downstream: Lineage
    upstream_svg: str
    downstream_svg: str
    held: dict[int, list[HeldAncestor]]

    @property
    def affected_by(self) -> list[HeldAncestor]:
        return self.held.get(self.upstream.root.pk, [])


def item_graphs(item, *, user, item_url: str, node_url: str, expanded: set[str] = frozenset()) -> ItemGraphs:
    """Trace ``item`` up and down as ``user`` may see it and draw both: the item page and the admin show these.

    One query per direction for the trace, and one for what is affected (the root and every node of both),
    whatever the size.
    """
    upstream = lineage_upstream(item, user=user)
    downstream = lineage_downstream(item, user=user)
    held = held_ancestors_for([item.pk, *upstream.nodes, *downstream.nodes],
                              visible_project_ids=visible_project_ids_for(user))
    return ItemGraphs(
        upstream=upstream,
        downstream=downstream,
        upstream_svg=lineage_svg(upstream, item_url=item_url, node_url=node_url, expanded=expanded, held=held),
        downstream_svg=lineage_svg(downstream, item_url=item_url, node_url=node_url, expanded=expanded, held=held),
        held=held,
    )


def item_node_url() -> str:
    """Where a node of the graph links to: the item's page, with ``{code}`` for the code."""
    return reverse("tracing:item", args=["CODE"]).replace("CODE", "{code}")


def expanded_kinds(query_value: str) -> set[str]:
    """The kinds a reader expanded, from ``?expand=sheet,cell``."""
    return {kind for kind in query_value.split(",") if kind}
