"""Draw a graph into a matplotlib ``Axes``, laid out by Graphviz, so it can sit beside other plots.

    import matplotlib.pyplot as plt
    from netdraw.render.mpl import draw

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 6))
    draw(graph, ax=ax1)           # the same options as netdraw.render (depth, label, theme...)
    ax2.plot(losses)
    fig.savefig("figure.pdf")     # any format matplotlib writes

Boxes, clusters and edge splines are placed at the coordinates Graphviz computed (in points,
so 1 data unit = 1 pt); texts use matplotlib's fonts (``rcParams``), so they match the other
panels of the figure.  matplotlib is needed only here (``pip install matplotlib``).
"""

from __future__ import annotations

from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.render.escape import dot_id
from netdraw.render.scene import build_scene
from netdraw.render.theme import THEMES

__all__ = ["draw"]


def _points(pos: str) -> tuple[list[tuple[float, float]], tuple[float, float] | None]:
    pts, end = [], None
    for tok in pos.split():
        if tok.startswith("e,"):
            x, y = tok[2:].split(",")
            end = (float(x), float(y))
        elif not tok.startswith("s,"):
            x, y = tok.split(",")
            pts.append((float(x), float(y)))
    return pts, end


def draw(graph: Graph, ax: Any = None, **options: Any) -> Any:
    """Draw ``graph`` (with :func:`netdraw.render.render`'s options) into ``ax`` (a new figure's
    axes when None) and return the axes.  The aspect ratio is kept; the axes are hidden."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, PathPatch
        from matplotlib.path import Path as MPath
    except ImportError:
        raise NetdrawError("drawing into matplotlib needs matplotlib (pip install matplotlib)") from None
    from netdraw.render import _fit, _options
    from netdraw.render.tikz import layout_json

    opts = _options(options)
    drawn = _fit(graph, opts)[0]
    scene = build_scene(drawn, opts["label"])
    laid = layout_json(drawn, theme=opts["theme"], label=opts["label"], rankdir=opts["rankdir"],
                       engine=opts["engine"])
    theme = THEMES[opts["theme"]]
    if ax is None:
        _, ax = plt.subplots()
    x0, y0, x1, y1 = (float(v) for v in laid["bb"].split(","))
    ax.set_xlim(x0 - 2, x1 + 2)
    ax.set_ylim(y0 - 2, y1 + 2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    # texts are sized in points: scale Graphviz's 10 pt to however large the axes draw a point
    box = ax.get_window_extent()
    pt = min(box.width / (x1 - x0 + 4), box.height / (y1 - y0 + 4)) * 72 / ax.figure.dpi
    objects = {o["name"]: o for o in laid.get("objects", [])}
    titles: dict[str, str] = {}

    def walk(c: Any) -> None:
        for ch in c.children:
            titles[dot_id(ch.id)[1:-1]] = ch.title
            walk(ch)

    walk(scene.root)
    for name, title in titles.items():
        o = objects.get(name)
        if o is None or "bb" not in o:
            continue
        x0, y0, x1, y1 = (float(v) for v in o["bb"].split(","))
        ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=4",
                                    facecolor=theme.cluster_fill, edgecolor=theme.cluster_border, lw=0.6, zorder=1))
        ax.text(x0 + 3, y1 - 3, title, ha="left", va="top", fontsize=8.5 * pt, color=theme.text, zorder=2)
    names = [o["name"] for o in laid.get("objects", [])]
    stubs = {dot_id(e.src)[1:-1] for e in scene.edges if e.stub}
    labels = {(dot_id(e.src)[1:-1], dot_id(e.dst)[1:-1]): e.label for e in scene.edges}
    for e in laid.get("edges", []):
        pts, end = _points(e.get("pos", ""))
        if len(pts) < 4:
            continue
        tail, head = names[e["tail"]], names[e["head"]]
        verts = pts[:1 + 3 * ((len(pts) - 1) // 3)]
        codes = [MPath.MOVETO] + [MPath.CURVE4] * (len(verts) - 1)
        style = "--" if tail in stubs else "-"
        ax.add_patch(PathPatch(MPath(verts, codes), facecolor="none", edgecolor=theme.edge, lw=0.7, ls=style,
                               zorder=3))
        if end is not None:
            ax.add_patch(FancyArrowPatch(verts[-1], end, arrowstyle="-|>", mutation_scale=7, color=theme.edge,
                                         lw=0.7, zorder=3))
        text = labels.get((tail, head), "")
        if text and "lp" in e:
            lx, ly = (float(v) for v in e["lp"].split(","))
            ax.text(lx, ly, text, ha="center", va="center", fontsize=7 * pt, color=theme.muted, zorder=4)
    for b in scene.boxes():
        o = objects.get(dot_id(b.id)[1:-1])
        if o is None or "pos" not in o:
            continue
        x, y = (float(v) for v in o["pos"].split(","))
        w, h = float(o["width"]) * 72, float(o["height"]) * 72
        if b.kind != "stub":
            s = theme.styles[b.category]
            ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=3",
                                        facecolor=s.fill, edgecolor=s.border, lw=0.9, zorder=5))
        ax.text(x, y, "\n".join(b.lines), ha="center", va="center", fontsize=(9 if b.kind != "stub" else 7) * pt,
                color=theme.text if b.kind != "stub" else theme.muted, zorder=6, linespacing=1.15)
    return ax
