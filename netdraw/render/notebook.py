"""Jupyter display: a Graph shows itself inline as SVG, no wider than the notebook."""

from __future__ import annotations

import re

from netdraw.ir import Graph

__all__ = ["repr_svg"]


def repr_svg(graph: Graph) -> str:
    """The default diagram (automatic depth) as an SVG element scaled to fit the output cell."""
    from netdraw.render import render_bytes

    svg = render_bytes(graph, "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]  # the element alone: no XML declaration or DOCTYPE inside HTML
    return re.sub(r"<svg ", '<svg style="max-width:100%;height:auto" ', svg, count=1)
