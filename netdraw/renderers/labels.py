"""Where edge labels and cluster titles go: clear of every edge line.

Graphviz puts an edge's label beside the edge's middle; the embedded (wasm) Graphviz lets the
text touch its own line, and with either engine another edge (a skip connection) can run through
a label or through a cluster's title.  After the layout, :func:`clear` moves each cluster title
along its cluster's top band and each edge label to the nearest spot beside its own edge where
its box keeps :data:`CLEARANCE` points from every edge path and stays off every box, title and
other label.  :func:`crossings` lists what still touches (what the tests check).

Pure geometry on Graphviz's ``json`` output (points, y up): the new positions are written back
into it as ``lp``, which the pinned render (:func:`netdraw.renderers.layout.draw_soon`) and the
renderers that draw from the json (TikZ, draw.io, PowerPoint) then use.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Iterator

from netdraw.renderers.text import width as text_width

__all__ = ["clear", "crossings", "crossed_titles", "title_widths", "spline", "CLEARANCE", "TITLE_CLEARANCE"]

#: points between a label's box and any edge line
CLEARANCE = 2.0
#: points between a cluster's title and any edge line
TITLE_CLEARANCE = 4.0
_CELL = 36.0      # the grid of the spatial index, in points
_STEPS = 10       # line pieces per Bezier segment
_LINE = 1.2       # Graphviz's line height per point of font size
_NEAR = 9.0       # points: another edge this close to a label makes it look like that edge's

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


def _xy(text: str) -> Point:
    x, y = text.split(",")[:2]
    return float(x), float(y)


def spline(pos: str) -> tuple[list[Point], Point | None, Point | None]:
    """An edge's ``pos`` as Graphviz writes it: its Bezier points (start, then three per segment),
    and the tips of the arrows at its start (``s,``) and end (``e,``), None where it has none."""
    pts: list[Point] = []
    end = start = None
    for tok in pos.split():
        if tok.startswith("e,"):
            end = _xy(tok[2:])
        elif tok.startswith("s,"):
            start = _xy(tok[2:])
        else:
            pts.append(_xy(tok))
    return pts, start, end


def _path(pos: str) -> list[Point]:
    """An edge's line as a polyline: its Bezier segments sampled, and the pieces to the arrow tips."""
    pts, start, end = spline(pos)
    if len(pts) < 4:
        return []
    out = [pts[0]] if start is None else [start, pts[0]]
    for i in range(0, len(pts) - 3, 3):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts[i:i + 4]
        for k in range(1, _STEPS + 1):
            t = k / _STEPS
            u = 1 - t
            out.append((u * u * u * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3,
                        u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3))
    if end is not None:
        out.append(end)
    return out


def _text_box(obj: dict[str, Any], centre: Point, width: float | None = None) -> Rect | None:
    """The box of an object's label centred at ``centre``: its widest line as Graphviz sized it
    or as the bundled font draws it, whichever is wider (``width``: a cluster title's width,
    given), by its lines' height."""
    size, lines, widest = 14.0, [], 0.0
    for op in obj.get("_ldraw_", ()):
        if op.get("op") == "F":
            size = float(op.get("size", size))
        elif op.get("op") == "T":
            lines.append(str(op.get("text", "")))
            widest = max(widest, float(op.get("width", 0)), text_width(lines[-1], size))
    if "lwidth" in obj:  # a cluster's title
        w = max(float(obj["lwidth"]) * 72, widest) if width is None else width
        h = float(obj["lheight"]) * 72
    elif lines:
        w, h = widest + 2, len(lines) * size * _LINE
    else:
        return None
    return (centre[0] - w / 2, centre[1] - h / 2, centre[0] + w / 2, centre[1] + h / 2)


