"""What the package does, composed: a graph prepared and fitted to the page, drawn by a back end,
written atomically; options checked against a fixed set.  ``netdraw`` re-exports the public names.

Layers (imports point down only; ``import-linter`` checks it in CI, see pyproject.toml and
docs/architecture.md): ``cli``, ``sphinx``, ``mkdocs`` > ``cache`` > ``api`` > ``renderers``,
``exporters`` > ``analysis`` > ``passes`` > ``frontends`` > ``capture`` > ``_io``, ``progress``,
``options`` > ``ir``, ``ops``, ``records``, ``errors``, ``version``.
"""

from __future__ import annotations

import itertools
import sys
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from netdraw._io import write_atomic, write_with_files
from netdraw.errors import NetdrawError, check_choice
from netdraw.frontends import find
from netdraw.frontends.images import ImagePrep, is_image, parse_floats, parse_size
from netdraw.frontends import load as load_source
from netdraw.ir import Graph
from netdraw.options import (DEFAULT_LAYOUT_TIMEOUT, DEFAULT_MAX_WIDTH, ENGINES, FORMATS, LATEX, RANKDIRS, RENDER,
                             RENDERERS, STYLES, THEME_NAMES)
from netdraw.progress import step
from netdraw.passes.pipeline import PREPARE_OPTIONS, parse_depth
from netdraw.passes.pipeline import candidates
from netdraw.passes.pipeline import prepare as _prepare
from netdraw.renderers.latex import compile_pdf
from netdraw.renderers.layout import draw_soon, layout_json_soon
from netdraw.renderers.tikz import auto_style, to_tikz_files
from netdraw.renderers import engine as _engine
from netdraw.renderers.dot import DEFAULT_LABEL, parse_label, thumbnail_ids, to_dot
from netdraw.renderers.thumbs import embed_svg
from netdraw.renderers.mermaid import to_mermaid
from netdraw.renderers.notebook import inline_svg
from netdraw.renderers.dot import scene_legend
from netdraw.renderers.overlay import add_colorbar, add_diff_legend
from netdraw.renderers.scene import build_scene
from netdraw.renderers.theme import THEMES
from netdraw.renderers.html import page_data, to_html
from netdraw.renderers.summary import add_desc
from netdraw.renderers.summary import describe as _describe
from netdraw.passes.explore import explore

__all__ = ["load", "trace", "load_options", "image_prep", "FORMATS", "RENDERERS", "OPTIONS", "DEFAULT_MAX_WIDTH",
           "DEFAULT_LAYOUT_TIMEOUT", "render",
           "render_bytes", "render_files", "format_for", "parse_depth", "prepare", "check_options", "choose_level",
           "json_width", "draw", "repr_svg", "repr_html", "html_page", "describe", "diff", "diff_bytes",
           "diff_expand", "svg_size", "write_atomic", "write_with_files", "images_folder"]


_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid",
             ".mermaid": "mermaid", ".tex": "tex", ".json": "json", ".html": "html", ".htm": "html",
             ".drawio": "drawio", ".pptx": "pptx"}


#: every option ``render`` takes, with its default (see :func:`netdraw.passes.pipeline.prepare`
#: for the ones that shape the graph)
OPTIONS: dict[str, Any] = {
    "format": None,
    **PREPARE_OPTIONS,
    **{o.name: o.default for o in RENDER if o.name not in PREPARE_OPTIONS},  # declared in netdraw.options
    "label": DEFAULT_LABEL,
    "renderer": "graphviz",  # the CLI's default depends on the suffix (tikz for .tex)
    "thumbnails": True,
    "cmap": "viridis",
}


