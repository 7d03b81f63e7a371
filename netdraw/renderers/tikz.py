"""LaTeX/TikZ figures from the IR: data for the Jinja2 templates in ``netdraw/templates/tikz``.

Two styles:

* ``graph``: a 2D flowchart of any graph, every box, cluster and edge placed at the coordinates
  Graphviz computed (its ``json`` output), so it looks like the SVG, in the paper's fonts;
* ``boxes``: PlotNeuralNet-like 3D blocks for CNNs.  Each feature map is a block whose thickness
  grows with log2(channels) and whose height and depth grow with log2 of the spatial size;
  pooling is a thin block, dense layers are bars, softmax, addition and concatenation are balls;
  sizes are written under and beside the blocks; connections to anything but the next block
  (residuals, U-Net skips) are routed above.  When the resolution rises again after falling (an
  encoder-decoder), blocks are placed one level lower per halving, so a U-Net is drawn as a U.

Python computes numbers and passes texts raw; the templates write every text through the one
``tex`` filter (:func:`netdraw.renderers.escape.tex`).  Colours are named xcolor colours
(``ndConvFill``, ``ndConvBorder``...) defined with ``\\providecolor``, so a paper can restyle them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from netdraw.errors import NetdrawError, check_choice
from netdraw.ir import Graph, Node, Value
from netdraw.ops import category
from netdraw.options import STYLES
from netdraw.passes.collapse import visible_nodes
from netdraw.renderers.escape import tex
from netdraw.renderers.layout import layout_json, place
from netdraw.renderers.scene import DEFAULT_LABEL, RANKDIRS, base_op, build_scene
from netdraw.renderers.theme import THEMES, Theme
from netdraw.renderers.dot import scene_legend
from netdraw.renderers.overlay import NO_VALUE, fill, ticks
from netdraw.renderers.thumbs import PAD, display_size, png

__all__ = ["STYLES", "to_tikz", "to_tikz_files", "auto_style"]

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "tikz"  # package data (see pyproject.toml)


def _env():
    import jinja2

    if not _TEMPLATES.is_dir():
        raise NetdrawError(f"the TikZ templates are missing (looked in {_TEMPLATES})")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        block_start_string="<%", block_end_string="%>", variable_start_string="<<",
        variable_end_string=">>", comment_start_string="<#", comment_end_string="#>",
        autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tex"] = tex
    return env


def _cname(cat: str) -> str:
    return "nd" + "".join(p.capitalize() for p in cat.split("_"))


def _colors(theme: Theme, cats: set[str]) -> list[dict[str, str]]:
    out = []
    for cat in sorted(cats):
        s = theme.styles[cat]
        out.append({"name": _cname(cat) + "Fill", "hex": _hex(s.fill)})
        out.append({"name": _cname(cat) + "Border", "hex": _hex(s.border)})
    for name, value in (("ndText", theme.text), ("ndMuted", theme.muted), ("ndEdge", theme.edge),
                        ("ndClusterFill", theme.cluster_fill), ("ndClusterBorder", theme.cluster_border)):
        out.append({"name": name, "hex": _hex(value)})
    return out


def _hex(color: str) -> str:
    named = {"white": "FFFFFF", "black": "000000"}
    return named.get(color.lower(), color.lstrip("#").upper())


def _f(x: float) -> str:
    """A coordinate as written: two decimals at most, no trailing zeros, never ``-0``."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# ------------------------------------------------------------------ graph style
def _pt(p: tuple[float, float]) -> str:
    """A spline point as Graphviz wrote it (three decimals at most)."""
    return "(" + ",".join(f"{v:.3f}".rstrip("0").rstrip(".") for v in p) + ")"


