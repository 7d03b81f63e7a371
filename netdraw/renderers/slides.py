"""PowerPoint slides a person can finish by hand (``python-pptx``): live shapes, text and connectors.

Each box is a rounded rectangle with its text (the theme's, overlay's or diff's colours), each
module box a rectangle grouped with its contents (nested modules nest groups), each edge a connector
attached to its two shapes (moving a box drags its arrows), edge shapes as small text boxes, and
thumbnails as pictures.  The layout is Graphviz's; a slide is 16:9.  A figure whose text would
shrink below :data:`MIN_FONT` points at 13.33 in is given a larger 16:9 slide (up to PowerPoint's
56 in), and when even that is not enough it is scaled down with a notice.
"""

from __future__ import annotations

import io
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.renderers.dot import scene_legend
from netdraw.renderers.layout import Placed
from netdraw.renderers.overlay import box_colours
from netdraw.renderers.scene import Scene
from netdraw.renderers.theme import Theme
from netdraw.renderers.thumbs import PAD, display_size, png

__all__ = ["to_pptx", "MIN_FONT", "SLIDE_WIDTH", "MAX_WIDTH"]

MIN_FONT = 10.0         # pt: the smallest text on a slide
SLIDE_WIDTH = 13.333    # in: a 16:9 slide
MAX_WIDTH = 56.0        # in: the widest slide PowerPoint opens
_MARGIN = 0.3           # in


def _rgb(hex_colour: str) -> Any:
    from pptx.dml.color import RGBColor

    h = hex_colour.lstrip("#")
    if len(h) != 6:
        h = {"white": "FFFFFF", "black": "000000"}.get(hex_colour.lower(), "FFFFFF")
    return RGBColor.from_string(h.upper())


def to_pptx(pages: list[tuple[Scene, Placed]], theme: Theme, *, cmap: str = "viridis") -> tuple[bytes, list[str]]:
    """The ``.pptx`` of placed scenes (one slide each) and the notices to print."""
    try:
        from pptx import Presentation
        from pptx.util import Emu, Pt
    except ImportError:
        raise NetdrawError("PowerPoint output needs the package python-pptx (pip install python-pptx)") from None
    notices: list[str] = []
    # one slide size for the deck: the largest any page needs to keep its text at MIN_FONT
    need = max(max((p.bb[2] - p.bb[0]) / 72 + 2 * _MARGIN, ((p.bb[3] - p.bb[1]) / 72 + 2 * _MARGIN) * 16 / 9)
               for _, p in pages)
    width = min(MAX_WIDTH, max(SLIDE_WIDTH, need))
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(int(width * 914400)), Emu(int(width * 9 / 16 * 914400))
    if width > SLIDE_WIDTH:
        notices.append(f"the figure needs {need:.1f} in: the slides are {width:.1f} × {width * 9 / 16:.1f} in "
                       f"(16:9) so text stays at {MIN_FONT:g} pt")
    for scene, placed in pages:
        _slide(prs, scene, placed, theme, width, cmap, notices, Pt)
    buf = io.BytesIO()
    prs.save(buf)
    return _deterministic(buf.getvalue()), notices


