"""Colours for ``--color-by``: a perceptual colormap over the drawn nodes' values, and the colour bar
every figure carries (SVG here; TikZ and the interactive page draw their own from :func:`legend`).

The scale runs over the values the figure shows (its drawn nodes), linear, or logarithmic when they
span more than two decades.  Text on a filled node is dark or white, whichever contrasts more.
Nodes without a value keep a light grey.  The colormap is cividis (colour-blind safe) by default.
"""

from __future__ import annotations

import math
import re
from typing import Any

from netdraw.renderers.escape import xml
from netdraw.renderers.scene import DIFF_MARK, Box, format_value
from netdraw.renderers.theme import Theme
from netdraw.renderers.thumbs import colormap

__all__ = ["DIFF_STYLES", "box_colours", "add_diff_legend", "OVERLAY_CMAP", "NO_VALUE", "legend", "fill", "format_value", "add_colorbar", "STOPS"]

OVERLAY_CMAP = "cividis"
NO_VALUE = "#F2F2F2"
#: colours the colour bar (and the interactive page) interpolates between
STOPS = 32


def legend(values: list[float], info: dict[str, Any], cmap: str = OVERLAY_CMAP) -> dict[str, Any] | None:
    """The scale of a figure whose drawn nodes have ``values`` (None when none has one)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    positive = [v for v in vals if v > 0]
    log = bool(positive) and min(positive) > 0 and lo > 0 and hi / min(positive) > 100
    lut = colormap(cmap)
    stops = ["#%02X%02X%02X" % tuple(int(c) for c in lut[round(i * 255 / (STOPS - 1))][:3]) for i in range(STOPS)]
    return {"title": info.get("title", ""), "unit": info.get("unit", ""), "lo": lo, "hi": hi, "log": log,
            "cmap": cmap, "stops": stops}


def _t(v: float, lg: dict[str, Any]) -> float:
    lo, hi = lg["lo"], lg["hi"]
    if hi <= lo:
        return 1.0
    if lg["log"]:
        return (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    return (v - lo) / (hi - lo)


def fill(v: float | None, lg: dict[str, Any] | None) -> tuple[str, str] | None:
    """(fill colour, text colour) for a node's value; None without a value or a scale."""
    if v is None or lg is None:
        return None
    lut = colormap(lg["cmap"])
    r, g, b = (int(c) for c in lut[round(min(1.0, max(0.0, _t(v, lg))) * 255)][:3])
    lum = 0.2126 * (r / 255) ** 2.2 + 0.7152 * (g / 255) ** 2.2 + 0.0722 * (b / 255) ** 2.2
    return "#%02X%02X%02X" % (r, g, b), ("#1A1A1A" if lum > 0.2 else "#FFFFFF")


def ticks(lg: dict[str, Any]) -> list[tuple[float, str]]:
    """(position 0..1, text) of the colour bar's labels: its ends and the middle (decades on a log scale)."""
    lo, hi, unit = lg["lo"], lg["hi"], lg["unit"]
    if lg["log"]:
        out = [(0.0, format_value(lo, unit))]
        for e in range(math.ceil(math.log10(lo)), math.floor(math.log10(hi)) + 1):
            t = _t(10.0 ** e, lg)
            if 0.12 < t < 0.88:
                out.append((t, format_value(10.0 ** e, unit)))
        return out + [(1.0, format_value(hi, unit))]
    mid = (lo + hi) / 2
    return [(0.0, format_value(lo, unit)), (0.5, format_value(mid, unit)), (1.0, format_value(hi, unit))]