def _graph_data(graph: Graph, theme: Theme, label: Sequence[str], rankdir: str, engine: str,
                laid: dict[str, Any] | None, images: "_Images", timeout: float | None) -> dict[str, Any]:
    if laid is None:
        laid = layout_json(graph, theme=theme.name, label=label, rankdir=rankdir, engine=engine,
                           thumbnails=images.enabled, timeout=timeout)
    scene = build_scene(graph, label=label, thumbnails=images.enabled)
    placed = place(scene, laid)
    lg = scene_legend(scene)
    value_colors: list[dict[str, str]] = []
    nodes = []
    for p in placed.boxes:
        item = {"x": _f(p.x), "y": _f(p.y), "w": _f(p.w) + "pt", "h": _f(p.h) + "pt", "lines": p.box.lines,
                "color": _cname(p.box.category), "stub": p.box.kind == "stub", "image": None,
                "fill": None, "text": "ndText"}
        if lg is not None and p.box.kind == "node":  # --color-by: the value's colour, grey without one
            colours = fill(p.box.value, lg)
            k = len(value_colors) // 2
            fill_hex, text_hex = colours if colours else (NO_VALUE, theme.text)
            value_colors += [{"name": f"ndValue{_letters(k)}", "hex": _hex(fill_hex)},
                             {"name": f"ndValueText{_letters(k)}", "hex": _hex(text_hex)}]
            item["fill"], item["text"] = f"ndValue{_letters(k)}", f"ndValueText{_letters(k)}"
        if p.box.thumbnail:
            iw, ih = display_size(p.box.thumbnail)
            item.update(image=images.add(p.box.thumbnail), iw=_f(iw) + "pt", ih=_f(ih) + "pt",
                        top=_f(p.y + p.h / 2 - 3), bottom=_f(p.y - p.h / 2 + PAD))
        nodes.append(item)
    clusters = [{"x0": _f(c.x0), "y0": _f(c.y0), "x1": _f(c.x1), "y1": _f(c.y1), "title": c.title}
                for c in placed.clusters]
    edges = []
    for e in placed.edges:
        pts = [_pt(p) for p in e.points]
        path = [pts[0]] + [f".. controls {pts[i]} and {pts[i + 1]} .. {pts[i + 2]}" for i in range(1, len(pts), 3)]
        if e.end:
            path.append(f"-- {_pt(e.end)}")
        item = {"path": " ".join(path), "dashed": e.dashed, "label": e.label, "lx": "0", "ly": "0"}
        if e.label_at:
            # Graphviz centres the label at lp for its own font; anchor our narrower text at its left end
            item["lx"], item["ly"] = _f(e.label_at[0] - 2.2 * len(e.label)), _f(e.label_at[1])
        edges.append(item)
    cats = {p.box.category for p in placed.boxes if p.box.kind != "stub"}
    colors = _colors(theme, cats) + value_colors
    bar = None
    if lg is not None:
        x0, y0 = (float(v) for v in laid["bb"].split(",")[:2])
        width = 160.0
        stops = []
        for i, stop in enumerate(lg["stops"]):
            name = f"ndBar{_letters(i)}"
            colors.append({"name": name, "hex": _hex(stop)})
            stops.append({"name": name, "x0": _f(x0 + 4 + width * i / len(lg["stops"])),
                          "x1": _f(x0 + 4 + width * (i + 1) / len(lg["stops"]) + 0.3)})
        unit = ", bytes" if lg["unit"] == "B" else (f", {lg['unit']}" if lg["unit"] else "")
        bar = {"stops": stops, "x0": _f(x0 + 4), "x1": _f(x0 + 4 + width), "y0": _f(y0 - 30), "y1": _f(y0 - 22),
               "title": lg["title"] + unit + (" (log scale)" if lg["log"] else ""), "ty": _f(y0 - 12),
               "ticks": [{"x": _f(x0 + 4 + width * t), "text": text} for t, text in ticks(lg)], "ly": _f(y0 - 33)}
    return {"nodes": nodes, "clusters": clusters, "edges": edges, "colors": colors, "colorbar": bar}


def _letters(k: int) -> str:
    """0 -> A, 25 -> Z, 26 -> BA: colour names of letters only (TeX names take no digits)."""
    out = ""
    while True:
        out = chr(65 + k % 26) + out
        k //= 26
        if not k:
            return out


# ------------------------------------------------------------------ boxes style
def auto_style(graph: Graph) -> str:
    """``boxes`` for a CNN (mostly 4D feature maps, no attention), else ``graph``."""
    nodes = visible_nodes(graph)
    if not nodes:
        return "graph"
    cats = [category(base_op(n)) for n in nodes]
    if "attention" in cats or "recurrent" in cats or any(n.subgraphs for n in nodes):
        return "graph"
    convs = sum(c == "conv" for c in cats)
    return "boxes" if convs >= 2 and convs >= len(nodes) // 6 else "graph"


def _kind(n: Node) -> str | None:
    cat = category(base_op(n))
    op = base_op(n).lower()
    if cat == "conv":
        return "conv"
    if cat == "pool":
        return "pool"
    if cat == "resize" or op.startswith("conv_transpose") or op.startswith("convtranspose"):
        return "conv"
    if cat == "linear" and n.outputs and n.outputs[0].shape is not None and len(n.outputs[0].shape) == 2:
        return "dense"
    if cat == "softmax":
        return "softmax"
    if op in ("add", "iadd", "sum") or n.op_type.startswith("Add"):
        return "add"
    if op in ("cat", "concat"):
        return "cat"
    return None


