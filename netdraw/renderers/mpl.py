"""Draw a graph into a matplotlib ``Axes``, laid out by Graphviz, so it can sit beside other plots.

    import matplotlib.pyplot as plt
    import netdraw

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 6))
    netdraw.draw(graph, ax=ax1)   # the same options as netdraw.render (depth, label, theme...)
    ax2.plot(losses)
    fig.savefig("figure.pdf")     # any format matplotlib writes

Boxes, clusters and edge splines are placed at the coordinates Graphviz computed (in points,
so 1 data unit = 1 pt); texts use matplotlib's fonts (``rcParams``), so they match the other
panels of the figure.  matplotlib is needed only here (``pip install matplotlib``).
"""

from __future__ import annotations

from typing import Any, Sequence

from netdraw.errors import NetdrawError, check_choice
from netdraw.ir import Graph
from netdraw.renderers.dot import DEFAULT_LABEL
from netdraw.renderers.layout import place
from netdraw.renderers.scene import build_scene
from netdraw.renderers.theme import THEMES
from netdraw.renderers.thumbs import PAD, display_size, image

__all__ = ["draw_placed"]


def draw_placed(graph: Graph, laid: dict[str, Any], *, ax: Any = None, theme: str = "paper",
                label: Sequence[str] = DEFAULT_LABEL, thumbnails: bool = True, cmap: str = "viridis") -> Any:
    """Draw a prepared ``graph`` at the positions of ``laid`` (Graphviz's json layout of it) into
    ``ax`` (a new figure's axes when None) and return the axes.  The aspect ratio is kept; the
    axes are hidden.  :func:`netdraw.api.draw` chooses the level and lays it out."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, PathPatch
        from matplotlib.path import Path as MPath
    except ImportError:
        raise NetdrawError("drawing into matplotlib needs matplotlib (pip install matplotlib)") from None
    check_choice("theme", theme, THEMES)
    placed = place(build_scene(graph, label=label, thumbnails=thumbnails), laid)
    theme = THEMES[theme]  # type: ignore[assignment]
    if ax is None:
        _, ax = plt.subplots()
    x0, y0, x1, y1 = placed.bb
    ax.set_xlim(x0 - 2, x1 + 2)
    ax.set_ylim(y0 - 2, y1 + 2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    # texts are sized in points: scale Graphviz's 10 pt to however large the axes draw a point
    box = ax.get_window_extent()
    pt = min(box.width / (x1 - x0 + 4), box.height / (y1 - y0 + 4)) * 72 / ax.figure.dpi
    for c in placed.clusters:
        ax.add_patch(FancyBboxPatch((c.x0, c.y0), c.x1 - c.x0, c.y1 - c.y0, boxstyle="round,pad=0,rounding_size=4",
                                    facecolor=theme.cluster_fill, edgecolor=theme.cluster_border, lw=0.6, zorder=1))
        ax.text(c.x0 + 3, c.y1 - 3, c.title, ha="left", va="top", fontsize=8.5 * pt, color=theme.text, zorder=2)
    for e in placed.edges:
        codes = [MPath.MOVETO] + [MPath.CURVE4] * (len(e.points) - 1)
        ax.add_patch(PathPatch(MPath(e.points, codes), facecolor="none", edgecolor=theme.edge, lw=0.7,
                               ls="--" if e.dashed else "-", zorder=3))
        if e.end is not None:
            ax.add_patch(FancyArrowPatch(e.points[-1], e.end, arrowstyle="-|>", mutation_scale=7, color=theme.edge,
                                         lw=0.7, zorder=3))
        if e.label_at:
            ax.text(*e.label_at, e.label, ha="center", va="center", fontsize=7 * pt, color=theme.muted, zorder=4)
    for p in placed.boxes:
        b = p.box
        if b.kind != "stub":
            s = theme.styles[b.category]
            ax.add_patch(FancyBboxPatch((p.x - p.w / 2, p.y - p.h / 2), p.w, p.h, boxstyle="round,pad=0,rounding_size=3",
                                        facecolor=s.fill, edgecolor=s.border, lw=0.9, zorder=5))
        if b.thumbnail:
            # as in the SVG: the text at the top, the picture at the bottom, one pixel per point
            w, h = display_size(b.thumbnail)
            bottom = p.y - p.h / 2 + PAD
            ax.imshow(image(b.thumbnail, cmap=cmap), extent=(p.x - w / 2, p.x + w / 2, bottom, bottom + h),
                      interpolation="nearest", zorder=6)
            ax.text(p.x, p.y + p.h / 2 - 3, "\n".join(b.lines), ha="center", va="top", fontsize=9 * pt,
                    color=theme.text, zorder=6, linespacing=1.15)
            continue
        ax.text(p.x, p.y, "\n".join(b.lines), ha="center", va="center", fontsize=(9 if b.kind != "stub" else 7) * pt,
                color=theme.text if b.kind != "stub" else theme.muted, zorder=6, linespacing=1.15)
    ax.set_xlim(x0 - 2, x1 + 2)  # imshow resets the limits
    ax.set_ylim(y0 - 2, y1 + 2)
    return ax
