"""Jupyter display: a Graph shows itself inline as SVG, no wider than the notebook."""

from __future__ import annotations

import re

from netdraw.ir import Graph

__all__ = ["repr_svg", "inline_svg"]


def inline_svg(svg: bytes) -> str:
    """An SVG file as an element to put in HTML: no XML declaration or DOCTYPE, and scaled down
    to the width of what holds it."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    return re.sub(r"<svg ", '<svg style="max-width:100%;height:auto" ', text, count=1)


def repr_svg(graph: Graph) -> str:
    """The default diagram (automatic depth) as an SVG element scaled to fit the output cell."""
    from netdraw.render import render_bytes

    return inline_svg(render_bytes(graph, "svg"))