def _dims(v: Value) -> tuple[int, int, int] | None:
    s = v.shape
    if s is None or any(not isinstance(d, int) for d in s[1:]):
        return None
    if len(s) == 4:
        return s[1], s[2], s[3]
    if len(s) == 3:
        return s[1], s[2], 1
    if len(s) == 2:
        return s[1], 1, 1
    return None


def _log(x: int) -> float:
    return math.log2(max(x, 1))


def _boxes_data(graph: Graph, theme: Theme, images: "_Images", width: float | None = None) -> dict[str, Any]:
    """The blocks, links and colours of the ``boxes`` style: one 3D block per convolution, pooling
    and dense layer (balls for softmax, addition, concatenation), left to right; with ``width``
    (cm), wrapped into rows no wider (:func:`_wrap`)."""
    drawn: list[tuple[Node, str]] = [(n, k) for n in visible_nodes(graph) if (k := _kind(n)) is not None]
    feeds = _feeds(graph, drawn)
    inp = graph.inputs[0] if graph.inputs else None
    in_dims = _dims(inp) if inp is not None else None
    placer = _Placer(*_levels(drawn, in_dims))
    pos: list[dict[str, float]] = []  # per drawn index: left, right, y, top
    input_pos = None
    if in_dims:
        b = placer.place("input", in_dims, "input")
        b["above"] = "input"
        rec = inp.meta.get("thumbnail") if images.enabled and inp is not None else None  # see passes.thumbnails
        if rec and rec.get("layout") in ("rgb", "maps"):
            b["image"] = images.add(rec, first=rec.get("layout") != "rgb")
        placer.blocks.append(b)
        input_pos = _extent(b)
    for n, kind in drawn:
        cat = {"conv": "conv", "pool": "pool", "dense": "linear", "softmax": "softmax", "add": "merge",
               "cat": "merge"}[kind]
        if kind == "conv" and category(base_op(n)) == "resize":
            cat = "resize"
        # a pooling block sits right against the block it pools
        if kind == "pool" and placer.blocks and placer.blocks[-1]["kind"] == "box":
            placer.x -= 0.45
        b = placer.place(kind, _dims(n.outputs[0]) if n.outputs else None, cat)
        thumb = n.meta.get("thumbnail") if images.enabled else None
        if thumb and b["kind"] == "box" and thumb.get("layout") in ("maps", "grid", "matrix"):
            # the strongest map on the block's side face, the one that stands for height × width
            b["image"] = images.add(thumb, first=True)
        placer.blocks.append(b)
        pos.append(_extent(b))
    # the width less the labels beyond the last block and the page border
    rows = _wrap(placer.blocks, drawn, feeds, input_pos is not None, width - 0.7) if width else []
    if width and not rows and placer.u_shape:
        rows = _fold_u(placer.blocks, drawn, feeds, input_pos is not None, width - 0.45)
    if rows:
        pos = [_extent(b) for b in placer.blocks[1 if input_pos is not None else 0:]]
        input_pos = _extent(placer.blocks[0]) if input_pos is not None else None
    links = _links(drawn, feeds, pos, input_pos)
    ins = ([None] if input_pos is not None else []) + [at.get("in") for at in pos]
    downs = ([False] if input_pos is not None else []) + [bool(at.get("down")) for at in pos]
    for b, arrow, down in zip(placer.blocks, ins, downs):
        _side_label(b, arrow, down)
    extent = max((_right(b) for b in placer.blocks), default=0.0)
    for b in placer.blocks:
        _round_block(b)
    return {"blocks": placer.blocks, "links": links, "colors": _colors(theme, placer.cats),
            "rows": len(rows) or 1, "width": extent}


def _right(b: dict[str, Any]) -> float:
    """Where a block ends on the right: its front face and the depth receding behind it."""
    return b["x"] + b["w"] + 0.55 * b.get("d", 0.0)


def _skips(drawn: list[tuple[Node, str]], feeds: dict[Node, list[int]]) -> list[tuple[int, int]]:
    """(source, target) of every connection that skips past the next block (-1: the graph input)."""
    return [(s, i) for i, (n, _) in enumerate(drawn) for s in feeds[n] if s != i - 1]