def load(source: str | os.PathLike[str], *, thumbnails: Any = None, measure: int | None = None,
         **options: Any) -> Graph:
    """Load a model (:func:`netdraw.frontends.load`, whose options it takes) and, with
    ``thumbnails`` (True or options, see :class:`~netdraw.analysis.reduce.ThumbnailOptions`), run it
    for real on ``inputs`` and keep a thumbnail record of every activation: a PyTorch source
    through the capture's hooks, an ONNX file in onnxruntime (see :mod:`netdraw.analysis.activations`).

    ``measure`` (a number of runs): time the model on ``inputs`` (PyTorch: per module, with memory;
    ONNX: per op in onnxruntime) and keep each op's latency and memory for ``color_by``
    (:mod:`netdraw.analysis.cost`)."""
    if measure is not None:
        if thumbnails:
            raise NetdrawError("measuring cost and recording thumbnails are separate runs; ask for one at a time")
        return _measured(source, measure, options)
    fe = find(source)
    if fe.name == "onnx":
        inputs, image = options.pop("inputs", ()), options.pop("image", None)
        if inputs and not thumbnails:
            raise NetdrawError("inputs for an ONNX model are used only with thumbnails (its shapes are in the file)")
        graph = load_source(source, **options)
        if not thumbnails:
            return graph
        from netdraw.analysis.activations import onnx_thumbnails

        return onnx_thumbnails(source, graph, list(inputs), image, thumbnails)
    if not thumbnails:
        return load_source(source, **options)
    if fe.name != "pytorch":
        raise NetdrawError(f"{source}: thumbnails need a run of the model: a PyTorch model or an ONNX file")
    from netdraw.analysis.activations import trace_activations
    from netdraw.frontends.pytorch_source import load_model

    mode, device = options.pop("mode", "auto"), options.get("device", "cpu")
    if options.pop("capture", "eager") != "eager":
        raise NetdrawError("thumbnails need an eager run of the model; --capture export cannot give them")
    if mode in ("meta", "fake"):
        raise NetdrawError(f"thumbnails run the model for real; --mode {mode} cannot give them")
    if device == "meta":
        raise NetdrawError("thumbnails need the model's real weights; --device meta builds it without them")
    options.pop("locations", None)
    model, args, kwargs = load_model(str(source), **options)
    graph = trace_activations(model, args, kwargs, thumbnails)
    graph.meta["source"]["path"] = str(source)
    return graph


def _measured(source: str | os.PathLike[str], repeat: int, options: dict[str, Any]) -> Graph:
    from netdraw.analysis.cost import measure_onnx, measure_torch

    fe = find(source)
    if fe.name == "onnx":
        options.pop("inputs", None)
        options.pop("image", None)
        graph = load_source(source, **options)
        measure_onnx(source, graph, repeat=repeat)
        return graph
    if fe.name != "pytorch":
        raise NetdrawError(f"{source}: measuring latency or memory needs a run: a PyTorch model or an ONNX file")
    from netdraw.frontends.pytorch_source import load_traced

    if options.get("device") == "meta" or options.get("mode") in ("meta", "fake"):
        raise NetdrawError("measuring latency or memory runs the model for real; --device meta and --mode "
                           "meta/fake cannot")
    options.setdefault("mode", "real")
    graph, model, args, kwargs = load_traced(str(source), **options)
    measure_torch(model, args, kwargs, graph, repeat=repeat)
    return graph


def trace(model: Any, args: Any = (), kwargs: dict[str, Any] | None = None, *, thumbnails: Any = None,
          **options: Any) -> Graph:
    """Capture ``model(*args, **kwargs)`` (:func:`netdraw.frontends.pytorch.trace`, whose options
    it takes); with ``thumbnails`` (True or options) the model runs for real once and every
    activation keeps a thumbnail record in ``Value.meta["activation"]``."""
    if thumbnails is None or thumbnails is False:
        from netdraw.frontends.pytorch import trace as capture

        return capture(model, args, kwargs, **options)
    from netdraw.analysis.activations import trace_activations

    if options.get("capture", "eager") != "eager" or options.get("mode", "auto") not in ("auto", "real"):
        raise NetdrawError("thumbnails need a real eager run of the model (capture='eager', mode='real')")
    if not isinstance(args, tuple):
        args = (args,)
    return trace_activations(model, args, kwargs, thumbnails, train=options.get("train", False))


