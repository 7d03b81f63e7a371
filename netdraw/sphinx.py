"""Sphinx extension: ``.. netdraw:: SOURCE`` draws a model at build time (SVG for HTML, PDF for LaTeX).

In ``conf.py``::

    extensions = ["netdraw.sphinx"]
    netdraw_fail_on_error = False        # True: a model that cannot be drawn fails the build
    netdraw_default_options = {}          # options every diagram gets, e.g. {"theme": "paper"}

In a page::

    .. netdraw:: mypkg.models:resnet18
       :input: 1x3x224x224
       :depth: 2
       :caption: ResNet-18, stages collapsed.
       :alt: ResNet-18 architecture

:format: html embeds the interactive view (open and close modules, search, details) in HTML
builders; its runtime (the viewer and the Graphviz WebAssembly, ~0.55 MB) is written once to
``_static/netdraw-view.js``.  Other builders get the figure as usual.

:renderer: tikz gives the LaTeX builder the TikZ figure (compiled with pdflatex, ``:style:`` boxes
or graph) and HTML builders the Graphviz SVG.

``SOURCE`` is anything ``netdraw render`` reads: ``package.module:factory``, ``file.py:factory``
(relative to the page, else to ``conf.py``), an ``.onnx`` or ``.json`` file.  Factories build their
model on the meta device (no weights: fast, little memory) and again on the CPU only if that
fails; ``:device: cpu`` asks for the CPU outright.  Files are kept in
``<doctrees>/netdraw/`` under a hash of the model's structure and the options
(:mod:`netdraw.cache`), so a rebuild draws only what changed; the page is re-read when the
model's source file changes.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from netdraw.errors import NetdrawError
from netdraw.options import DEVICES, MODES, RENDER, from_words, sphinx_spec

__all__ = ["NetdrawDirective", "setup"]

logger = logging.getLogger(__name__)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text or "") if w]


class NetdrawDirective(SphinxDirective):
    """``.. netdraw:: SOURCE`` with render options (see the module docstring)."""

    required_arguments = 1
    has_content = False
    option_spec = {
        "input": directives.unchanged,       # space-separated specs: 1x3x224x224 1x16:int64
        "kwarg": directives.unchanged,       # space-separated NAME=SPEC
        # the render options (depth, max-nodes, fold, no-roll, hide, ...), declared in netdraw.options:
        # lists separated by spaces or commas, fold rules by ';'
        **sphinx_spec(directives),
        "format": lambda a: directives.choice(a, ("svg", "png", "html")),
        "mode": lambda a: directives.choice(a, MODES),
        "device": lambda a: directives.choice(a, DEVICES),
        "caption": directives.unchanged,
        "alt": directives.unchanged,
        "width": directives.length_or_percentage_or_unitless,
    }

    def run(self) -> list[nodes.Node]:
        source = self.arguments[0]
        try:
            if self.options.get("format") == "html" and _STATE["format"] == "html":
                return [nodes.raw("", self._interactive(source), format="html")]
            path = self._render(source)
        except Exception as exc:  # any failure, the model's own code included: one line, named
            reason = " ".join(str(exc).split()) or type(exc).__name__
            if not isinstance(exc, NetdrawError):
                reason = f"{type(exc).__name__}: {reason}"
            message = f"netdraw: cannot draw {source}: {reason}"
            if self.config.netdraw_fail_on_error:
                raise ExtensionError(message) from None
            logger.warning(message, location=self.get_location())
            return [nodes.warning("", nodes.paragraph(text=message))]
        here = Path(self.env.doc2path(self.env.docname)).parent
        uri = os.path.relpath(path, here).replace(os.sep, "/")
        image = nodes.image(uri=uri, alt=self.options.get("alt") or f"diagram of {source}")
        if "width" in self.options:
            image["width"] = self.options["width"]
        if not self.options.get("caption"):
            return [image]
        figure = nodes.figure("", image)
        figure += nodes.caption("", self.options["caption"])
        return [figure]

    def _source(self, source: str) -> str:
        """Resolve a ``file.py:factory`` or model file path against the page, then ``conf.py``;
        note the file as a dependency of the page so that editing the model re-reads it."""
        spec, sep, attr = source.partition(":")
        file_like = spec.endswith((".py", ".onnx", ".json", ".pt", ".pt2"))
        if file_like:
            page = Path(self.env.doc2path(self.env.docname)).parent
            for base in (page, Path(_STATE["confdir"])):
                candidate = (base / spec).resolve()
                if candidate.exists():
                    self.env.note_dependency(str(candidate))
                    return str(candidate) + sep + attr
            return source
        found = importlib.util.find_spec(spec.split(".")[0]) and _module_file(spec)
        if found:
            self.env.note_dependency(found)
        return source

    def _interactive(self, source: str) -> str:
        from netdraw.api import html_page
        from netdraw.renderers.html import RUNTIME_NAME

        graph, options = self._graph(source)
        depth = self.env.docname.count("/")
        _STATE["interactive"] += 1
        serial = self.env.new_serialno("netdraw")
        return html_page(graph, fragment=True, runtime="../" * depth + "_static/" + RUNTIME_NAME,
                         view_id=f"netdraw-view-{serial}", **options)

    def _render(self, source: str) -> Path:
        from netdraw.cache import render_cached

        o = self.options
        graph, options = self._graph(source)
        fmt = "pdf" if _STATE["format"] == "latex" else o.get("format", "svg")
        if fmt == "html":  # a builder that is not HTML: the figure
            fmt = "svg"
        if o.get("renderer") == "tikz" and fmt == "pdf":  # the LaTeX builder gets the TikZ figure
            options.update(renderer="tikz", style=o.get("style", "auto"))
        folder = Path(_STATE["doctreedir"]) / "netdraw"
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", source.rsplit("/", 1)[-1])[:60]
        path, hit = render_cached(graph, folder, stem, fmt, **options)
        _STATE["cached" if hit else "rendered"] += 1
        return path

    def _graph(self, source: str) -> tuple[Any, dict[str, Any]]:
        from netdraw.api import load, load_options

        o = self.options
        resolved = self._source(source)
        src = dict(inputs=tuple(_words(o.get("input", ""))), kwargs=tuple(_words(o.get("kwarg", ""))),
                   capture=None, mode=o.get("mode"), trust=False)
        factory = ":" in resolved and not resolved.rsplit(":", 1)[0].endswith((".onnx", ".json", ".pt", ".pt2"))
        device = o.get("device", "meta" if factory else None)
        try:
            # a factory builds its model on the meta device: no weights to allocate or initialise
            graph = load(resolved, **load_options(**src, device=device))
        except NetdrawError:
            if device != "meta" or "device" in o:
                raise
            graph = load(resolved, **load_options(**src, device=None))  # the model needs real weights
        options: dict[str, Any] = dict(self.config.netdraw_default_options)
        for opt in RENDER:
            key = opt.cli.lstrip("-")
            if not opt.docs or key not in o or opt.name in ("renderer", "style"):
                continue
            options[opt.name] = (not opt.default) if opt.kind == "flag" else from_words(opt.name, str(o[key]))
        return graph, options


def _module_file(dotted: str) -> str | None:
    try:
        spec = importlib.util.find_spec(dotted)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec and spec.origin and os.path.exists(spec.origin) else None


#: what the directive needs from the application, set when the builder starts
_STATE: dict[str, Any] = {"format": "html", "doctreedir": ".", "confdir": ".", "rendered": 0, "cached": 0,
                          "interactive": 0}


def _start(app: Sphinx) -> None:
    _STATE.update(format=app.builder.format, doctreedir=str(app.doctreedir), confdir=str(app.confdir),
                  rendered=0, cached=0, interactive=0)


def _runtime(app: Sphinx, exception: BaseException | None) -> None:
    """Write the interactive views' runtime once, beside the pages (``_static``)."""
    if exception is not None or app.builder.format != "html" or not _STATE["interactive"]:
        return
    from netdraw.api import write_atomic
    from netdraw.renderers.html import RUNTIME_NAME, runtime_js

    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    write_atomic(static / RUNTIME_NAME, runtime_js().encode("utf-8"))


def _report(app: Sphinx, exception: BaseException | None) -> None:
    if _STATE["rendered"] or _STATE["cached"]:
        logger.info(f"netdraw: {_STATE['rendered']} diagrams drawn, {_STATE['cached']} unchanged")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("netdraw_fail_on_error", False, "env", [bool])
    app.add_config_value("netdraw_default_options", {}, "env", [dict])
    app.add_directive("netdraw", NetdrawDirective)
    app.connect("builder-inited", _start)
    app.connect("build-finished", _runtime)
    app.connect("build-finished", _report)
    from netdraw.version import __version__

    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
