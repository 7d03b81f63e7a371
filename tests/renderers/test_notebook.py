"""Jupyter display of a Graph."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import netdraw
from netdraw.passes import visible_nodes
from netdraw.api import prepare

SVG = "{http://www.w3.org/2000/svg}"


def test_graph_displays_itself_as_svg_that_fits_the_cell(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    svg = g._repr_svg_()
    assert svg.startswith('<svg style="max-width:100%;height:auto" width="')  # an element, scaled to the cell
    root = ET.fromstring(svg)
    drawn = prepare(g)
    shapes = [e for e in root.iter(f"{SVG}g") if e.get("class") == "node"]
    assert len(shapes) == len(visible_nodes(drawn)) + len(drawn.inputs) + len(drawn.outputs)
    assert svg == g._repr_svg_()  # deterministic


def test_a_graph_with_thumbnails_shows_them_inline():
    from tests.renderers.test_thumbs import drawn_graph

    g = drawn_graph()
    svg = g._repr_svg_()
    root = ET.fromstring(svg)  # still one well-formed element
    images = list(root.iter(f"{SVG}image"))
    drawn = prepare(g)
    assert len(images) == sum("thumbnail" in n.meta for n in drawn.nodes) + 1
    assert all(i.get("{http://www.w3.org/1999/xlink}href").startswith("data:image/png;base64,") for i in images)
