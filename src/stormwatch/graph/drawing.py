"""A drawing of a case graph, laid out in Python so the HTML report needs no script.

Entities are placed in columns that follow the story of an LLMjacking case: where the key leaked,
the key, the addresses and agents that used it, the principals behind it, the resources and models
it reached. Within a column, nodes sit near the neighbours they connect to, which keeps lines
short. Large cases are cut to the most connected entities; the tables list the rest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from stormwatch.graph.model import Case, Role

NODE_LIMIT = 40
_COLUMN_OF: dict[str, int] = {
    "exposure": 0,
    "credential": 1,
    "ip": 2,
    "network": 2,
    "user_agent": 3,
    "principal": 4,
    "identity": 4,
    "resource": 5,
    "model": 6,
}
# The drawing is made to fit a 1,100 px wide page so that it never has to shrink its text.
_WIDTH, _MAX_COLUMN_GAP, _ROW_GAP, _MARGIN, _LABEL_ROOM = 1100, 260, 34, 28, 160
_MAX_ROWS = 12
_CHAR_WIDTH = 6.8  # of the 11 px monospace label font
# Kinds whose values say the most at their end (ARNs, paths): shortened in the middle.
_TAIL_KINDS = frozenset({"principal", "identity", "resource", "exposure"})


@dataclass(frozen=True)
class KindStyle:
    """How an entity kind is drawn: fill colour and shape."""

    colour: str
    shape: str  # circle, ring, diamond, square, triangle, hexagon, pill


KIND_STYLES: dict[str, KindStyle] = {
    "exposure": KindStyle("#7c3aed", "square"),
    "credential": KindStyle("#d97706", "diamond"),
    "ip": KindStyle("#2563eb", "circle"),
    "network": KindStyle("#0891b2", "ring"),
    "user_agent": KindStyle("#64748b", "pill"),
    "principal": KindStyle("#059669", "triangle"),
    "identity": KindStyle("#dc2626", "triangle"),
    "resource": KindStyle("#0f766e", "hexagon"),
    "model": KindStyle("#9333ea", "square"),
}
ROLE_COLOURS: dict[Role, str] = {
    "proxy": "#e11d48",
    "key-checker": "#f59e0b",
    "consumer": "#0ea5e9",
    "owner": "#16a34a",
    "exposure-source": "#7c3aed",
}


@dataclass(frozen=True)
class DrawnNode:
    """One entity placed on the drawing."""

    key: str
    kind: str
    label: str  # truncated for the drawing
    title: str  # full text for the tooltip
    x: float
    y: float
    colour: str
    shape: str
    points: str  # polygon points for polygon shapes, empty otherwise
    role_colour: str  # ring colour of the first role hypothesis, empty without one


@dataclass(frozen=True)
class DrawnEdge:
    """A line between two drawn entities, as an SVG path."""

    path: str
    width: float
    title: str


@dataclass(frozen=True)
class Drawing:
    """Everything the template needs to write the SVG."""

    width: int
    height: int
    nodes: tuple[DrawnNode, ...]
    edges: tuple[DrawnEdge, ...]
    total: int
    left_out: int
    kinds: tuple[tuple[str, KindStyle], ...]  # legend entries for the kinds drawn
    roles: tuple[tuple[str, str], ...]  # legend entries (role, colour) for the roles drawn


def case_graph(case: Case) -> nx.Graph:
    """The case as an undirected networkx graph; node attribute ``kind``, edge ``count``."""
    graph = nx.Graph()
    for entity in case.entities:
        graph.add_node(
            entity.key, kind=entity.kind, count=entity.count, text=_text(entity.label, entity.value)
        )
    for edge in case.edges:
        for key in (edge.source, edge.target):
            if key not in graph:
                kind, _, value = key.partition(":")
                graph.add_node(key, kind=kind, count=0, text=_text("", value))
        if graph.has_edge(edge.source, edge.target):
            graph.edges[edge.source, edge.target]["count"] += edge.count
            graph.edges[edge.source, edge.target]["relations"].add(edge.relation)
        else:
            graph.add_edge(edge.source, edge.target, count=edge.count, relations={edge.relation})
    return graph


def draw_case(case: Case, *, limit: int = NODE_LIMIT) -> Drawing:
    """Lay out the ``limit`` most telling entities of ``case`` in columns by kind."""
    graph = case_graph(case)
    roles: dict[str, Role] = {}
    for hypothesis in case.roles:
        roles.setdefault(hypothesis.entity, hypothesis.role)
    shown = graph.subgraph(_most_telling(graph, roles, limit))
    columns = _columns(shown)
    gap = min(_MAX_COLUMN_GAP, (_WIDTH - 2 * _MARGIN - _LABEL_ROOM) / max(len(columns) - 1, 1))
    height = max((len(c) for c in columns), default=0) * _ROW_GAP + 2 * _MARGIN
    positions = _positions(columns, height, gap)
    chars = int((gap - 24) / _CHAR_WIDTH)
    nodes = tuple(_node(shown, k, positions[k], roles.get(k), chars) for k in positions)
    edges = tuple(_edge(shown, a, b, positions) for a, b in sorted(shown.edges))
    kinds = sorted({n.kind for n in nodes}, key=lambda k: _COLUMN_OF.get(k, len(_COLUMN_OF)))
    drawn_roles = {roles[k] for k in positions if k in roles}
    return Drawing(
        width=round((len(columns) - 1) * gap + 2 * _MARGIN + _LABEL_ROOM),
        height=height,
        nodes=nodes,
        edges=edges,
        total=graph.number_of_nodes(),
        left_out=graph.number_of_nodes() - shown.number_of_nodes(),
        kinds=tuple((k, KIND_STYLES.get(k, KIND_STYLES["ip"])) for k in kinds),
        roles=tuple((r, c) for r, c in ROLE_COLOURS.items() if r in drawn_roles),
    )


def _text(label: str, value: str) -> str:
    return label or value or "(empty)"


def _most_telling(graph: nx.Graph, roles: dict[str, Role], limit: int) -> list[str]:
    """Entities with a role hypothesis first, then the most connected, then the busiest."""
    ranked = sorted(
        graph.nodes,
        key=lambda k: (k not in roles, -graph.degree[k], -graph.nodes[k]["count"], k),
    )
    return ranked[:limit]


def _columns(graph: nx.Graph) -> list[list[str]]:
    """Nodes per non-empty column, each ordered by the mean row of its neighbours to the left."""
    by_column: dict[int, list[str]] = {}
    for key in sorted(graph.nodes, key=lambda k: (-graph.nodes[k]["count"], k)):
        index = _COLUMN_OF.get(graph.nodes[key]["kind"], len(_COLUMN_OF))
        by_column.setdefault(index, []).append(key)
    columns = [by_column[c] for c in sorted(by_column)]
    row: dict[str, float] = {}
    for column in columns:
        for index, key in enumerate(column):
            placed = [row[n] for n in graph.neighbors(key) if n in row]
            row[key] = sum(placed) / len(placed) if placed else float(index)
        column.sort(key=lambda k: row[k])
        row.update({k: float(i) for i, k in enumerate(column)})
    # A long column is folded into several side by side so the drawing stays wide, not tall.
    return [
        column[i : i + _MAX_ROWS] for column in columns for i in range(0, len(column), _MAX_ROWS)
    ]


def _positions(columns: list[list[str]], height: int, gap: float) -> dict[str, tuple[float, float]]:
    """Pixel centres: columns left to right, each column centred vertically."""
    positions: dict[str, tuple[float, float]] = {}
    for index, column in enumerate(columns):
        top = (height - len(column) * _ROW_GAP) / 2 + _ROW_GAP / 2
        for row, key in enumerate(column):
            positions[key] = (_MARGIN + index * gap, top + row * _ROW_GAP)
    return positions


def shorten(text: str, chars: int, *, keep_tail: bool = False) -> str:
    """``text`` cut to ``chars`` characters with an ellipsis, at its end or in its middle."""
    if len(text) <= chars:
        return text
    if keep_tail:
        head = chars // 3
        return text[:head] + "…" + text[len(text) - (chars - head - 1) :]
    return text[: chars - 1] + "…"


def _node(
    graph: nx.Graph, key: str, at: tuple[float, float], role: Role | None, chars: int
) -> DrawnNode:
    data = graph.nodes[key]
    style = KIND_STYLES.get(data["kind"], KIND_STYLES["ip"])
    text: str = data["text"]
    label = shorten(text, chars, keep_tail=data["kind"] in _TAIL_KINDS)
    title = f"{data['kind']}: {text}" + (f" — hypothesis: {role}" if role else "")
    return DrawnNode(
        key,
        data["kind"],
        label,
        title,
        at[0],
        at[1],
        style.colour,
        style.shape,
        _points(style.shape, at),
        ROLE_COLOURS[role] if role else "",
    )


def _points(shape: str, at: tuple[float, float]) -> str:
    """Polygon corners for the polygon shapes, centred on ``at``."""
    corners: dict[str, Iterable[tuple[float, float]]] = {
        "diamond": ((0, -9), (9, 0), (0, 9), (-9, 0)),
        "triangle": ((0, -9), (9, 7), (-9, 7)),
        "hexagon": tuple(
            (9 * math.cos(math.pi / 3 * i), 9 * math.sin(math.pi / 3 * i)) for i in range(6)
        ),
    }
    if shape not in corners:
        return ""
    return " ".join(f"{at[0] + dx:.1f},{at[1] + dy:.1f}" for dx, dy in corners[shape])


def _edge(graph: nx.Graph, a: str, b: str, positions: dict[str, tuple[float, float]]) -> DrawnEdge:
    (x1, y1), (x2, y2) = sorted((positions[a], positions[b]))
    data = graph.edges[a, b]
    if x1 == x2:  # same column: bow out to the left so the line does not hide the nodes
        path = (
            f"M{x1:.1f},{y1:.1f} C{x1 - 60:.1f},{y1:.1f} {x2 - 60:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        )
    else:
        mid = (x1 + x2) / 2
        path = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    width = 1 + math.log10(max(int(data["count"]), 1)) * 0.8
    title = f"{', '.join(sorted(data['relations']))} ({int(data['count']):,})"
    return DrawnEdge(path, round(width, 2), title)