def _wrap(blocks: list[dict[str, Any]], drawn: list[tuple[Node, str]], feeds: dict[Node, list[int]],
          has_input: bool, width: float) -> list[int]:
    """Wrap a row of blocks into rows at most ``width`` cm wide (moving them; returns the index of
    each row's first block, ``[]`` when one row fits or no break is possible).  A row ends only
    where no skip connection passes (between residual blocks, never inside one) and not before a
    pooling block (a skip may start at the row's last block: it branches off the line down into the
    next row); rows go below the labels of the row above and above their own skip arcs, every other
    one flowing back as the mirror image of a row (a snake: blocks recede to the upper left there,
    so a connection still leaves the face the flow leaves by), so the step to the next row is
    short.  Each block gets ``row`` and ``floor`` (the bottom of its row's labels)."""
    off = 1 if has_input else 0
    spans = _skips(drawn, feeds)

    # a row may end where every skip passing starts at its last block (it then branches off the
    # line that comes down into the next row)
    breaks = [i + off for i in range(1, len(drawn))
              if all(not (a < i <= b) or a == i - 1 for a, b in spans) and drawn[i][1] != "pool"
              and blocks[i + off]["kind"] == "box"]
    if max(_right(b) for b in blocks) <= width or not breaks:
        return []

    def greedy(limit: float) -> list[int]:
        starts, x0 = [0], 0.0
        for k in breaks:
            nxt = next((j for j in breaks if j > k), len(blocks))
            if max(_right(b) for b in blocks[k:nxt]) - x0 > limit and k > starts[-1]:
                starts.append(k)
                x0 = blocks[k]["x"] - 0.4
        return starts
    starts = greedy(width)
    # as many rows, as even as they can be: the smallest limit that needs no more rows
    total = max(_right(b) for b in blocks)
    for step in range(20):
        limit = total / len(starts) * (1 + 0.05 * step)
        if limit >= width:
            break
        even = greedy(limit)
        if len(even) <= len(starts):
            starts = even
            break
    ends = starts[1:] + [len(blocks)]
    if len(starts) == 1 or any(max(_right(b) for b in blocks[a:z]) - blocks[a]["x"] > width + 0.4
                               for a, z in zip(starts, ends)):
        return []  # a part longer than a row (a U-Net's skips span it all): wrapping would not fit it
    floor = None
    for r, start in enumerate(starts):
        row = blocks[start:starts[r + 1] if r + 1 < len(starts) else len(blocks)]
        dx = row[0]["x"] - (0.4 if r else 0.0)  # room beside the row for the line coming down
        skips = any(a + off < start + len(row) and b + off >= start for a, b in spans)
        top = max(b["ytop"] for b in row) + (0.35 + 0.3 * 2 if skips else 0.1)
        bottom = min(b["ylow"] for b in row) - 0.4
        dy = 0.0 if floor is None else top - (floor - 0.25)
        far = max(_right(b) for b in row) - dx
        for b in row:
            b["x"] -= dx
            if r % 2:  # a snake: this row flows back, drawn as the mirror image of a row
                b["x"], b["flip"] = (0.4 + far) - (b["x"] + b["w"]), True
            b["cx"] = b["x"] + b["w"] / 2
            for k in ("y", "ylow", "ytop"):
                b[k] -= dy
            b["row"], b["floor"] = r, bottom - dy
        floor = bottom - dy
    return starts