_SIZE = re.compile(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"\s+viewBox="([\d.\-]+) ([\d.\-]+) ([\d.]+) ([\d.]+)"')


def add_colorbar(svg: bytes, lg: dict[str, Any] | None, *, font: str = "Helvetica,Arial,sans-serif",
                 text: str = "#1A1A1A", background: str = "#FFFFFF") -> bytes:
    """A Graphviz SVG with the colour bar of ``lg`` drawn under the diagram (the page grows)."""
    if lg is None:
        return svg
    m = _SIZE.search(svg)
    if m is None:
        return svg
    w, h = float(m.group(1)), float(m.group(2))
    bar_w, bar_h, pad = min(220.0, max(120.0, w - 24)), 10.0, 12.0
    extra = 58.0
    width = max(w, bar_w + 2 * pad)
    x0, y0 = pad, h + 22.0
    scale = " (log scale)" if lg["log"] else ""
    unit = f", {lg['unit']}" if lg["unit"] and lg["unit"] != "B" else (", bytes" if lg["unit"] == "B" else "")
    parts = [f'<g id="colorbar" class="colorbar">',
             f'<rect x="0" y="{h:.2f}" width="{width:.2f}" height="{extra:.2f}" fill="{background}" stroke="none"/>',
             f'<text x="{x0:.2f}" y="{h + 14:.2f}" font-family="{font}" font-size="9.00" fill="{text}">'
             f'{xml(lg["title"] + unit + scale)}</text>']
    n = len(lg["stops"])
    for i, colour in enumerate(lg["stops"]):
        parts.append(f'<rect x="{x0 + bar_w * i / n:.2f}" y="{y0:.2f}" width="{bar_w / n + 0.3:.2f}" '
                     f'height="{bar_h:.2f}" fill="{colour}" stroke="none"/>')
    parts.append(f'<rect x="{x0:.2f}" y="{y0:.2f}" width="{bar_w:.2f}" height="{bar_h:.2f}" fill="none" '
                 f'stroke="{text}" stroke-width="0.5"/>')
    for t, label in ticks(lg):
        anchor = "start" if t == 0 else "end" if t == 1 else "middle"
        x = x0 + bar_w * t
        parts.append(f'<path d="M{x:.2f},{y0 + bar_h:.2f} L{x:.2f},{y0 + bar_h + 3:.2f}" stroke="{text}" '
                     f'stroke-width="0.5"/>')
        parts.append(f'<text x="{x:.2f}" y="{y0 + bar_h + 12:.2f}" text-anchor="{anchor}" font-family="{font}" '
                     f'font-size="8.00" fill="{text}">{xml(label)}</text>')
    return _below(svg, m, extra, width, parts)


def _below(svg: bytes, m: re.Match[bytes], extra: float, width: float, parts: list[str]) -> bytes:
    """``svg`` (whose size ``m`` matched) grown by ``extra`` points at the bottom and to ``width``,
    with the elements ``parts`` drawn there."""
    new_h = float(m.group(2)) + extra
    head = (f'<svg width="{width:.0f}pt" height="{new_h:.0f}pt"\n viewBox="{m.group(3).decode()} '
            f'{m.group(4).decode()} {width:.2f} {new_h:.2f}"').encode()
    out = svg[:m.start()] + head + svg[m.end():]
    return out.replace(b"</svg>", "".join(parts).encode() + b"</g>\n</svg>", 1)


#: a diff's states: (fill, border), colour-blind safe (Okabe-Ito green, vermillion, orange); each also
#: has a marker (netdraw.renderers.scene.DIFF_MARK), so no state is told by colour alone
DIFF_STYLES = {"added": ("#D5F0E6", "#009E73"), "removed": ("#FADBCB", "#D55E00"), "changed": ("#FCEBC4", "#E69F00")}


def box_colours(box: Box, theme: Theme, lg: dict[str, Any] | None) -> tuple[str, str, str]:
    """(fill, border, text) of a box: its category's in the theme, a diff state's, or its value's
    on the scale ``lg`` (grey without a value)."""
    cat = "input" if box.kind == "input" else "output" if box.kind == "output" else box.category
    s = theme.styles[cat]
    fc, sc, tc = s.fill, s.border, theme.text
    if box.diff in DIFF_STYLES:
        fc, sc = DIFF_STYLES[box.diff]
    elif lg is not None and box.kind == "node":
        colours = fill(box.value, lg)
        fc, tc = colours if colours else (NO_VALUE, theme.text)
    return fc, sc, tc


def add_diff_legend(svg: bytes, title: str, *, font: str = "Helvetica,Arial,sans-serif", text: str = "#1A1A1A",
                    background: str = "#FFFFFF") -> bytes:
    """A Graphviz SVG with the diff's key under the diagram: ``+ added  − removed  ~ changed``."""
    m = _SIZE.search(svg)
    if m is None:
        return svg
    w, h = float(m.group(1)), float(m.group(2))
    extra, width = 40.0, max(w, 300.0)
    parts = ['<g id="diff-legend" class="legend">',
             f'<rect x="0" y="{h:.2f}" width="{width:.2f}" height="{extra:.2f}" fill="{background}" stroke="none"/>',
             f'<text x="12" y="{h + 13:.2f}" font-family="{font}" font-size="9.00" fill="{text}">{xml(title)}</text>']
    x = 12.0
    for state in ("added", "removed", "changed"):
        f, b = DIFF_STYLES[state]
        dash = ' stroke-dasharray="3,2"' if state == "removed" else ""
        parts.append(f'<rect x="{x:.2f}" y="{h + 20:.2f}" width="14" height="11" rx="2" fill="{f}" stroke="{b}"{dash}/>')
        parts.append(f'<text x="{x + 18:.2f}" y="{h + 29:.2f}" font-family="{font}" font-size="9.00" fill="{text}">'
                     f'{DIFF_MARK[state]} {state}</text>')
        x += 80
    return _below(svg, m, extra, width, parts)
