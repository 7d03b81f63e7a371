"""Rendering entry points: options checked against a fixed set, files written atomically."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from netdraw._io import write_atomic, write_with_files
from netdraw.errors import NetdrawError, check_choice
from netdraw.ir import Graph
from netdraw.progress import step
from netdraw.passes.pipeline import PREPARE_OPTIONS, parse_depth
from netdraw.passes.pipeline import candidates
from netdraw.passes.pipeline import prepare as _prepare
from netdraw.render.latex import LATEX, compile_pdf
from netdraw.render.layout import layout_json_soon
from netdraw.render.tikz import STYLES, auto_style, to_tikz_files
from netdraw.render import engine as _engine
from netdraw.render.dot import DEFAULT_LABEL, RANKDIRS, parse_label, thumbnail_ids, to_dot
from netdraw.render.thumbs import embed_svg
from netdraw.render.mermaid import to_mermaid
from netdraw.render.notebook import repr_svg as _repr_svg
from netdraw.render.theme import THEMES

# Jupyter shows a Graph inline (the IR itself imports nothing of netdraw's, so the hook is set here)
Graph._repr_svg_ = _repr_svg  # type: ignore[attr-defined]

__all__ = ["FORMATS", "OPTIONS", "render", "render_bytes", "render_files", "format_for", "parse_depth", "prepare",
           "write_atomic", "write_with_files", "images_folder"]

FORMATS = ("svg", "png", "pdf", "dot", "mermaid", "tex", "json")
RENDERERS = ("graphviz", "tikz")

#: with ``depth="auto"``, the widest figure (inches at the theme's 10 pt) before a shallower level
#: is tried: scaled to the 6.3 in text width of an A4 page its labels stay at 7 pt or more
DEFAULT_MAX_WIDTH = 9.0
_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid",
             ".mermaid": "mermaid", ".tex": "tex", ".json": "json"}

#: seconds Graphviz may spend on one layout before the render stops with a one-line error
DEFAULT_LAYOUT_TIMEOUT = 20.0

#: every option ``render`` takes, with its default (see :func:`netdraw.passes.pipeline.prepare`
#: for the ones that shape the graph)
OPTIONS: dict[str, Any] = {
    "format": None,
    **PREPARE_OPTIONS,
    "engine": "auto",
    "layout_timeout": DEFAULT_LAYOUT_TIMEOUT,
    "rankdir": "TB",
    "theme": "paper",
    "label": DEFAULT_LABEL,
    "max_width": DEFAULT_MAX_WIDTH,
    "renderer": "graphviz",
    "style": "auto",
    "preamble": True,
    "latex": "pdflatex",
    "thumbnails": True,
    "cmap": "viridis",
}


def format_for(path: str | os.PathLike[str], fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else from the file suffix (``svg`` for stdout)."""
    if fmt is not None:
        check_choice("format", fmt, FORMATS)
        return fmt
    if str(path) == "-":
        return "svg"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise NetdrawError(f"cannot tell the format from {str(path)!r}; use --format "
                           f"({', '.join(FORMATS)}) or one of the suffixes {', '.join(_SUFFIXES)}")
    return _SUFFIXES[suffix]