def _fold_u(blocks: list[dict[str, Any]], drawn: list[tuple[Node, str]], feeds: dict[Node, list[int]],
            has_input: bool, width: float) -> list[int]:
    """An encoder-decoder too wide for ``width`` cm as one U, folded as in the U-Net paper: one row
    per resolution, top to bottom, each level's encoder blocks at the left and its decoder blocks
    at the right, so a skip connection is an arc over its own row and each step down (pooling) or
    up (up-sampling) runs through the gap between two rows.  Returns the first block of each row
    (``[]`` when even that is wider than ``width``); sets ``row`` and ``floor`` as :func:`_wrap`."""
    off = 1 if has_input else 0
    level = [round(-b["y"] / 1.1) for b in blocks]  # the placer's levels (a pooling block: its block's)
    deepest = max(level)
    last = max(i for i, lv in enumerate(level) if lv == deepest)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, lv in enumerate(level):
        groups.setdefault((lv, 0 if i <= last else 1), []).append(i)

    if any(ix != list(range(ix[0], ix[-1] + 1)) for ix in groups.values()):
        return []  # a level visited twice on one side: not a U

    def edge_of() -> tuple[float, dict[tuple[int, int], float]]:
        span = {k: max(_right(blocks[i]) for i in ix) - min(blocks[i]["x"] for i in ix) for k, ix in groups.items()}
        return max(span.get((lv, 0), 0.0) + (0.9 if (lv, 1) in span else 0.0) + span.get((lv, 1), 0.0)
                   for lv in set(level)), span
    edge, span = edge_of()
    if edge > width:  # the gaps between blocks made smaller (a pooling block stays against its block)
        for ix in groups.values():
            for a, b in zip(ix, ix[1:]):
                gap = blocks[b]["x"] - _right(blocks[a])
                if gap > 0.3:
                    for i in range(b, ix[-1] + 1):
                        blocks[i]["x"] -= gap - 0.2
        edge, span = edge_of()
    if edge > width:
        return []
    skips = [(s + off, i + off) for s, i in _skips(drawn, feeds)]
    floor = None
    starts = []
    for r, lv in enumerate(sorted(set(level))):
        members = [i for i, x in enumerate(level) if x == lv]
        starts.append(members[0])
        for side in (0, 1):
            ix = groups.get((lv, side))
            if not ix:
                continue
            dx = min(blocks[i]["x"] for i in ix) - (0.4 if side == 0 else 0.4 + edge - span[(lv, side)])
            for i in ix:
                blocks[i]["x"] -= dx
                blocks[i]["cx"] = blocks[i]["x"] + blocks[i]["w"] / 2
        arcs = any(level[a] == lv and level[b] == lv for a, b in skips if a >= 0)
        top = max(blocks[i]["ytop"] for i in members) + (0.95 if arcs else 0.1)
        bottom = min(blocks[i]["ylow"] for i in members) - 0.4
        dy = 0.0 if floor is None else top - (floor - 0.3)
        for i in members:
            for k in ("y", "ylow", "ytop"):
                blocks[i][k] -= dy
            blocks[i]["row"], blocks[i]["floor"] = r, bottom - dy
        floor = bottom - dy
    return starts


def _feeds(graph: Graph, drawn: list[tuple[Node, str]]) -> dict[Node, list[int]]:
    """Which drawn blocks feed each one (-1: the graph input), looking through the ops that are
    not drawn (flatten, relu...)."""
    index = {n: i for i, (n, _) in enumerate(drawn)}
    memo: dict[Value, list[int]] = {}

    def sources(v: Value | None) -> list[int]:
        if v is None or v.kind == "param" or v.producer is None or v.meta.get("order"):
            return [-1] if v is not None and v in graph.inputs else []
        if v in memo:
            return memo[v]
        p = v.producer
        if p in index:
            out = [index[p]]
        else:
            out = sorted({s for w in p.inputs for s in sources(w)})
        memo[v] = out
        return out

    return {n: sorted({s for v in n.inputs for s in sources(v)}) for n, _ in drawn}


def _levels(drawn: list[tuple[Node, str]], in_dims: tuple[int, int, int] | None) -> tuple[int, bool]:
    """The largest feature-map height, and whether the resolution rises again after it fell (an
    encoder-decoder, drawn as a U: lower resolutions lower down)."""
    heights = [d[1] for n, _ in drawn if n.outputs and (d := _dims(n.outputs[0])) and d[1] > 1]
    if in_dims and in_dims[1] > 1:
        heights.insert(0, in_dims[1])
    lowest, u_shape = None, False
    for h in heights:
        if lowest is not None and h > lowest:
            u_shape = True
        lowest = h if lowest is None else min(lowest, h)
    return max(heights, default=1), u_shape