def image_prep(image_size: str | None = None, resize: str = "crop", mean: str | None = None,
               std: str | None = None, pixel_range: str = "1", bgr: bool = False, nhwc: bool = False,
               grayscale: bool = False, **_: Any) -> ImagePrep:
    """The :class:`~netdraw.frontends.images.ImagePrep` of the CLI's image options, as words
    (``--image-size 224``, ``--mean 0.5``...; other options are ignored)."""
    kw: dict[str, Any] = dict(size=parse_size(image_size) if image_size else None, resize=resize,
                              pixel_range=int(pixel_range), bgr=bgr, nhwc=nhwc, grayscale=grayscale)
    if mean is not None:
        kw["mean"] = parse_floats("mean", mean)
    if std is not None:
        kw["std"] = parse_floats("std", std)
    return ImagePrep(**kw)


def load_options(inputs: tuple[str, ...], kwargs: tuple[str, ...], capture: str | None, mode: str | None,
                 device: str | None, trust: bool, thumbnails: dict[str, Any] | None = None, locations: bool = False,
                 phase: str | None = None, stages: tuple[str, ...] = (), head: str | None = None,
                 **img: Any) -> dict[str, Any]:
    """:func:`load`'s keyword options from the CLI's source options as words (``--input``,
    ``--kwarg NAME=SPEC``, ``--capture``...), shared by the CLI, the Sphinx directive and the
    MkDocs hook."""
    options: dict[str, Any] = {}
    prep = image_prep(**img)
    if inputs:
        options["inputs"] = list(inputs)
        if any(is_image(x) for x in inputs) or prep != ImagePrep():
            options["image"] = prep
    if thumbnails is not None:
        options["thumbnails"] = thumbnails
    if locations:
        options["locations"] = True
    if kwargs:
        pairs = {}
        for item in kwargs:
            name, sep, spec = item.partition("=")
            if not sep or not name.isidentifier():
                raise NetdrawError(f"invalid --kwarg {item!r}; expected NAME=SPEC such as input_ids=1x16:int64")
            pairs[name] = spec
        options["kwargs"] = pairs
    for key, val in (("capture", capture), ("mode", mode), ("device", device)):
        if val is not None:
            options[key] = val
    if trust:
        options["trust"] = True
    if phase is not None:
        options["phase"] = phase
    if head is not None:
        options["head"] = head
    if stages:
        options["stages"] = list(stages)
    return options


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


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """Every option of :func:`render` checked (a one-line error listing the choices), with defaults."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise NetdrawError(f"unknown option {unknown[0]!r}; valid: {', '.join(OPTIONS)}")
    opts = {**OPTIONS, **options}
    check_choice("engine", opts["engine"], ENGINES)
    check_choice("rankdir", opts["rankdir"], RANKDIRS)
    check_choice("theme", opts["theme"], THEME_NAMES)
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
    if opts["fit"] is not None:
        parse_fit(opts["fit"])
    return opts


_UNITS = {"in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "pt": 1.0, "": 72.0}
#: the smallest text --fit allows, in points at the printed size
MIN_TEXT = 6.0
#: the height --fit allows when only a width is given: a page's text block, in points
FIT_HEIGHT = 9 * 72.0


def parse_fit(text: Any) -> tuple[float, float]:
    """``--fit``'s size as (width, height) in points: ``3.3in``, ``6.9in``, ``17cm``,
    ``6.9x4in`` or ``6.9inx4in`` (inches when no unit; height 9 in when not given)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(in|cm|mm|pt)?\s*(?:[x×]\s*(\d+(?:\.\d+)?)\s*(in|cm|mm|pt)?)?\s*",
                     str(text))
    if m is None or float(m.group(1)) <= 0 or (m.group(3) is not None and float(m.group(3)) <= 0):
        raise NetdrawError(f"invalid fit {text!r}; valid: a width such as 3.3in, 6.9in or 17cm, or WIDTHxHEIGHT "
                           "such as 6.9x4in")
    unit_w = m.group(2) or (m.group(4) if m.group(3) is not None else None) or ""
    width = float(m.group(1)) * _UNITS[unit_w]
    height = float(m.group(3)) * _UNITS[m.group(4) or unit_w] if m.group(3) is not None else FIT_HEIGHT
    return width, height


