"""Thumbnail pictures: a finished record (:mod:`netdraw.records`) as an RGBA image, a PNG,
a data URI, and their placement in a Graphviz SVG.

The maps of a record are laid out in a near-square grid (1 px transparent gaps), coloured with a
perceptual colormap (matplotlib's ``viridis`` by default) and enlarged by a whole factor (nearest
neighbour, so pixels stay sharp in every viewer) until a tile is at least :data:`MIN_TILE` pixels.
A diagram shows one image pixel per point.  Strips and matrices are a single tile; an ``rgb``
record (the input image) is drawn in its own colours.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import re
from typing import Any

import numpy as np

from netdraw.records import decode
from netdraw.errors import NetdrawError

__all__ = ["check_cmap", "colormap", "grid", "image", "png", "data_uri", "display_size", "embed_svg", "CMAP", "MIN_TILE"]

CMAP = "viridis"
MIN_TILE = 24       # px: small maps (7×7) are enlarged to at least this
STRIP_HEIGHT = 8    # px: a vector's strip
PAD = 4.0           # pt between a thumbnail and its node's border
TEXT_DROP = 3.0     # pt the label of a node with a thumbnail is moved down from the border


@functools.lru_cache(maxsize=8)
def _lut(cmap: str) -> np.ndarray:
    """(256, 4) uint8 colours of a matplotlib colormap."""
    try:
        import matplotlib
    except ImportError:
        raise NetdrawError("drawing thumbnails needs matplotlib's colormaps (pip install matplotlib)") from None
    check_cmap(cmap)
    return np.rint(matplotlib.colormaps[cmap](np.linspace(0, 1, 256)) * 255).astype(np.uint8)


def colormap(cmap: str) -> np.ndarray:
    """(256, 4) uint8 RGBA colours of a matplotlib colormap."""
    return _lut(cmap)


def check_cmap(cmap: str) -> None:
    """Raise a one-line error unless ``cmap`` names a matplotlib colormap (checked lazily: only
    when matplotlib is installed)."""
    try:
        import matplotlib
    except ImportError:
        return
    if cmap not in matplotlib.colormaps:
        raise NetdrawError(f"unknown colormap {cmap!r}; e.g. viridis, magma, cividis, inferno, gray")


def _factor(h: int, w: int, minimum: int) -> int:
    return max(1, math.ceil(minimum / max(1, min(h, w)))) if max(h, w) < minimum * 2 else 1


def image(record: dict[str, Any], *, cmap: str = CMAP, first: bool = False) -> np.ndarray:
    """The thumbnail of a record as an (H, W, 4) uint8 RGBA array (``first``: only its strongest map)."""
    maps = decode(record)  # (count, h, w) uint8
    colors = int(record.get("colors", 1)) if record.get("layout") == "projection" else 1
    if first:
        maps = maps[:colors]
    layout = record.get("layout")
    if layout == "rgb":
        rgb = np.moveaxis(maps[:3], 0, -1)
        alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
        return _enlarge(np.concatenate([rgb, alpha], axis=2), MIN_TILE)
    lut = _lut(cmap)
    if layout == "strip":
        row = lut[maps[0, 0]]  # (n, 4)
        row = np.repeat(row, _strip_factor(row.shape[0]), axis=0)  # a 10-class output stays readable
        return np.repeat(row[None], STRIP_HEIGHT, axis=0)
    if layout == "matrix":
        return _enlarge(lut[maps[0]], MIN_TILE)
    n, h, w = maps.shape
    count = n // colors
    f, rows, cols = grid(count, h, w)
    th, tw = h * f, w * f
    out = np.zeros((rows * th + rows - 1, cols * tw + cols - 1, 4), np.uint8)
    for i in range(count):
        r, c = divmod(i, cols)
        if layout == "projection":  # deconvnet projections: grey is zero, in the input's own colours
            px = np.moveaxis(maps[i * colors:(i + 1) * colors], 0, -1)
            px = np.repeat(px, 3, axis=2) if colors == 1 else px[:, :, :3]
            tile = np.concatenate([px, np.full((h, w, 1), 255, np.uint8)], axis=2)
        else:
            tile = lut[maps[i]]
        if f > 1:
            tile = tile.repeat(f, axis=0).repeat(f, axis=1)
        out[r * (th + 1): r * (th + 1) + th, c * (tw + 1): c * (tw + 1) + tw] = tile
    return out


def grid(count: int, h: int, w: int) -> tuple[int, int, int]:
    """How ``count`` tiles of h×w are laid out: (enlargement factor, rows, columns), near square,
    and with no empty cell when rows × columns can be exactly ``count`` at most 2:1 (8 maps: 2 × 4,
    not 3 × 3 with a blank ninth)."""
    for rows in range(math.isqrt(count), 0, -1):
        if count % rows == 0 and count // rows <= 2 * rows:
            return _factor(h, w, MIN_TILE), rows, count // rows
    cols = math.ceil(math.sqrt(count))
    return _factor(h, w, MIN_TILE), math.ceil(count / cols), cols


def _strip_factor(n: int) -> int:
    """Each bin of a short strip is drawn this many pixels wide (at least 48 in all)."""
    return max(1, math.ceil(48 / max(1, n)))


def _enlarge(a: np.ndarray, minimum: int) -> np.ndarray:
    f = _factor(a.shape[0], a.shape[1], minimum)
    return a.repeat(f, axis=0).repeat(f, axis=1) if f > 1 else a


def png(record: dict[str, Any], *, cmap: str = CMAP, first: bool = False) -> bytes:
    """The thumbnail as PNG bytes (deterministic: no timestamps)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image(record, cmap=cmap, first=first), "RGBA").save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def data_uri(record: dict[str, Any], *, cmap: str = CMAP) -> str:
    return "data:image/png;base64," + base64.b64encode(png(record, cmap=cmap)).decode("ascii")