class _Placer:
    """Places blocks left to right: sizes from log2 of channels, height and width; ``x`` advances."""

    def __init__(self, top: int, u_shape: bool) -> None:
        self.top, self.u_shape = top, u_shape
        self.x = 0.0
        self.prev_hw: tuple[int, int] | None = None
        self.blocks: list[dict[str, Any]] = []
        self.cats: set[str] = set()

    def place(self, kind: str, dims: tuple[int, int, int] | None, cat: str, title: str = "") -> dict[str, Any]:
        c, h, w = dims or (1, 1, 1)
        level = _log(self.top) - _log(h) if (self.u_shape and h > 1) else 0.0
        y = -1.1 * level
        if kind == "pool" and self.blocks and self.blocks[-1]["kind"] == "box":
            y = float(self.blocks[-1]["y"])  # drawn against the block it pools, at that block's level
        b: dict[str, Any] = {"kind": "box", "color": _cname(cat), "above": title, "image": None}
        x = self.x
        if kind in ("softmax", "add", "cat"):
            r = 0.22
            b.update(kind="ball", cx=x + r, y=y, r=r, symbol={"softmax": "S", "add": "+", "cat": "c"}[kind])
            b.update(x=x, w=2 * r, h=2 * r, d=0, ylow=y - r - 0.05, ytop=y + r + 0.05, below="", side="")
            self.x += 2 * r + 0.45
        else:
            if kind == "dense":
                bw, bh, bd = 0.22, 0.35 + 0.32 * _log(c), 0.22
                below, side = f"{c}", ""
            else:
                bw = 0.12 if kind == "pool" else 0.14 + 0.09 * _log(c)
                bh = 0.3 + 0.26 * _log(h)
                bd = 0.3 + 0.26 * _log(w)
                below = "" if kind == "pool" else f"{c}"
                side = "" if self.prev_hw == (h, w) or kind == "pool" else f"{h}×{w}"
                if kind != "pool":  # a pooled size is written on the block that follows
                    self.prev_hw = (h, w)
            b.update(x=x, y=y, w=bw, h=bh, d=bd, ylow=y - bh / 2 - 0.05, ytop=y + bh / 2 + 0.4 * bd + 0.05,
                     below=below, side=side, cx=x + bw / 2)
            self.x += bw + 0.5 + 0.55 * bd  # past the block's receding side, and a gap
        self.cats.add(cat)
        return b


def _extent(b: dict[str, Any]) -> dict[str, float]:
    """Where links meet a block: ``l``/``r`` its front face's sides, ``t`` the top of the block and
    the text above it, ``ex, ey`` the middle of its east face (where a connection leaves, as in
    PlotNeuralNet), ``lo``/``hi`` the heights of its front face (where one enters, at its west face)."""
    d = b.get("d", 0.0)
    top = b["ytop"] + (0.32 if b.get("above") else 0.0)
    row = {"row": b.get("row", 0), "floor": b.get("floor", 0.0)}
    if b["kind"] == "ball":
        flip = bool(b.get("flip"))
        return {"l": b["x"], "r": b["x"] + b["w"], "y": b["y"], "t": top, "flip": flip,
                "ex": b["x"] if flip else b["x"] + b["w"], "ey": b["y"], "lo": b["y"], "hi": b["y"], **row}
    flip = bool(b.get("flip"))
    return {"l": b["x"], "r": b["x"] + b["w"], "y": b["y"], "t": top, "flip": flip,
            "ex": b["x"] - 0.275 * d if flip else b["x"] + b["w"] + 0.275 * d,
            "ey": b["y"] + 0.2 * d, "lo": b["y"] - b["h"] / 2 + 0.08, "hi": b["y"] + b["h"] / 2 - 0.08, **row}