def prepare(graph: Graph, **options: Any) -> Graph:
    """The graph as :func:`render` draws it with these options: the passes of
    :func:`netdraw.passes.pipeline.candidates`, and with ``depth="auto"`` the level that fits
    ``max_width`` (which lays the candidates out to measure them)."""
    return _fit(graph, check_options(options))[0]


def render_bytes(graph: Graph, fmt: str, **options: Any) -> bytes:
    """The bytes of ``graph`` rendered in ``fmt`` (svg, png, pdf, dot, mermaid, tex or json).

    ``tex``, and ``pdf`` with ``renderer="tikz"``, go through the TikZ renderer
    (:mod:`netdraw.renderers.tikz`; ``style``, ``preamble``, and ``latex`` to compile the PDF).  A
    ``tex`` figure's thumbnails are image files: :func:`render` and :func:`render_files` write them."""
    return render_files(graph, fmt, images=None, **options)[0]


def render_files(graph: Graph, fmt: str, *, images: str | None = "thumbs",
                 **options: Any) -> tuple[bytes, dict[str, bytes]]:
    """As :func:`render_bytes`, and the files a ``tex`` figure includes (its thumbnails, as
    ``{images/001.png: bytes}``; empty for every other format, which embed them)."""
    check_choice("format", fmt, FORMATS)
    opts = check_options(options)
    if opts["fit"] is not None and fmt not in ("svg", "png", "pdf", "tex"):
        raise NetdrawError(f"--fit sizes a printed figure (svg, png, pdf or tex), not {fmt}")
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
        return compile_pdf(source_tex, program=opts["latex"], files=files)[0], {}
    if fmt == "html":
        return html_page(graph, **options).encode("utf-8"), {}
    if fmt in ("drawio", "pptx"):
        return _editable(graph, fmt, opts), {}
    if opts["fit"] is not None and fmt in ("svg", "png", "pdf"):
        fitted, fitted_svg, _ = fit_column(graph, opts)
        done = _finish_svg(graph, fitted, fitted_svg, opts)
        return (done if fmt == "svg" else _engine.convert_svg(done, fmt)), {}
    drawn, svg = _fit(graph, opts)
    if fmt == "mermaid":
        return to_mermaid(drawn, rankdir=opts["rankdir"], theme=opts["theme"],
                          label=opts["label"]).encode("utf-8"), {}
    if fmt == "dot":  # Graphviz's input, before netdraw moves any label
        return to_dot(drawn, rankdir=opts["rankdir"], theme=opts["theme"], label=opts["label"],
                      thumbnails=opts["thumbnails"]).encode("utf-8"), {}
    if svg is None:
        step(f"laying out {len(drawn.nodes):,} nodes")
        svg = _draw(drawn, opts).result()
    svg = _finish_svg(graph, drawn, svg, opts)
    # PNG and PDF are converted from the SVG: the layout that was measured, whatever the engine
    if fmt != "svg":
        step(f"converting to {fmt.upper()}")
    return (svg if fmt == "svg" else _engine.convert_svg(svg, fmt)), {}


