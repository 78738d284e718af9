"""The lineage graph drawn as SVG on the server: no JavaScript library, no internet, prints as it shows.

Layout: one column per depth (the item itself on the left), nodes coloured by kind and outlined by
status. A column holding many items of one kind shows them as one group node ("48 × sheet"), which
expands on click (a link that adds the kind to ``?expand=``); so a module with dozens of cells and
hundreds of ancestors stays readable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from urllib.parse import urlencode

from django.urls import reverse

from .selectors import UPSTREAM, Lineage, lineage_downstream, lineage_upstream

COLLAPSE_ABOVE = 8
NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 170, 34, 90, 12, 16
LABEL_LINKS_UP_TO = 60

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
STATUS_STROKES = {
    "draft": ("#98a2b3", "1.5", ""),
    "released": ("#079455", "2", ""),
    "consumed": ("#444ce7", "1.5", ""),
    "quarantined": ("#dc6803", "3", "6 3"),
    "rejected": ("#d92d20", "3", ""),
}


@dataclass(frozen=True)
class GraphNode:
    key: str
    label: str
    sublabel: str
    kind: str
    status: str
    depth: int
    href: str
    tooltip: str
    affected: bool


def _amount(amount: Decimal | None, unit: str) -> str:
    if amount is None:
        return ""
    return f"{amount.normalize():f} {unit}".strip()


def affected_codes(lineage: Lineage, *, root_held: bool) -> set[int]:
    """Nodes of the graph that have a held item upstream of them, within the graph."""
    parents: dict[int, list[int]] = defaultdict(list)
    for link in lineage.links:
        parents[link.child_id].append(link.parent_id)
    status = {node.id: node.status for node in lineage.nodes.values()}
    status[lineage.root.pk] = lineage.root.status
    memo: dict[int, bool] = {}

    def has_held_above(node_id: int, trail: frozenset[int] = frozenset()) -> bool:
        if node_id in memo:
            return memo[node_id]
        result = False
        for parent in parents.get(node_id, []):
            if parent in trail:
                continue
            if status.get(parent) in ("quarantined", "rejected") or has_held_above(parent, trail | {node_id}):
                result = True
                break
        memo[node_id] = result
        return result

    if lineage.direction == UPSTREAM:
        return {node_id for node_id in lineage.nodes if has_held_above(node_id)}
    # Downstream: everything below a held root is affected, and so is everything below a held node.
    if root_held:
        return set(lineage.nodes)
    return {node_id for node_id in lineage.nodes if has_held_above(node_id)}


def lineage_svg(lineage: Lineage, *, item_url: str, node_url: str, expanded: set[str] = frozenset()) -> str:
    """SVG markup of ``lineage``. ``node_url`` has a ``{code}`` placeholder; ``item_url`` is this page."""
    root = lineage.root
    affected = affected_codes(lineage, root_held=root.is_held)
    columns: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for node in lineage.ordered():
        columns[node.depth][node.kind].append(node)

    graph_nodes: list[GraphNode] = [
        GraphNode(
            key=f"n{root.pk}",
            label=root.code,
            sublabel=root.get_status_display().lower(),
            kind=root.kind,
            status=root.status,
            depth=0,
            href=node_url.format(code=root.code),
            tooltip=f"{root.code} ({root.kind}, {root.status})",
            affected=False,
        )
    ]
    key_of: dict[int, str] = {root.pk: f"n{root.pk}"}
    for depth in sorted(columns):
        for kind, nodes in sorted(columns[depth].items()):
            if len(nodes) > COLLAPSE_ABOVE and kind not in expanded:
                key = f"g{depth}-{kind}"
                held = sum(1 for node in nodes if node.is_held)
                hit = sum(1 for node in nodes if node.id in affected)
                notes = [f"{held} held"] if held else []
                notes += [f"{hit} affected"] if hit else []
                query = urlencode({"expand": ",".join(sorted({*expanded, kind}))})
                graph_nodes.append(
                    GraphNode(
                        key=key,
                        label=f"{len(nodes)} × {kind.replace('_', ' ')}",
                        sublabel=", ".join(notes) or "click to expand",
                        kind=kind,
                        status="quarantined" if held else "draft",
                        depth=depth,
                        href=f"{item_url}?{query}#lineage-graph",
                        tooltip=", ".join(node.code for node in nodes[:40]),
                        affected=bool(hit),
                    )
                )
                for node in nodes:
                    key_of[node.id] = key
            else:
                for node in nodes:
                    key_of[node.id] = f"n{node.id}"
                    reason = f": {node.status_reason}" if node.status_reason else ""
                    graph_nodes.append(
                        GraphNode(
                            key=f"n{node.id}",
                            label=node.code,
                            sublabel=node.status,
                            kind=node.kind,
                            status=node.status,
                            depth=depth,
                            href=node_url.format(code=node.code),
                            tooltip=f"{node.code} ({node.kind}, {node.status}{reason})",
                            affected=node.id in affected,
                        )
                    )

    # Links between drawn nodes; links into one group collapse into one line with a count.
    drawn_links: dict[tuple[str, str], list] = defaultdict(list)
    for link in lineage.links:
        drawn_links[(key_of[link.parent_id], key_of[link.child_id])].append(link)

    position: dict[str, tuple[float, float]] = {}
    rows_in_column: dict[int, int] = defaultdict(int)
    for node in graph_nodes:
        row = rows_in_column[node.depth]
        rows_in_column[node.depth] += 1
        position[node.key] = (PAD + node.depth * (NODE_W + COL_GAP), PAD + row * (NODE_H + ROW_GAP))
    width = PAD * 2 + (max(rows_in_column) + 1) * (NODE_W + COL_GAP) - COL_GAP
    height = PAD * 2 + max(rows_in_column.values()) * (NODE_H + ROW_GAP) - ROW_GAP

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage-graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(lineage.direction)} lineage of {escape(root.code)}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#667085"/></marker></defs>',
    ]
    label_links = len(drawn_links) <= LABEL_LINKS_UP_TO
    for (parent_key, child_key), links in drawn_links.items():
        if parent_key not in position or child_key not in position:
            continue
        # Draw from the near node (left) to the far one (right); the arrow points from parent to child.
        near, far = (child_key, parent_key) if lineage.direction == UPSTREAM else (parent_key, child_key)
        x1, y1 = position[near][0] + NODE_W, position[near][1] + NODE_H / 2
        x2, y2 = position[far][0], position[far][1] + NODE_H / 2
        marker = 'marker-start="url(#arrow)"' if lineage.direction == UPSTREAM else 'marker-end="url(#arrow)"'
        parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#98a2b3" stroke-width="1.2" {marker}/>')
        if label_links:
            if len(links) == 1:
                text = " ".join(
                    filter(None, [_amount(links[0].amount, links[0].unit), links[0].role.replace("_", " ")])
                )
            else:
                text = f"{len(links)} uses"
            parts.append(
                f'<text x="{(x1 + x2) / 2}" y="{(y1 + y2) / 2 - 3}" font-size="9" text-anchor="middle" '
                f'fill="#475467">{escape(text)}</text>'
            )
    for node in graph_nodes:
        x, y = position[node.key]
        stroke, stroke_width, dash = STATUS_STROKES.get(node.status, STATUS_STROKES["draft"])
        fill = "#fee4e2" if node.affected else KIND_COLOURS.get(node.kind, "#f2f4f7")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<a href="{escape(node.href)}"><g class="node node-{escape(node.status)}'
            f'{" affected" if node.affected else ""}" data-code="{escape(node.label)}">'
            f"<title>{escape(node.tooltip)}</title>"
            f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{stroke_width}"{dash_attr}/>'
            f'<text x="{x + 8}" y="{y + 14}" font-size="12" font-weight="600" fill="#1d2433">'
            f"{escape(node.label)}</text>"
            f'<text x="{x + 8}" y="{y + 27}" font-size="10" fill="#475467">{escape(node.sublabel)}'
            f"{' · affected' if node.affected else ''}</text></g></a>"
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class ItemGraphs:
    """Both directions of one item's lineage, traced for one user, and their drawings."""

    upstream: Lineage
    downstream: Lineage
    upstream_svg: str
    downstream_svg: str


def item_graphs(item, *, user, item_url: str, node_url: str, expanded: set[str] = frozenset()) -> ItemGraphs:
    """Trace ``item`` up and down as ``user`` may see it and draw both: the item page and the admin show these.

    One query per direction for the trace (plus the hydration of each kind), whatever the size.
    """
    upstream = lineage_upstream(item, user=user)
    downstream = lineage_downstream(item, user=user)
    return ItemGraphs(
        upstream=upstream,
        downstream=downstream,
        upstream_svg=lineage_svg(upstream, item_url=item_url, node_url=node_url, expanded=expanded),
        downstream_svg=lineage_svg(downstream, item_url=item_url, node_url=node_url, expanded=expanded),
    )


def item_node_url() -> str:
    """Where a node of the graph links to: the item's page, with ``{code}`` for the code."""
    return reverse("tracing:item", args=["CODE"]).replace("CODE", "{code}")


def expanded_kinds(query_value: str) -> set[str]:
    """The kinds a reader expanded, from ``?expand=sheet,cell``."""
    return {kind for kind in query_value.split(",") if kind}
