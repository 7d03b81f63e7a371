"""Jupyter display: an SVG as an inline element no wider than the notebook (``netdraw.api.repr_svg``
makes a Graph show itself with it)."""

from __future__ import annotations

import re

__all__ = ["inline_svg"]


def inline_svg(svg: bytes) -> str:
    """An SVG file as an element to put in HTML: no XML declaration or DOCTYPE, and scaled down
    to the width of what holds it."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    return re.sub(r"<svg ", '<svg style="max-width:100%;height:auto" ', text, count=1)