def _links(drawn: list[tuple[Node, str]], feeds: dict[Node, list[int]], pos: list[dict[str, float]],
           input_pos: dict[str, float] | None) -> list[dict[str, str]]:
    """Arrows between neighbouring blocks, and skip connections as arcs above the blocks between."""
    links = []
    lane: list[tuple[float, float, float]] = []  # skip arcs already drawn: (from x, to x, height)
    entry: dict[int, tuple[float, float]] = {}  # where the line into each row turns in
    for i, (n, _) in enumerate(drawn):
        for s in feeds[n]:
            src = input_pos if s == -1 else pos[s]
            if src is None:
                continue
            dst = pos[i]
            if s == i - 1 or (s == -1 and i == 0):  # the next block: none for a pooling block against it
                # the side a connection comes in by: the front face's left, or right in a row flowing back
                door = dst["r"] if dst["flip"] else dst["l"]
                if dst["row"] != src["row"]:  # to another row: out, down beside both, in
                    y = dst["y"]
                    leg = (max(src["ex"], door) + 0.3) if dst["flip"] else (min(src["ex"], door) - 0.3)
                    dst["in"], dst["down"] = y, True  # the line comes down beside it
                    entry[dst["row"]] = (leg, y)
                    if not dst["flip"] and not src["flip"]:
                        # to another row of a folded U: out to the right, along the gap between the
                        # two rows (under the upper one's labels), down or up beside the target, in
                        # (steps down run just under the labels, steps up a little lower)
                        band = src["floor"] - 0.05 if src["row"] < dst["row"] else dst["floor"] - 0.2
                        out, leg = src["ex"] + 0.25, door - 0.25
                        entry[dst["row"]] = (leg, y)
                        links.append({"path": f"({_f(src['ex'])}, {_f(src['ey'])}) -- ({_f(out)}, {_f(src['ey'])}) "
                                              f"-- ({_f(out)}, {_f(band)}) -- ({_f(leg)}, {_f(band)}) "
                                              f"-- ({_f(leg)}, {_f(y)}) -- ({_f(door)}, {_f(y)})"})
                        continue
                    links.append({"path": f"({_f(src['ex'])}, {_f(src['ey'])}) -- ({_f(leg)}, {_f(src['ey'])}) "
                                          f"-- ({_f(leg)}, {_f(y)}) -- ({_f(door)}, {_f(y)})"})
                elif (src["l"] - dst["r"] if dst["flip"] else dst["l"] - src["r"]) > 0.05:
                    # from the middle of the source's east face (the face the flow leaves by), drawn
                    # before the blocks so they hide it, into the next block's west side: the arrow
                    # tip at its front face's side
                    y = min(max(src["ey"], dst["lo"]), dst["hi"])
                    dst["in"] = y
                    links.append({"path": f"({_f(src['ex'])}, {_f(src['ey'])}) -- ({_f(door)}, {_f(y)})"})
                continue
            # a skip: up from the source's top, across above everything between, down into the target
            span = [p for p in pos[max(s, 0):i] if p["row"] == dst["row"]] + [dst]
            h = max(p["t"] for p in span) + 0.35
            dx = (dst["l"] + dst["r"]) / 2
            if src["row"] != dst["row"] and dst["row"] in entry:  # from the line coming into this row
                ex, ey = entry[dst["row"]]
                links.append({"path": f"({_f(ex)}, {_f(ey)}) -- ({_f(ex)}, {_f(h)}) -- ({_f(dx)}, {_f(h)}) "
                                      f"-- ({_f(dx)}, {_f(dst['t'])})"})
                lane.append((min(ex, dx), max(ex, dx), h))
                continue
            sx = (src["l"] + src["r"]) / 2
            lo, hi = min(sx, dx), max(sx, dx)
            for a, bx, hh in lane:
                if not (bx <= lo or a >= hi) and abs(hh - h) < 0.25:
                    h = hh + 0.3
            lane.append((lo, hi, h))
            links.append({"path": f"({_f(sx)}, {_f(src['t'])}) -- ({_f(sx)}, {_f(h)}) -- ({_f(dx)}, {_f(h)}) "
                                  f"-- ({_f(dx)}, {_f(dst['t'])})"})
    return links


def _side_label(b: dict[str, Any], arrow: float | None, down: bool = False) -> None:
    """Where the height × width label goes along a block's left side (``sy``: its middle): from
    the bottom up, or above the arrow coming in when it would reach that; under the block, after
    the channels, when neither leaves it clear of the arrow (or a line comes down its left side:
    the first block of a wrapped row)."""
    if not b.get("side") or b["kind"] != "box":
        return
    length = 0.12 * len(b["side"]) + 0.06  # cm of 6 pt text
    low, high = b["y"] - b["h"] / 2, b["y"] + b["h"] / 2
    # along the side the flow comes in by: the left, or the right in a row flowing back
    b["sx"], b["sanchor"] = (b["x"] + b["w"], "north") if b.get("flip") else (b["x"], "south")
    b["sy"] = low + 0.04 + length / 2
    if not down and (arrow is None or low + 0.04 + length < arrow - 0.1):
        return
    if not down and arrow is not None and arrow + 0.1 + length <= high:
        b["sy"] = arrow + 0.1 + length / 2
        return
    b["below"] = f"{b['below']} · {b['side']}" if b["below"] else b["side"]
    b["side"] = ""


def _round_block(b: dict[str, Any]) -> None:
    """A block's numbers as the template writes them, and its side face for a thumbnail."""
    flip = bool(b.get("flip"))
    b["dir"] = -1 if flip else 1  # where the block recedes to: upper right, or upper left when mirrored
    b["sidex"] = b["x"] if flip else b["x"] + b["w"]  # where its side face starts
    if b.get("image"):  # the side face: from (x + w, y - h/2), up h, receding (0.55 d, 0.4 d);
        # mirrored, from its far edge towards the front, so the picture is not drawn reversed
        if flip:
            b["face"] = {"x": _f(b["x"] - 0.55 * b["d"]), "y": _f(b["y"] - b["h"] / 2 + 0.4 * b["d"]),
                         "dx": _f(0.55 * b["d"]), "dy": _f(-0.4 * b["d"]), "h": _f(b["h"])}
        else:
            b["face"] = {"x": _f(b["x"] + b["w"]), "y": _f(b["y"] - b["h"] / 2), "dx": _f(0.55 * b["d"]),
                         "dy": _f(0.4 * b["d"]), "h": _f(b["h"])}
    for k in ("x", "y", "w", "h", "d", "cx", "r", "ylow", "ytop", "sy", "sx", "sidex"):
        if k in b and isinstance(b[k], float):
            b[k] = _f(b[k])