def _options(options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise NetdrawError(f"unknown option {unknown[0]!r}; valid: {', '.join(OPTIONS)}")
    opts = {**OPTIONS, **options}
    check_choice("engine", opts["engine"], _engine.ENGINES)
    check_choice("rankdir", opts["rankdir"], RANKDIRS)
    check_choice("theme", opts["theme"], THEMES)
    opts["label"] = parse_label(opts["label"])
    check_choice("renderer", opts["renderer"], RENDERERS)
    check_choice("style", opts["style"], STYLES)
    check_choice("latex", opts["latex"], LATEX)
    if not isinstance(opts["thumbnails"], bool):
        raise NetdrawError(f"invalid thumbnails {opts['thumbnails']!r}; valid: True (draw the activation "
                           "thumbnails a graph carries) or False")
    lt = opts["layout_timeout"]
    if lt is not None and (isinstance(lt, bool) or not isinstance(lt, (int, float)) or not 0 < lt < 1e6):
        raise NetdrawError(f"invalid layout_timeout {lt!r}; valid: seconds > 0, or None for no limit")
    mw = opts["max_width"]
    if mw is not None and (isinstance(mw, bool) or not isinstance(mw, (int, float)) or mw <= 0):
        raise NetdrawError(f"invalid max_width {mw!r}; valid: a width in inches > 0, or None")
    return opts


def prepare(graph: Graph, **options: Any) -> Graph:
    """The graph as :func:`render` draws it with these options: the passes of
    :func:`netdraw.passes.pipeline.candidates`, and with ``depth="auto"`` the level that fits
    ``max_width`` (which lays the candidates out to measure them)."""
    return _fit(graph, _options(options))[0]


def render_bytes(graph: Graph, fmt: str, **options: Any) -> bytes:
    """The bytes of ``graph`` rendered in ``fmt`` (svg, png, pdf, dot, mermaid, tex or json).

    ``tex``, and ``pdf`` with ``renderer="tikz"``, go through the TikZ renderer
    (:mod:`netdraw.render.tikz`; ``style``, ``preamble``, and ``latex`` to compile the PDF).  A
    ``tex`` figure's thumbnails are image files: :func:`render` and :func:`render_files` write them."""
    return render_files(graph, fmt, images=None, **options)[0]


def render_files(graph: Graph, fmt: str, *, images: str | None = "thumbs",
                 **options: Any) -> tuple[bytes, dict[str, bytes]]:
    """As :func:`render_bytes`, and the files a ``tex`` figure includes (its thumbnails, as
    ``{images/001.png: bytes}``; empty for every other format, which embed them)."""
    check_choice("format", fmt, FORMATS)
    opts = _options(options)
    if fmt == "json":  # the IR itself, lossless, whatever the depth
        return graph.to_json().encode("utf-8"), {}
    if fmt == "tex" or opts["renderer"] == "tikz":
        if fmt not in ("tex", "pdf"):
            raise NetdrawError(f"the tikz renderer writes tex and pdf, not {fmt}")
        folder = "thumbs" if fmt == "pdf" else images
        source_tex, files = _tikz(graph, opts, standalone=opts["preamble"] or fmt == "pdf", images=folder)
        if fmt == "tex":
            return source_tex.encode("utf-8"), files
        step(f"compiling with {opts['latex']}")
        return compile_pdf(source_tex, opts["latex"], files=files)[0], {}
    drawn, source, svg = _fit(graph, opts)
    if fmt == "mermaid":
        return to_mermaid(drawn, rankdir=opts["rankdir"], theme=opts["theme"],
                          label=opts["label"]).encode("utf-8"), {}
    if fmt == "dot":
        return source.encode("utf-8"), {}
    if svg is None:
        step(f"laying out {len(drawn.nodes):,} nodes")
        svg = _engine.layout(source, "svg", opts["engine"], timeout=opts["layout_timeout"])
    thumbs = thumbnail_ids(drawn, opts["thumbnails"])
    if thumbs:  # the images go into the SVG as data URIs
        svg = embed_svg(svg, thumbs, opts["cmap"])
    # PNG and PDF are converted from the SVG: the layout that was measured, whatever the engine
    if fmt != "svg":
        step(f"converting to {fmt.upper()}")
    return (svg if fmt == "svg" else _engine.convert_svg(svg, fmt)), {}


def _tikz(graph: Graph, opts: dict[str, Any], standalone: bool, images: str | None) -> tuple[str, dict[str, bytes]]:
    """TikZ source and its image files: the boxes style draws every block of the op-level graph
    (folded, not rolled, unless a depth or roll was asked for); the graph style draws what the SVG
    would."""
    style = opts["style"]
    levels = candidates(graph, **{k: opts[k] for k in PREPARE_OPTIONS})
    first = next(levels)
    if style == "auto":
        style = auto_style(first)
    images = images if opts["thumbnails"] else None
    common = dict(theme=opts["theme"], label=opts["label"], rankdir=opts["rankdir"], preamble=standalone,
                  engine=opts["engine"], images=images, cmap=opts["cmap"], layout_timeout=opts["layout_timeout"])
    if style == "boxes":
        prep = {k: opts[k] for k in PREPARE_OPTIONS}
        if prep["depth"] == "auto":
            prep.update(depth="max", roll=False)
        return to_tikz_files(_prepare(graph, **prep), style="boxes", **common)
    # the graph style: the same level as the SVG would show, measured on the layout it then uses
    drawn, laid = _choose(itertools.chain([first], levels), opts, _json_width(opts, images is not None))
    return to_tikz_files(drawn, style="graph", layout=laid, **common)


def _json_width(opts: dict[str, Any], thumbnails: bool):
    """A measure for :func:`_choose`: Graphviz's json layout and its width in inches."""
    def measure(drawn: Graph) -> _engine.Job:
        job = layout_json_soon(drawn, theme=opts["theme"], label=opts["label"], rankdir=opts["rankdir"],
                               engine=opts["engine"], thumbnails=thumbnails, timeout=opts["layout_timeout"])
        return job.then(lambda laid: (float(laid["bb"].split(",")[2]) / 72, laid))
    return measure


def _choose(levels: Iterator[Graph], opts: dict[str, Any], measure: Callable[[Graph], _engine.Job]
            ) -> tuple[Graph, Any]:
    """The level to draw and what ``measure`` made of it (None when nothing was measured).

    With ``depth="auto"`` and a ``max_width``, levels are measured from the deepest within the node
    budget upwards until one is at most ``max_width`` inches wide; if none is, the narrowest.
    Otherwise the first (only) level, unmeasured.  ``measure(level)`` starts a layout job whose
    result is ``(width, what it made)``: two are kept going, and the next level is prepared while
    Graphviz works (jobs no longer needed are cancelled).
    """
    if opts["depth"] != "auto" or opts["max_width"] is None:
        return next(levels), None
    best: tuple[float, Graph, Any] | None = None
    running: list[tuple[Graph, _engine.Job]] = []
    levels = iter(levels)
    try:
        while True:
            drawn = next(levels, None)
            if drawn is not None:
                running.append((drawn, measure(drawn)))
                if len(running) < 2:
                    continue
            if not running:
                break
            first, job = running.pop(0)
            width, made = job.result()
            if width <= opts["max_width"]:
                return first, made
            if best is None or width < best[0]:
                best = (width, first, made)
    finally:
        for _, other in running:
            other.cancel()
    assert best is not None
    return best[1], best[2]


def _fit(graph: Graph, opts: dict[str, Any]) -> tuple[Graph, str, bytes | None]:
    """The graph to draw, its DOT source, and its SVG when it was laid out to measure it
    (see :func:`_choose`)."""
    def measure(drawn: Graph) -> _engine.Job:
        source = to_dot(drawn, rankdir=opts["rankdir"], theme=opts["theme"], label=opts["label"],
                        thumbnails=opts["thumbnails"])
        step(f"laying out {len(drawn.nodes):,} nodes")
        return _engine.layout_soon(source, "svg", opts["engine"], timeout=opts["layout_timeout"]).then(
            lambda svg: (svg_size(svg)[0] / 72, (source, svg)))

    drawn, made = _choose(candidates(graph, **{k: opts[k] for k in PREPARE_OPTIONS}), opts, measure)
    if made is None:
        return drawn, to_dot(drawn, rankdir=opts["rankdir"], theme=opts["theme"], label=opts["label"],
                             thumbnails=opts["thumbnails"]), None
    return drawn, made[0], made[1]


def svg_size(svg: bytes) -> tuple[float, float]:
    """(width, height) in points of an SVG that Graphviz wrote."""
    m = re.search(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if not m:
        raise NetdrawError("could not read the size of the laid-out SVG")
    return float(m.group(1)), float(m.group(2))


def render(graph: Graph, path: str | os.PathLike[str], **options: Any) -> Path | None:
    """Render ``graph`` to ``path`` (``-`` = stdout); the format comes from the suffix or ``format=``.
    A ``.tex`` figure with thumbnails gets its PNGs in the folder ``<name>-thumbs`` beside it."""
    fmt = format_for(path, options.pop("format", None))
    folder = None if str(path) == "-" else images_folder(path)
    data, files = render_files(graph, fmt, images=folder, **options)
    write_with_files(path, data, files)
    return None if str(path) == "-" else Path(path)


def images_folder(path: str | os.PathLike[str]) -> str:
    """The folder beside ``fig.tex`` that holds its thumbnails: ``fig-thumbs`` (characters LaTeX
    could take for markup in an ``\\includegraphics`` path become ``-``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", Path(path).stem) + "-thumbs"
