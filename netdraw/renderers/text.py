"""How wide text is drawn: the bundled Liberation Sans (SIL OFL 1.1, Arial's and so Helvetica's
widths), the font every PNG and PDF is drawn with.

Graphviz estimates widths from its own table, which guesses characters outside Latin-1 (``·``,
``×``, ``–``): a label's real box can be wider than the one Graphviz sized, so code that keeps
things clear of a label measures it here.
"""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["FONT", "width"]

#: the bundled font file
FONT = Path(__file__).resolve().parent / "fonts" / "LiberationSans-Regular.ttf"


@functools.lru_cache(maxsize=1)
def _font():
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT), 1000)  # measured at 1000 px: 1/1000 of a point per unit


def width(text: str, size: float) -> float:
    """The width in points of one line of ``text`` at ``size`` points."""
    return _font().getlength(text) * size / 1000