def _grow(r: Rect, d: float) -> Rect:
    return (r[0] - d, r[1] - d, r[2] + d, r[3] + d)


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _seg_hits(p: Point, q: Point, r: Rect) -> bool:
    """Whether the segment p-q meets the rectangle r (Liang-Barsky clipping)."""
    x0, y0 = p
    dx, dy = q[0] - x0, q[1] - y0
    lo, hi = 0.0, 1.0
    for den, num in ((-dx, x0 - r[0]), (dx, r[2] - x0), (-dy, y0 - r[1]), (dy, r[3] - y0)):
        if den == 0:
            if num < 0:
                return False
        else:
            t = num / den
            if den < 0:
                lo = max(lo, t)
            else:
                hi = min(hi, t)
            if lo > hi:
                return False
    return True


def _cells(r: Rect) -> Iterator[tuple[int, int]]:
    for i in range(math.floor(r[0] / _CELL), math.floor(r[2] / _CELL) + 1):
        for j in range(math.floor(r[1] / _CELL), math.floor(r[3] / _CELL) + 1):
            yield i, j


class _Index:
    """Edge pieces and boxes in a grid, for the few near a candidate spot."""

    def __init__(self) -> None:
        self.segs: list[tuple[Point, Point]] = []
        self.boxes: list[Rect] = []
        self.owner: list[int] = []
        self.rects: list[Rect] = []
        self.grid: dict[tuple[int, int], list[int]] = {}
        self.rgrid: dict[tuple[int, int], list[int]] = {}

    def add_path(self, path: list[Point], owner: int = -1) -> None:
        for p, q in zip(path, path[1:]):
            k = len(self.segs)
            self.segs.append((p, q))
            self.owner.append(owner)
            box = (min(p[0], q[0]), min(p[1], q[1]), max(p[0], q[0]), max(p[1], q[1]))
            self.boxes.append(box)
            for c in _cells(box):
                self.grid.setdefault(c, []).append(k)

    def add_rect(self, r: Rect) -> None:
        k = len(self.rects)
        self.rects.append(r)
        for c in _cells(r):
            self.rgrid.setdefault(c, []).append(k)

    def hits(self, box: Rect, clearance: float = CLEARANCE, but: int | None = None, limit: int | None = None) -> int:
        """How many edge pieces come within ``clearance`` of ``box`` (``but``: not counting
        those of that edge), and boxes overlap it; counting stops once past ``limit``."""
        grown = _grow(box, clearance)
        segs: set[int] = set()
        rects: set[int] = set()
        for c in _cells(grown):
            segs.update(self.grid.get(c, ()))
            rects.update(self.rgrid.get(c, ()))
        n = 0
        for k in rects:
            if _overlap(box, self.rects[k]):
                n += 1
                if limit is not None and n > limit:
                    return n
        for k in segs:
            b = self.boxes[k]
            if (b[0] <= grown[2] and grown[0] <= b[2] and b[1] <= grown[3] and grown[1] <= b[3]
                    and self.owner[k] != but and _seg_hits(*self.segs[k], grown)):
                n += 1
                if limit is not None and n > limit:
                    return n
        return n


def _drawn_edges(laid: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in laid.get("edges", []) if "invis" not in str(e.get("style", "")) and e.get("pos")]


def _clusters(laid: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in laid.get("objects", []) if "bb" in o and o.get("lp") and o.get("label")]


def _nodes(laid: dict[str, Any]) -> Iterator[Rect]:
    for o in laid.get("objects", []):
        if "pos" in o and "width" in o and "invis" not in str(o.get("style", "")):
            x, y = _xy(o["pos"])
            w, h = float(o["width"]) * 36, float(o["height"]) * 36
            yield (x - w, y - h, x + w, y + h)


def _along(path: list[Point]) -> Iterator[tuple[float, Point, Point]]:
    """(fraction of the length, point, unit direction) at every 5 % of a polyline's length."""
    lengths = [math.dist(p, q) for p, q in zip(path, path[1:])]
    total = sum(lengths)
    if total == 0:
        return
    k, done = 0, 0.0
    for step in range(1, 20):
        want = total * step / 20
        while k < len(lengths) - 1 and done + lengths[k] < want:
            done += lengths[k]
            k += 1
        (x0, y0), (x1, y1) = path[k], path[k + 1]
        t = (want - done) / lengths[k] if lengths[k] else 0.0
        d = lengths[k] or 1.0
        yield step / 20, (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t), ((x1 - x0) / d, (y1 - y0) / d)


