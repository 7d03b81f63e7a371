"""diagrams.net (draw.io) files a person can finish by hand: ``mxfile`` XML with live shapes.

Every box is a vertex at Graphviz's position with its label as text and the theme's (or the
overlay's, or the diff's) colours; every module box a container whose children are placed relative
to it, so moving it moves its contents; every edge a connector bound to its source and target,
through the spline's anchor points, with its shape label.  Thumbnails are image vertices inside
their box.  Text goes through :func:`netdraw.renderers.escape.xml`, the one XML filter.
"""

from __future__ import annotations

from typing import Any

from netdraw.renderers.dot import scene_legend
from netdraw.renderers.escape import xml
from netdraw.renderers.layout import Placed, PlacedBox
from netdraw.renderers.overlay import box_colours
from netdraw.renderers.scene import Scene
from netdraw.renderers.theme import Theme
from netdraw.renderers.thumbs import PAD, data_uri, display_size

__all__ = ["to_drawio"]


def _text(lines: list[str]) -> str:
    return "&#10;".join(xml(line) for line in lines)


def _n(x: float) -> str:
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def to_drawio(scene: Scene, placed: Placed, theme: Theme, *, cmap: str = "viridis") -> str:
    """The ``.drawio`` XML of a placed scene."""
    x0, y0, x1, y1 = placed.bb
    height = y1 - y0
    top: dict[str | None, tuple[float, float]] = {None: (0.0, 0.0)}  # a container's top-left corner
    for c in placed.clusters:
        top[c.id] = (c.x0 - x0, height - (c.y1 - y0))
    ids: dict[str, str] = {}

    def cell_id(raw: str) -> str:
        return ids.setdefault(raw, f"c{len(ids) + 2}")

    lg = scene_legend(scene)
    out = ['<mxfile host="netdraw" type="device">',
           f'<diagram id="netdraw" name="{xml(scene.name)}">',
           f'<mxGraphModel dx="{_n(x1 - x0)}" dy="{_n(height)}" grid="0" gridSize="10" guides="1" tooltips="1" '
           'connect="1" arrows="1" fold="1" page="0" pageScale="1" math="0" shadow="0">',
           "<root>", '<mxCell id="0"/>', '<mxCell id="1" parent="0"/>']
    for c in placed.clusters:
        px, py = top[c.parent]
        cx, cy = top[c.id]
        style = (f"rounded=1;arcSize=4;whiteSpace=wrap;html=0;container=1;collapsible=0;fillColor={theme.cluster_fill};"
                 f"strokeColor={theme.cluster_border};fontColor={theme.text};fontSize=9;align=left;verticalAlign=top;"
                 f"spacingLeft=6;spacingTop=2;fontFamily=Helvetica;")
        out.append(f'<mxCell id="{cell_id(c.id)}" value="{xml(c.title)}" style="{style}" vertex="1" '
                   f'parent="{cell_id(c.parent) if c.parent else "1"}">'
                   f'<mxGeometry x="{_n(cx - px)}" y="{_n(cy - py)}" width="{_n(c.x1 - c.x0)}" '
                   f'height="{_n(c.y1 - c.y0)}" as="geometry"/></mxCell>')
    for p in placed.boxes:
        out.extend(_vertex(p, theme, top, cell_id, x0, y0, height, lg, cmap))
    for k, e in enumerate(placed.edges):
        if not e.src or not e.dst:
            continue
        pts = e.points[3::3][:-1] if len(e.points) > 4 else []  # the spline's inner anchor points
        style = (f"endArrow=block;endSize=5;html=0;rounded=1;curved=1;strokeColor={theme.edge};fontSize=8;"
                 f"fontColor={theme.muted};labelBackgroundColor=none;" + ("dashed=1;" if e.dashed else ""))
        geo = ['<mxGeometry relative="1" as="geometry">']
        if pts:
            geo.append("<Array as=\"points\">" + "".join(f'<mxPoint x="{_n(x - x0)}" y="{_n(height - (y - y0))}"/>'
                                                          for x, y in pts) + "</Array>")
        geo.append("</mxGeometry>")
        out.append(f'<mxCell id="e{k}" value="{xml(e.label)}" style="{style}" edge="1" parent="1" '
                   f'source="{cell_id(e.src)}" target="{cell_id(e.dst)}">{"".join(geo)}</mxCell>')
    out += ["</root>", "</mxGraphModel>", "</diagram>", "</mxfile>"]
    return "\n".join(out) + "\n"


def _vertex(p: PlacedBox, theme: Theme, top: dict, cell_id: Any, x0: float, y0: float, height: float,
            lg: dict | None, cmap: str) -> list[str]:
    b = p.box
    px, py = top[p.cluster]
    x, y = p.x - p.w / 2 - x0 - px, height - (p.y + p.h / 2 - y0) - py
    if b.kind == "stub":
        style = f"text;html=0;fontSize=8;fontColor={theme.muted};align=center;verticalAlign=middle;"
    else:
        fc, sc, tc = box_colours(b, theme, lg)
        dashed = "dashed=1;" if b.diff == "removed" else ""
        valign = "top" if b.thumbnail else "middle"
        style = (f"rounded=1;arcSize=18;whiteSpace=wrap;html=0;fillColor={fc};strokeColor={sc};fontColor={tc};"
                 f"fontSize=10;fontFamily=Helvetica;verticalAlign={valign};{dashed}"
                 + ("shadow=0;strokeWidth=2;" if b.subgraphs else ""))
    parent = cell_id(p.cluster) if p.cluster else "1"
    out = [f'<mxCell id="{cell_id(b.id)}" value="{_text(b.lines)}" style="{style}" vertex="1" parent="{parent}">'
           f'<mxGeometry x="{_n(x)}" y="{_n(y)}" width="{_n(p.w)}" height="{_n(p.h)}" as="geometry"/></mxCell>']
    if b.thumbnail:
        w, h = display_size(b.thumbnail)
        uri = data_uri(b.thumbnail, cmap=cmap).replace(";base64", "")  # draw.io's own form of a data URI
        out.append(f'<mxCell id="{cell_id(b.id + ">thumb")}" value="" style="shape=image;imageAspect=0;'
                   f'image={xml(uri)};editable=1;" vertex="1" parent="{parent}">'
                   f'<mxGeometry x="{_n(x + (p.w - w) / 2)}" y="{_n(y + p.h - PAD - h)}" width="{_n(w)}" '
                   f'height="{_n(h)}" as="geometry"/></mxCell>')
    return out