def _editable(graph: Graph, fmt: str, opts: dict[str, Any]) -> bytes:
    """A draw.io file or a PowerPoint deck of the diagram :func:`render` draws (Graphviz's layout)."""
    import sys

    from netdraw.renderers.drawio import to_drawio
    from netdraw.renderers.layout import layout_json, place
    from netdraw.renderers.slides import to_pptx

    def placed(drawn: Graph) -> tuple[Any, Any]:
        laid = layout_json(drawn, theme=opts["theme"], label=opts["label"], rankdir=opts["rankdir"],
                           engine=opts["engine"], thumbnails=opts["thumbnails"], timeout=opts["layout_timeout"])
        scene = build_scene(drawn, label=opts["label"], thumbnails=opts["thumbnails"])
        return scene, place(scene, laid)

    drawn = _fit(graph, opts)[0]
    theme = THEMES[opts["theme"]]
    if fmt == "drawio":
        scene, where = placed(drawn)
        return to_drawio(scene, where, theme, cmap=opts["cmap"]).encode("utf-8")
    pages = [placed(drawn)]
    if opts["slides"] == "modules":  # a slide for each top-level module of two or more ops
        from netdraw.passes.collapse import is_hidden

        count: dict[str, int] = {}
        for n in graph.nodes:
            if n.scope and not is_hidden(n):
                count[n.scope[0]] = count.get(n.scope[0], 0) + 1
        tops = [t for t in dict.fromkeys(n.scope[0] for n in graph.nodes if n.scope) if count.get(t, 0) > 1]
        pages = [placed(_prepare(graph, **{**{k: opts[k] for k in PREPARE_OPTIONS}, "keep": [top]}))
                 for top in tops] or pages
    data, notices = to_pptx(pages, theme, cmap=opts["cmap"])
    for notice in notices:
        sys.stderr.write(f"netdraw: notice: {notice}\n")
    return data


def _finish_svg(graph: Graph, drawn: Graph, svg: bytes, opts: dict[str, Any]) -> bytes:
    """The laid-out SVG with its thumbnails (as data URIs), its colour bar (``color_by``) and the
    model's one-line description."""
    thumbs = thumbnail_ids(drawn, thumbnails=opts["thumbnails"])
    if thumbs:
        svg = embed_svg(svg, thumbs, cmap=opts["cmap"])
    t = THEMES[opts["theme"]]
    if drawn.meta.get("overlay"):
        svg = add_colorbar(svg, scene_legend(build_scene(drawn, label=opts["label"])), text=t.text,
                           background=t.background)
    if drawn.meta.get("diff"):
        d = drawn.meta["diff"]
        svg = add_diff_legend(svg, f"{d['a']} → {d['b']}", text=t.text, background=t.background)
    return add_desc(svg, describe(graph))


def describe(graph: Graph) -> str:
    """The model in one sentence (``netdraw inspect --describe``; alt text of every SVG and page)."""
    return _describe(graph)


def html_page(graph: Graph, *, fragment: bool = False, runtime: str | None = None, view_id: str = "netdraw-view",
              **options: Any) -> str:
    """The interactive view of ``graph`` (:mod:`netdraw.renderers.html`): a self-contained page,
    or with ``fragment`` a ``<div>`` to put in another page (``runtime``: the URL of the runtime
    file written once beside docs pages, :func:`netdraw.renderers.html.runtime_js`).  It opens on
    the diagram :func:`render` draws with the same options."""
    options.pop("format", None)
    opts = check_options(options)
    drawn, svg = _fit(graph, opts)
    step("writing the interactive view")
    x = explore(graph, **{k: opts[k] for k in PREPARE_OPTIONS})
    summary = describe(graph)
    data = page_data(x, drawn, theme=opts["theme"], rankdir=opts["rankdir"], label=opts["label"],
                     thumbnails=opts["thumbnails"], cmap=opts["cmap"], summary=summary,
                     source=graph.meta.get("source", {}).get("path"))
    if svg is None:
        svg = _draw(drawn, opts).result()
    static = inline_svg(_finish_svg(graph, drawn, svg, opts))
    return to_html(data, static_svg=static, runtime=runtime, fragment=fragment, view_id=view_id)


def diff(a: Graph, b: Graph) -> Any:
    """Compare two graphs (:func:`netdraw.passes.diff.diff`): what was added, removed and changed,
    as data (``.to_json()``, ``.equal``) and as a diff graph (``.graph``) for :func:`diff_bytes`."""
    from netdraw.passes.diff import diff as compare

    return compare(a, b)