def _slide(prs: Any, scene: Scene, placed: Placed, theme: Theme, width: float, cmap: str, notices: list[str],
           Pt: Any) -> None:
    from pptx.enum.shapes import MSO_CONNECTOR, MSO_SHAPE
    from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
    from pptx.util import Emu

    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    bg = slide.background.fill
    bg.solid()
    bg.fore_color.rgb = _rgb(theme.background)
    x0, y0, x1, y1 = placed.bb
    avail_w, avail_h = (width - 2 * _MARGIN) * 72, (width * 9 / 16 - 2 * _MARGIN) * 72
    scale = min(1.0, avail_w / max(1.0, x1 - x0), avail_h / max(1.0, y1 - y0))
    if scale < 0.999:
        notices.append(f"{scene.name}: scaled to {scale:.0%} to fit the slide (text at {10 * scale:.1f} pt); "
                       "--depth or --max-nodes draws less")
    off_x = _MARGIN * 72 + (avail_w - (x1 - x0) * scale) / 2
    off_y = _MARGIN * 72 + (avail_h - (y1 - y0) * scale) / 2

    def emu_x(x: float) -> Any:
        return Emu(int((off_x + (x - x0) * scale) * 12700))

    def emu_y(y: float) -> Any:
        return Emu(int((off_y + (y1 - y) * scale) * 12700))

    def emu(d: float) -> Any:
        return Emu(int(d * scale * 12700))

    groups: dict[str | None, Any] = {None: slide.shapes}
    for c in placed.clusters:  # parents come before their children
        group = groups[c.parent].add_group_shape()
        groups[c.id] = group.shapes
        rect = group.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, emu_x(c.x0), emu_y(c.y1), emu(c.x1 - c.x0),
                                      emu(c.y1 - c.y0))
        rect.adjustments[0] = 0.03
        _style(rect, theme.cluster_fill, theme.cluster_border, 0.75)
        tf = rect.text_frame
        tf.vertical_anchor = MSO_ANCHOR.TOP
        tf.margin_left = tf.margin_top = Emu(int(4 * 12700))
        p = tf.paragraphs[0]
        p.alignment = PP_ALIGN.LEFT
        run = p.add_run()
        run.text = c.title
        run.font.size = Pt(max(MIN_FONT * min(1.0, scale / 1.0), 9 * scale))
        run.font.color.rgb = _rgb(theme.text)
        rect.name = f"module {c.title}"
    lg = scene_legend(scene)
    shapes: dict[str, Any] = {}
    for pb in placed.boxes:
        b = pb.box
        container = groups[pb.cluster]
        left, topy = emu_x(pb.x - pb.w / 2), emu_y(pb.y + pb.h / 2)
        if b.kind == "stub":
            box = container.add_textbox(left, topy, emu(pb.w), emu(pb.h))
            _text(box, b.lines, theme.muted, 8 * scale, Pt)
            shapes[b.id] = box
            continue
        fc, sc, tc = box_colours(b, theme, lg)
        box = container.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, left, topy, emu(pb.w), emu(pb.h))
        box.adjustments[0] = 0.2
        _style(box, fc, sc, 1.0)
        if b.diff == "removed":
            from pptx.enum.dml import MSO_LINE_DASH_STYLE

            box.line.dash_style = MSO_LINE_DASH_STYLE.DASH
        _text(box, b.lines, tc, 10 * scale, Pt, top=bool(b.thumbnail))
        box.name = b.lines[0] if b.lines else b.id
        shapes[b.id] = box
        if b.thumbnail:
            w, h = display_size(b.thumbnail)
            container.add_picture(io.BytesIO(png(b.thumbnail, cmap=cmap)), emu_x(pb.x - w / 2),
                                  emu_y(pb.y - pb.h / 2 + PAD + h), emu(w), emu(h))
    for e in placed.edges:
        a, z = shapes.get(e.src), shapes.get(e.dst)
        if a is None or z is None:
            continue
        start, end = e.points[0], e.end or e.points[-1]
        con = slide.shapes.add_connector(MSO_CONNECTOR.STRAIGHT, emu_x(start[0]), emu_y(start[1]), emu_x(end[0]),
                                         emu_y(end[1]))
        con.begin_connect(a, _site(a, start, emu_x, emu_y))
        con.end_connect(z, _site(z, end, emu_x, emu_y))
        con.line.color.rgb = _rgb(theme.edge)
        con.line.width = Pt(0.9)
        if e.dashed:
            from pptx.enum.dml import MSO_LINE_DASH_STYLE

            con.line.dash_style = MSO_LINE_DASH_STYLE.DASH
        _arrow(con)
        if e.label and e.label_at:
            lx, ly = e.label_at
            tb = slide.shapes.add_textbox(emu_x(lx + 2), emu_y(ly + 5), emu(6 * len(e.label) + 8), emu(10))
            _text(tb, [e.label], theme.muted, 8 * scale, Pt, left=True)


def _site(shape: Any, point: tuple[float, float], emu_x: Any, emu_y: Any) -> int:
    """The rectangle's connection site nearest the spline's end (0 top, 1 left, 2 bottom, 3 right)."""
    x, y = emu_x(point[0]), emu_y(point[1])
    cx, cy = shape.left + shape.width / 2, shape.top + shape.height / 2
    sites = [(cx, shape.top), (shape.left, cy), (cx, shape.top + shape.height), (shape.left + shape.width, cy)]
    return min(range(4), key=lambda i: (sites[i][0] - x) ** 2 + (sites[i][1] - y) ** 2)


def _style(shape: Any, fill_hex: str, line_hex: str, width_pt: float) -> None:
    from pptx.util import Pt

    shape.fill.solid()
    shape.fill.fore_color.rgb = _rgb(fill_hex)
    shape.line.color.rgb = _rgb(line_hex)
    shape.line.width = Pt(width_pt)
    shape.shadow.inherit = False


def _text(shape: Any, lines: list[str], colour: str, size: float, Pt: Any, top: bool = False,
          left: bool = False) -> None:
    from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
    from pptx.util import Emu

    tf = shape.text_frame
    tf.word_wrap = False
    tf.margin_left = tf.margin_right = tf.margin_top = tf.margin_bottom = Emu(int(2 * 12700))
    tf.vertical_anchor = MSO_ANCHOR.TOP if top else MSO_ANCHOR.MIDDLE
    for i, line in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.alignment = PP_ALIGN.LEFT if left else PP_ALIGN.CENTER
        run = p.add_run()
        run.text = line
        run.font.size = Pt(max(4.0, size))
        run.font.name = "Arial"
        run.font.color.rgb = _rgb(colour)


def _arrow(connector: Any) -> None:
    """An arrow head at the connector's end (python-pptx has no API for it: DrawingML's tailEnd)."""
    from lxml import etree

    ln = connector.line._get_or_add_ln()
    tail = etree.SubElement(ln, "{http://schemas.openxmlformats.org/drawingml/2006/main}tailEnd")
    tail.set("type", "triangle")
    tail.set("w", "sm")
    tail.set("len", "sm")


def _deterministic(data: bytes) -> bytes:
    """The same deck byte for byte every time: zip entries rewritten with a fixed timestamp and the
    document's creation and modification times pinned."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", body)
            zi = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, body)
    return out.getvalue()