def display_size(record: dict[str, Any]) -> tuple[float, float]:
    """(width, height) in points at which a diagram shows the thumbnail (one pixel per point)."""
    maps_shape = _shape(record)
    return float(maps_shape[1]), float(maps_shape[0])


def _shape(record: dict[str, Any]) -> tuple[int, int]:
    h, w = record["tile"]
    count = len(record["scale"]) if "scale" in record else max(1, len(record.get("channels") or [1]))
    layout = record.get("layout")
    if layout == "strip":
        return STRIP_HEIGHT, w * _strip_factor(w)
    if layout in ("matrix", "rgb"):
        f = _factor(h, w, MIN_TILE)
        return h * f, w * f
    f, rows, cols = grid(count, h, w)
    return rows * h * f + rows - 1, cols * w * f + cols - 1


_NODE = re.compile(rb'<g id="[^"]*" class="node">\s*<title>([^<]*)</title>(.*?)</g>', re.S)
_NUM = re.compile(rb"-?\d+(?:\.\d+)?")


def embed_svg(svg: bytes, thumbs: dict[str, dict[str, Any]], *, cmap: str = CMAP) -> bytes:
    """Put each thumbnail into its node of a Graphviz SVG: ``thumbs`` maps the node's DOT ID (as
    written in the SVG's ``<title>``) to its record.  The node was drawn with room at its bottom
    (see :mod:`netdraw.renderers.dot`); the image is a PNG data URI, so the SVG stays one file."""
    def put(m: re.Match[bytes]) -> bytes:
        key = m.group(1).decode("utf-8").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        rec = thumbs.get(key)
        if rec is None:
            return m.group(0)
        shape = re.search(rb'<(?:path|polygon)[^>]*?(?: d| points)="([^"]*)"', m.group(2))
        if shape is None:
            return m.group(0)
        nums = [float(x) for x in _NUM.findall(shape.group(1))]
        xs, ys = nums[0::2], nums[1::2]
        cx, bottom = (min(xs) + max(xs)) / 2, max(ys)
        w, h = display_size(rec)
        tag = (f'<image x="{cx - w / 2:.2f}" y="{bottom - PAD - h:.2f}" width="{w:.2f}" height="{h:.2f}" '
               f'preserveAspectRatio="none" style="image-rendering:pixelated" '
               f'xlink:href="{data_uri(rec, cmap=cmap)}"/>\n').encode("ascii")
        # Graphviz sets a top label against the border: its lines move down a little
        body = re.sub(rb'(<text[^>]*? y=")(-?[\d.]+)(")',
                      lambda t: t.group(1) + f"{float(t.group(2)) + TEXT_DROP:.2f}".encode() + t.group(3), m.group(0))
        return body[: -len(b"</g>")] + tag + b"</g>"

    return _NODE.sub(put, svg)
