"""Graphviz's coordinates for a scene: where each box, cluster and edge spline goes (in points).

Renderers that draw themselves (TikZ, matplotlib) lay the graph out once with Graphviz's ``json``
output and read positions from here, so they match the SVG.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from netdraw.ir import Graph
from netdraw.renderers.escape import dot_id
from netdraw.renderers.labels import TITLE_CLEARANCE, clear, spline, title_widths
from netdraw.renderers.scene import Box, Cluster, Scene

if TYPE_CHECKING:
    from netdraw.renderers.engine import Job

__all__ = ["layout_json", "layout_json_soon", "draw_soon", "place", "Placed", "PlacedBox", "PlacedCluster", "PlacedEdge"]

Point = tuple[float, float]


def layout_json(graph: Graph, *, theme: str, label: Sequence[str], rankdir: str, engine: str,
                thumbnails: bool = True, timeout: float | None = None) -> dict[str, Any]:
    """Graphviz's layout of the graph's DOT, as the parsed ``json`` output (``bb`` in points)."""
    return layout_json_soon(graph, theme=theme, label=label, rankdir=rankdir, engine=engine,
                            thumbnails=thumbnails, timeout=timeout).result()


def layout_json_soon(graph: Graph, *, theme: str, label: Sequence[str], rankdir: str, engine: str,
                     thumbnails: bool = True, timeout: float | None = None, rows: int = 1) -> "Job":
    """:func:`layout_json`, started (see :func:`netdraw.renderers.engine.layout_soon`).  Edge
    labels and cluster titles are moved clear of the edge lines (:func:`netdraw.renderers.labels.clear`)."""
    from netdraw.renderers import engine as layout_engine
    from netdraw.renderers.dot import to_dot

    def finish(raw: bytes) -> dict[str, Any]:
        laid = json.loads(raw)
        crossed = clear(laid)
        if not crossed:
            return laid
        # edges cross titles (entering a module from above): laid out again with every title at
        # the bottom, those crossed wider so an edge has room beside them (twice at most: the
        # bottom can cross others); the layout with the fewest crossed titles is kept
        widths = title_widths(laid)
        best, fewest = laid, len(crossed)
        room: dict[str, float] = {}
        for times in (1, 2):  # room beside the title: its width, then twice (content may sit centred)
            room.update({k: times * (widths[k] + 2 * TITLE_CLEARANCE + 8) for k in crossed if k in widths})
            source = to_dot(graph, rankdir=rankdir, theme=theme, label=label, thumbnails=thumbnails, wide=room,
                            bottom=True, rows=rows)
            padded = {k: widths[k] for k in room}
            again = json.loads(layout_engine.layout(source, "json", engine=engine, timeout=timeout))
            crossed = clear(again, padded)
            if len(crossed) < fewest:
                best, fewest = again, len(crossed)
            if not crossed:
                break
        return best

    dot = to_dot(graph, rankdir=rankdir, theme=theme, label=label, thumbnails=thumbnails, rows=rows)
    return layout_engine.layout_soon(dot, "json", engine=engine, timeout=timeout).then(finish)


def draw_soon(graph: Graph, *, theme: str, label: Sequence[str], rankdir: str, engine: str,
              thumbnails: bool = True, timeout: float | None = None, fmt: str = "svg", rows: int = 1) -> "Job":
    """The graph drawn by Graphviz (``fmt``: svg, or json to read what was drawn), started: laid
    out once (json), its labels moved clear of the edges, then drawn pinned where they are
    (``rows``: the flow wrapped into that many rows, :func:`netdraw.renderers.dot.wrap_rows`)."""
    from netdraw.renderers import engine as layout_engine
    from netdraw.renderers.dot import to_dot

    def draw(laid: dict[str, Any]) -> bytes:
        pinned = to_dot(graph, rankdir=rankdir, theme=theme, label=label, thumbnails=thumbnails, pins=laid,
                        rows=rows)
        return layout_engine.layout(pinned, fmt, engine=engine, timeout=timeout, pinned=True)
    return layout_json_soon(graph, theme=theme, label=label, rankdir=rankdir, engine=engine,
                            thumbnails=thumbnails, timeout=timeout, rows=rows).then(draw)


@dataclass
class PlacedBox:
    box: Box
    x: float  # centre
    y: float
    w: float  # size in points
    h: float
    cluster: str | None = None  # the id of the innermost cluster around it (None: the top level)


@dataclass
class PlacedCluster:
    title: str
    x0: float
    y0: float
    x1: float
    y1: float
    id: str = ""                # the scene's cluster id
    parent: str | None = None   # the cluster around it (None: the top level)


@dataclass
class PlacedEdge:
    points: list[Point]  # start, then three Bezier control points per segment
    end: Point | None    # the arrow tip
    label: str
    label_at: Point | None
    dashed: bool         # to a stub standing for a far-away source
    src: str = ""        # the scene ids of its two ends
    dst: str = ""


@dataclass
class Placed:
    boxes: list[PlacedBox]
    clusters: list[PlacedCluster]
    edges: list[PlacedEdge]
    bb: tuple[float, float, float, float]


def _xy(text: str) -> Point:
    x, y = text.split(",")
    return float(x), float(y)


def place(scene: Scene, laid: dict[str, Any]) -> Placed:
    """Match a scene's boxes, clusters and edges with Graphviz's ``json`` layout of its DOT."""
    objects = {o["name"]: o for o in laid.get("objects", [])}
    key = lambda raw: dot_id(raw)[1:-1]  # noqa: E731  (the name Graphviz reports for a DOT id)
    inside: dict[str, str] = {}
    clusters = []

    def walk(c: Cluster, parent: str | None) -> None:
        for b in c.boxes:
            if parent is not None:
                inside[b.id] = parent
        for ch in c.children:
            o = objects.get(key(ch.id))
            here = parent
            if o is not None and "bb" in o:
                clusters.append(PlacedCluster(ch.title, *(float(v) for v in o["bb"].split(",")), id=ch.id,
                                              parent=parent))
                here = ch.id
            for r in range(1, 8):  # the rest of a module split across wrapped rows (dot.wrap_rows)
                part = objects.get(key(f"{ch.id}#{r}"))
                if part is not None and "bb" in part:
                    clusters.append(PlacedCluster(f"{ch.title} (cont.)", *(float(v) for v in part["bb"].split(",")),
                                                  id=f"{ch.id}#{r}", parent=parent))
            walk(ch, here)

    walk(scene.root, None)
    boxes = []
    for b in scene.boxes():
        o = objects.get(key(b.id))
        if o is not None and "pos" in o:
            x, y = _xy(o["pos"])
            boxes.append(PlacedBox(b, x, y, float(o["width"]) * 72, float(o["height"]) * 72, inside.get(b.id)))
    names = [o["name"] for o in laid.get("objects", [])]
    by_ends = {(key(e.src), key(e.dst)): e for e in scene.edges}
    edges = []
    for e in laid.get("edges", []):
        if "invis" in str(e.get("style", "")):
            continue  # placed by Graphviz, never drawn (order links, the anchors of wrapped rows)
        points, start, end = spline(e.get("pos", ""))
        if len(points) < 4:
            continue
        tail, head = names[e["tail"]], names[e["head"]]
        if e.get("dir") == "back":  # written reversed (a row flowing back): drawn from head to tail
            points, end, tail, head = points[::-1], start, head, tail
        se = by_ends.get((tail, head))
        if se is not None and se.hidden:
            continue  # placed by Graphviz, never drawn
        text = se.label if se else ""
        edges.append(PlacedEdge(points[:1 + 3 * ((len(points) - 1) // 3)], end, text,
                                _xy(e["lp"]) if text and "lp" in e else None, bool(se and se.stub),
                                se.src if se else "", se.dst if se else ""))
    bb = tuple(float(v) for v in laid["bb"].split(","))
    return Placed(boxes, clusters, edges, bb)  # type: ignore[arg-type]