class _Images:
    """The PNG files a figure includes: ``folder/001.png``..., in drawing order."""

    def __init__(self, folder: str | None, cmap: str) -> None:
        self.enabled = folder is not None
        self.folder = folder or ""
        self.cmap = cmap
        self.files: dict[str, bytes] = {}

    def add(self, record: dict[str, Any], first: bool = False) -> str:
        data = png(record, cmap=self.cmap, first=first)
        name = f"{self.folder}/{len(self.files) + 1:03d}.png"
        self.files[name] = data
        return name


def to_tikz(graph: Graph, **options: Any) -> str:
    """A LaTeX document (``preamble=True``) or an includable ``tikzpicture`` of a prepared graph
    (options as :func:`to_tikz_files`; thumbnails are left out: they need files)."""
    return to_tikz_files(graph, **options, images=None)[0]


def to_tikz_files(graph: Graph, *, style: str = "auto", theme: str = "paper",
                  label: str | Sequence[str] = DEFAULT_LABEL, rankdir: str = "TB", preamble: bool = True,
                  engine: str = "auto", layout: dict[str, Any] | None = None, images: str | None = "thumbs",
                  cmap: str = "viridis", layout_timeout: float | None = None,
                  width: float | None = None, notices: list[str] | None = None,
                  scale: float = 1.0) -> tuple[str, dict[str, bytes]]:
    """The TikZ source of a prepared graph and the image files it includes (``{relative path: PNG
    bytes}``, in the folder ``images``; None leaves thumbnails out; ``layout_timeout``: see
    :func:`netdraw.renderers.engine.layout`).

    The ``graph`` style lays the graph out with Graphviz (``engine``), or takes the parsed
    :func:`layout_json` of it as ``layout``; ``boxes`` needs no layout.  Thumbnails go into the
    ``graph`` style's nodes as in the SVG, and onto the ``boxes`` style's blocks (the strongest
    map on the face that stands for height × width).  ``width`` (cm): the ``boxes`` style wraps
    into rows no wider (its text stays 6 pt); what it did is appended to ``notices``.  ``scale``:
    the ``graph`` style drawn that much smaller (text and all), as ``--fit`` chose.
    """
    check_choice("style", style, STYLES)
    check_choice("theme", theme, THEMES)
    check_choice("rankdir", rankdir, RANKDIRS)
    if style == "auto":
        style = auto_style(graph)
    env = _env()
    t = THEMES[theme]
    has = any("thumbnail" in n.meta for n in graph.nodes) or any("thumbnail" in v.meta for v in graph.inputs)
    imgs = _Images(images if has else None, cmap)
    if style == "graph":
        data = _graph_data(graph, t, label, rankdir, engine, layout, imgs, layout_timeout)
        data["scale"] = _f(scale) if scale < 0.9999 else None
    else:
        data = _boxes_data(graph, t, imgs, width)
        if not data["blocks"]:
            raise NetdrawError("the boxes style found no convolution, pooling or dense layer to draw; "
                               "use --style graph")
        if width is not None and notices is not None:
            w = data["width"] + 0.3  # the labels beyond the last block
            said = f"{data['rows']} rows" if data["rows"] > 1 else "one row"
            if w <= width:
                notices.append(f"boxes in {said}: {w / 2.54:.2f} in wide, text 6 pt")
            else:
                notices.append(f"boxes in {said}: {w / 2.54:.2f} in wide; at {width / 2.54:.2f} in its text is "
                               f"{6 * width / w:.1f} pt (no row break fits: skip connections span it)")
    body = env.get_template(f"{style}.tex.j2").render(**data)
    if not preamble:
        return body, imgs.files
    from netdraw.version import __version__

    return env.get_template("standalone.tex.j2").render(body=body.rstrip("\n"), version=__version__,
                                                        title=graph.name,
                                                        graphics=bool(imgs.files)), imgs.files