def _beside(path: list[Point], w: float, h: float, gap: float) -> Iterator[Point]:
    """Centres of a w×h box beside a line, every 5 % of its length, on its four sides, close by
    and a little further off (a slanted line needs more room)."""
    for _, (x, y), _d in _along(path):
        for more in (0.0, 5.0, 12.0):
            yield x + gap + more + w / 2, y
            yield x - gap - more - w / 2, y
            yield x, y + gap + more + h / 2
            yield x, y - gap - more - h / 2


def _borders(laid: dict[str, Any]) -> Iterator[list[Point]]:
    for o in laid.get("objects", []):
        if "bb" in o:
            x0, y0, x1, y1 = (float(v) for v in o["bb"].split(","))
            yield [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


def _move(box: Rect, centre: Point) -> Rect:
    w, h = box[2] - box[0], box[3] - box[1]
    return (centre[0] - w / 2, centre[1] - h / 2, centre[0] + w / 2, centre[1] + h / 2)


def _cost(centre: Point, start: Point, box: Rect, k: int, lines: _Index, boxes: _Index, borders: _Index,
          beat: tuple[int, int, float] | None = None) -> tuple[int, int, float] | None:
    """What a label at ``centre`` touches, as a sort key (None: worse than ``beat`` already)."""
    r = _move(box, centre)
    cap = None if beat is None else beat[0]
    hard = lines.hits(r, limit=cap)
    if cap is not None and hard > cap:
        return None
    hard += boxes.hits(r, 0.0, limit=None if cap is None else cap - hard)
    if cap is not None and hard > cap:
        return None
    soft_cap = None if beat is None or hard < beat[0] else beat[1]
    soft = borders.hits(r, 0.5, limit=soft_cap)
    if soft_cap is not None and soft > soft_cap:
        return None
    soft += lines.hits(r, _NEAR, but=k, limit=None if soft_cap is None else soft_cap - soft)
    if soft_cap is not None and soft > soft_cap:
        return None
    return hard, soft, math.dist(centre, start)


def title_widths(laid: dict[str, Any]) -> dict[str, float]:
    """{cluster name: its title's width in points}."""
    out = {}
    for c in _clusters(laid):
        box = _text_box(c, (0.0, 0.0))
        if box is not None:
            out[c["name"]] = box[2] - box[0]
    return out


def crossed_titles(laid: dict[str, Any], widths: dict[str, float] | None = None) -> list[str]:
    """The clusters whose titles an edge line still crosses (after :func:`clear`)."""
    lines = _Index()
    for e in _drawn_edges(laid):
        lines.add_path(_path(e["pos"]))
    out = []
    for c in _clusters(laid):
        box = _text_box(c, _xy(c["lp"]), (widths or {}).get(c["name"]))
        if box is not None and lines.hits(box, TITLE_CLEARANCE):
            out.append(c["name"])
    return out


def clear(laid: dict[str, Any], widths: dict[str, float] | None = None) -> list[str]:
    """Move labels and titles of a json layout clear of edge lines, in place; returns the clusters
    whose titles an edge line still crosses (as :func:`crossed_titles` would find them).
    A label already clear stays where Graphviz put it; one with no clear spot beside its edge goes
    where it touches least, keeping off cluster borders where it can.  ``widths``: the true widths
    of cluster titles laid out wider than they are (padded to make room beside an entering
    edge).  The diagram's ``bb`` grows to hold every label."""
    edges = _drawn_edges(laid)
    paths = [_path(e["pos"]) for e in edges]
    lines = _Index()
    for k, p in enumerate(paths):
        lines.add_path(p, k)
    boxes = _Index()
    for r in _nodes(laid):
        boxes.add_rect(r)
    if laid.get("lp") and laid.get("label"):  # the diagram's title
        r = _text_box(laid, _xy(laid["lp"]))
        if r is not None:
            boxes.add_rect(r)
    # cluster titles first: they can only slide along their cluster's top band
    crossed: list[str] = []
    for c in _clusters(laid):
        centre = _xy(c["lp"])
        box = _text_box(c, centre, (widths or {}).get(c["name"]))
        if box is None:
            continue
        if c["name"] in (widths or {}):  # padded: the text starts at the left of its wider box
            x0 = float(c["bb"].split(",")[0])
            box = _move(box, (x0 + 6 + (box[2] - box[0]) / 2, centre[1]))
            c["lp"] = f"{(box[0] + box[2]) / 2:.2f},{centre[1]:.2f}"
            centre = _xy(c["lp"])
        still = lines.hits(box, TITLE_CLEARANCE)
        if still:
            x0, _, x1, _ = (float(v) for v in c["bb"].split(","))
            w = box[2] - box[0]
            room = int(max(0.0, x1 - x0 - 12 - w) / 2)
            spots = sorted(((x0 + 6 + w / 2 + 2 * k, centre[1]) for k in range(room + 1)),
                           key=lambda s: (abs(s[0] - centre[0]), s[0]))
            best, fewest = centre, lines.hits(box, TITLE_CLEARANCE)
            for spot in spots:  # the nearest clear spot, else the one crossed least
                n = lines.hits(_move(box, spot), TITLE_CLEARANCE)
                if n < fewest:
                    best, fewest = spot, n
                    if n == 0:
                        break
            if best != centre:
                c["lp"] = f"{best[0]:.2f},{best[1]:.2f}"
                box = _move(box, best)
            still = fewest
        if still:
            crossed.append(c["name"])
        boxes.add_rect(box)
    borders = _Index()
    for b in _borders(laid):
        borders.add_path(b)
    x0, y0, x1, y1 = (float(v) for v in laid["bb"].split(","))
    for k, (e, path) in enumerate(zip(edges, paths)):
        if not e.get("lp") or not path:
            continue
        start = _xy(e["lp"])
        box = _text_box(e, start)
        if box is None:
            continue
        w, h = box[2] - box[0], box[3] - box[1]

        best = start
        if _cost(start, start, box, k, lines, boxes, borders)[:2] != (0, 0):
            # the nearest spot that touches nothing: touching a line or a box counts first, then
            # straddling a cluster border or sitting nearer another edge than its own (it would
            # read as that edge's label), then the distance
            spots = sorted({start, *_beside(path, w, h, CLEARANCE + 1.0)},
                           key=lambda c: (round(math.dist(c, start), 3), -c[0], -c[1]))  # ties: right, above
            least: tuple[int, int, float] | None = None
            for n, spot in enumerate(spots):
                if n >= 80 and least is not None and least[0] == 0:
                    break  # clear of lines already; what is left is further off
                c = _cost(spot, start, box, k, lines, boxes, borders, least)
                if c is not None and (least is None or c < least):
                    best, least = spot, c
                    if c[:2] == (0, 0):
                        break
            e["lp"] = f"{best[0]:.2f},{best[1]:.2f}"
        r = _move(box, best)
        boxes.add_rect(r)
        x0, y0, x1, y1 = min(x0, r[0] - 2), min(y0, r[1] - 2), max(x1, r[2] + 2), max(y1, r[3] + 2)
    laid["bb"] = f"{x0:.2f},{y0:.2f},{x1:.2f},{y1:.2f}"
    return crossed


def crossings(laid: dict[str, Any]) -> list[str]:
    """Every edge label and cluster title whose box an edge line passes through or comes within
    1.5 points of, as words: empty when every label is clear."""
    lines = _Index()
    for e in _drawn_edges(laid):
        lines.add_path(_path(e["pos"]))
    out = []
    named: Iterable[tuple[str, dict[str, Any]]] = [
        *((f"edge label {e.get('label', '')!r}", e) for e in _drawn_edges(laid) if e.get("lp")),
        *((f"title {c.get('label', '')!r}", c) for c in _clusters(laid))]
    for what, obj in named:
        box = _text_box(obj, _xy(obj["lp"]))
        if box is not None and lines.hits(box, 1.5):
            out.append(f"{what} at {obj['lp']} is touched by {lines.hits(box, 1.5)} edge piece(s)")
    return out