def diff_expand(d: Any) -> list[str]:
    """The modules a diff figure opens: those holding both changed and unchanged parts (a module
    wholly added, removed or unchanged stays one box)."""
    from netdraw.passes.collapse import is_hidden

    states: dict[tuple[str, ...], set[str]] = {}
    ops: dict[tuple[str, ...], int] = {}
    for n in d.graph.nodes:
        state = n.meta.get("diff")
        if state is None or is_hidden(n):
            continue
        for k in range(1, len(n.scope) + 1):
            states.setdefault(n.scope[:k], set()).add(state)
            ops[n.scope[:k]] = ops.get(n.scope[:k], 0) + 1
    keys = ["/".join(s) for s, st in states.items() if (len(st) > 1 or st == {"changed"}) and ops[s] > 1]
    # a block rolled away (layer1.1–2 drawn as layer1.1 ×2) cannot be opened by its own name
    from netdraw.passes.fold import fold as fold_pass
    from netdraw.passes.roll import roll as roll_pass

    g = d.graph.copy()
    fold_pass(g, None)
    gone = [m for e in roll_pass(g) for m in e["modules"][1:]]
    return [k for k in keys if not any(k == m or k.startswith(m + "/") for m in gone)]


def diff_bytes(d: Any, fmt: str, **options: Any) -> bytes:
    """A diff (:func:`diff`) drawn in ``fmt`` (every format; ``json``: the diff as data), opening
    only the modules around changes."""
    import json as _json

    if fmt == "json":
        return (_json.dumps(d.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    options.setdefault("depth", 1)
    options["expand"] = list(options.get("expand") or ()) + diff_expand(d)
    return render_files(d.graph, fmt, images=None, **options)[0]


def repr_html(graph: Graph) -> str:
    """The interactive view for Jupyter: the static SVG first, replaced by the view where the
    notebook runs scripts (GitHub's notebook view strips them and keeps the SVG)."""
    return html_page(graph, fragment=True, view_id=f"netdraw-{_next_view()}")


_views = itertools.count(1)


def _next_view() -> int:
    return next(_views)


def _tikz(graph: Graph, opts: dict[str, Any], standalone: bool, images: str | None) -> tuple[str, dict[str, bytes]]:
    """TikZ source and its image files: the boxes style draws every block of the op-level graph
    (folded, not rolled, unless a depth or roll was asked for); the graph style draws what the SVG
    would."""
    style = opts["style"]
    levels = candidates(graph, **{k: opts[k] for k in PREPARE_OPTIONS})
    first = next(levels)
    if style == "auto":
        style = "graph" if opts["color_by"] else auto_style(first)  # the graph style draws the colour bar
    images = images if opts["thumbnails"] else None
    common = dict(theme=opts["theme"], label=opts["label"], rankdir=opts["rankdir"], preamble=standalone,
                  engine=opts["engine"], images=images, cmap=opts["cmap"], layout_timeout=opts["layout_timeout"])
    if style == "boxes":
        prep = {k: opts[k] for k in PREPARE_OPTIONS}
        if prep["depth"] == "auto":
            prep.update(depth="max", roll=False)
        width = parse_fit(opts["fit"])[0] / 72 * 2.54 if opts["fit"] is not None else None
        notices: list[str] = []
        out = to_tikz_files(_prepare(graph, **prep), style="boxes", width=width, notices=notices, **common)
        for notice in notices:
            sys.stderr.write(f"netdraw: notice: fit {opts['fit']}: {notice}\n")
        return out
    if opts["fit"] is not None:  # the layout --fit chooses, its text 2 pt smaller than the SVG's
        drawn, _, chosen = fit_column(graph, opts, smaller=2.0)
        laid = layout_json_soon(drawn, theme=opts["theme"], label=chosen["label"], rankdir=chosen["rankdir"],
                                engine=opts["engine"], thumbnails=images is not None, timeout=opts["layout_timeout"],
                                rows=chosen["rows"]).result()
        common.update(label=chosen["label"], rankdir=chosen["rankdir"])
        return to_tikz_files(drawn, style="graph", layout=laid, scale=chosen["scale"], **common)
    # the graph style: the same level as the SVG would show, measured on the layout it then uses
    drawn, laid = choose_level(itertools.chain([first], levels), opts, json_width(opts, images is not None))
    return to_tikz_files(drawn, style="graph", layout=laid, **common)


def json_width(opts: dict[str, Any], thumbnails: bool):
    """A measure for :func:`choose_level`: Graphviz's json layout and its width in inches."""
    def measure(drawn: Graph) -> _engine.Job:
        job = layout_json_soon(drawn, theme=opts["theme"], label=opts["label"], rankdir=opts["rankdir"],
                               engine=opts["engine"], thumbnails=thumbnails, timeout=opts["layout_timeout"])
        return job.then(lambda laid: (float(laid["bb"].split(",")[2]) / 72, laid))
    return measure


def choose_level(levels: Iterator[Graph], opts: dict[str, Any], measure: Callable[[Graph], _engine.Job]
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


def _draw(drawn: Graph, opts: dict[str, Any]) -> _engine.Job:
    """The SVG of a prepared graph, started: Graphviz's layout with its labels clear of the edges."""
    return draw_soon(drawn, theme=opts["theme"], label=opts["label"], rankdir=opts["rankdir"], engine=opts["engine"],
                     thumbnails=opts["thumbnails"], timeout=opts["layout_timeout"])


def _smallest_text(svg: bytes) -> float:
    sizes = [float(x) for x in re.findall(rb'font-size="([\d.]+)"', svg)]
    return min(sizes, default=10.0)


def fit_column(graph: Graph, opts: dict[str, Any], smaller: float = 0.0) -> tuple[Graph, bytes, dict[str, Any]]:
    """The diagram fitted to ``opts["fit"]`` (:func:`parse_fit`): the first of these whose every
    text is at least :data:`MIN_TEXT` points once scaled to the size, trying each step in turn
    and keeping what the earlier ones chose: the flow's direction (as asked, then the other of
    TB/LR); the flow wrapped into 2-6 rows (a snake; columns top to bottom); labels without
    shapes and parameter counts; each shallower depth.  The SVG is given the fitted size (its
    drawing scaled); what was chosen is said on stderr.  When nothing reaches 6 pt, the one with
    the largest text is drawn and the notice says so.  Returns the graph, the SVG and the choice
    (``rankdir``, ``rows``, ``label``, ``scale``).  ``smaller``: points a renderer's text is
    smaller than the SVG's (the TikZ flowchart's: 2), so its text is what must reach 6 pt."""
    import sys

    width, height = parse_fit(opts["fit"])
    prep = {k: opts[k] for k in PREPARE_OPTIONS}
    if prep["depth"] == "auto" or prep["depth"] in ("max", "leaves", None):
        levels = list(itertools.islice(candidates(graph, **prep), 6))
    else:
        d = int(prep["depth"])
        levels = [_prepare(graph, **{**prep, "depth": k}) for k in range(d, 0, -1)]
    made: dict[tuple, tuple[float, float, bytes, float]] = {}  # text, scale, svg, printed area

    def attempt(level: int, rankdir: str, rows: int, label: Sequence[str]) -> float:
        key = (level, rankdir, rows, tuple(label))
        if key not in made:
            step(f"fitting: {rankdir}, {rows} row(s), depth level {level + 1}")
            svg = draw_soon(levels[level], theme=opts["theme"], label=label, rankdir=rankdir, engine=opts["engine"],
                            thumbnails=opts["thumbnails"], timeout=opts["layout_timeout"], rows=rows).result()
            w, h = svg_size(svg)
            scale = min(1.0, width / w, height / h)
            made[key] = (scale * (_smallest_text(svg) - smaller), scale, svg, w * h * scale ** 2)
        return made[key][0]

    first = opts["rankdir"]
    other = {"TB": "LR", "LR": "TB", "BT": "LR", "RL": "TB"}[first]
    label = tuple(opts["label"])
    short = tuple(f for f in label if f not in ("shape", "params", "flops")) or ("name",)
    steps = [[(0, rd, 1, label) for rd in (first, other)],
             [(0, rd, rows, label) for rows in range(2, 7) for rd in (first, other)],
             [(0, rd, rows, short) for rows in range(1, 7) for rd in (first, other)]]
    steps += [[(k, rd, rows, short) for rows in range(1, 7) for rd in (first, other)] for k in range(1, len(levels))]
    best = steps[0][0]
    for group in steps:  # a step is taken only when the ones before it cannot fit
        fits = [key for key in group if attempt(*key) >= MIN_TEXT - 1e-6]
        for key in group:
            if made[key][0] > made[best][0]:
                best = key
        if fits:  # the smallest printed figure among those that fit
            best = min(fits, key=lambda k: made[k][3])
            break
    text, scale, svg, _ = made[best]
    level, rankdir, rows, lab = best
    w, h = svg_size(svg)
    svg = re.sub(rb'<svg width="[\d.]+pt" height="[\d.]+pt"',
                 f'<svg width="{w * scale:.2f}pt" height="{h * scale:.2f}pt"'.encode(), svg, count=1)
    depth = levels[level].meta.get("collapse", {}).get("depth")
    said = (f"fit {opts['fit']}: rankdir {rankdir}" + (f", {rows} rows" if rows > 1 else "")
            + (f", label {','.join(lab)}" if lab != label else "") + (f", depth {depth}" if level else "")
            + f": {w * scale / 72:.2f} × {h * scale / 72:.2f} in, smallest text {text:.1f} pt")
    if text < MIN_TEXT - 1e-6:
        said += f" (below {MIN_TEXT:g} pt: nothing tried fits; draw less with --keep, --hide or --depth)"
    sys.stderr.write(f"netdraw: notice: {said}\n")
    return levels[level], svg, {"rankdir": rankdir, "rows": rows, "label": lab, "scale": scale}


def _fit(graph: Graph, opts: dict[str, Any]) -> tuple[Graph, bytes | None]:
    """The graph to draw, and its SVG when it was laid out to measure it (see :func:`choose_level`)."""
    def measure(drawn: Graph) -> _engine.Job:
        step(f"laying out {len(drawn.nodes):,} nodes")
        return _draw(drawn, opts).then(lambda svg: (svg_size(svg)[0] / 72, svg))

    return choose_level(candidates(graph, **{k: opts[k] for k in PREPARE_OPTIONS}), opts, measure)


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


def draw(graph: Graph, ax: Any = None, **options: Any) -> Any:
    """Draw ``graph`` with :func:`render`'s options into a matplotlib ``ax`` (a new figure's axes
    when None) and return the axes; the level is chosen as for the SVG."""
    from netdraw.renderers.mpl import draw_placed

    opts = check_options(options)
    measure = json_width(opts, opts["thumbnails"])
    drawn, laid = choose_level(candidates(graph, **{k: opts[k] for k in PREPARE_OPTIONS}), opts, measure)
    if laid is None:
        laid = measure(drawn).result()[1]
    return draw_placed(drawn, laid, ax=ax, theme=opts["theme"], label=opts["label"], thumbnails=opts["thumbnails"],
                       cmap=opts["cmap"])


def repr_svg(graph: Graph) -> str:
    """The default diagram (automatic depth) as an SVG element scaled to fit a notebook's output cell."""
    return inline_svg(render_bytes(graph, "svg"))


# Jupyter shows a Graph inline (the IR itself imports nothing of netdraw's, so the hook is set here)
Graph._repr_svg_ = repr_svg  # type: ignore[attr-defined]
Graph._repr_html_ = repr_html  # type: ignore[attr-defined]
