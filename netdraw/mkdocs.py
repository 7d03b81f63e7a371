"""MkDocs hook: fenced ``netdraw`` blocks in Markdown pages become inline SVG diagrams at build time.

In ``mkdocs.yml``::

    hooks:
      - netdraw_hook.py      # a file containing: from netdraw.mkdocs import on_page_markdown

In a page::

    ```netdraw
    source: models.py:resnet18
    input: 1x3x224x224
    depth: 2
    ```

``format: html`` embeds the interactive view (open and close modules, search, details) instead of
the SVG; its runtime (the viewer and the Graphviz WebAssembly, ~0.55 MB) is written once, to
``assets/netdraw-view.js`` in the site, when the hook file also imports ``on_post_build``::

    from netdraw.mkdocs import on_page_markdown, on_post_build

Keys: ``source`` (required; a ``file.py`` or model file is looked up next to ``mkdocs.yml``),
``input`` and ``kwarg`` (space-separated), and the render options ``depth``, ``max_nodes``,
``label``, ``theme``, ``rankdir``, ``engine``, ``fold`` (``;``-separated), ``hide``, ``keep``,
``expand`` (space-separated), ``roll`` (true/false).  A block that cannot be drawn stops the build
with one line naming the page, the source and the reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.options import DOC_KEYS, from_words

__all__ = ["on_page_markdown", "on_post_build", "render_block", "RUNTIME_PATH"]

#: where in the built site the interactive view's runtime is written (once)
RUNTIME_PATH = "assets/netdraw-view.js"
_HTML_PAGES: set[str] = set()

_FENCE = re.compile(r"^```netdraw[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
#: source, input and kwarg, and the render options offered to docs (declared in netdraw.options)
_KEYS = set(DOC_KEYS)


def render_block(text: str, base: Path, *, runtime: str | None = None, view_id: str = "netdraw-view") -> str:
    """The inline SVG for the body of one ``netdraw`` block (or, with ``format: html``, the
    interactive view, loading its runtime from the URL ``runtime``; inline when None)."""
    from netdraw.api import load, load_options
    from netdraw.api import render_bytes
    from netdraw.renderers.notebook import inline_svg

    spec: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip().replace("-", "_")
        if not sep or key not in _KEYS | {"format"}:
            raise NetdrawError(f"line {n} of a netdraw block: expected 'key: value' with a key among "
                               f"{', '.join(sorted(_KEYS))}, got {line.strip()!r}")
        spec[key] = value.strip()
    if "source" not in spec:
        raise NetdrawError("a netdraw block needs a 'source: ...' line")
    source = spec.pop("source")
    fmt = spec.pop("format", "svg")
    if fmt not in ("svg", "html"):
        raise NetdrawError(f"invalid format {fmt!r} in a netdraw block; valid: svg, html")
    head, sep, attr = source.partition(":")
    if head.endswith((".py", ".onnx", ".json", ".pt", ".pt2")) and (base / head).exists():
        source = str((base / head).resolve()) + sep + attr
    inputs = tuple(spec.pop("input", "").split())
    kwargs = tuple(spec.pop("kwarg", "").split())
    options: dict[str, Any] = {key: from_words(key, value) for key, value in spec.items()}
    graph = load(source, **load_options(inputs=inputs, kwargs=kwargs, capture=None, mode=None, device=None,
                                        trust=False))
    if fmt == "html":
        from netdraw.api import html_page

        return html_page(graph, fragment=True, runtime=runtime, view_id=view_id, **options)
    return '<div class="netdraw">' + inline_svg(render_bytes(graph, "svg", **options)) + "</div>"


def on_page_markdown(markdown: str, page: Any = None, config: Any = None, files: Any = None, **_: Any) -> str:
    """MkDocs' ``on_page_markdown`` event: replace each ``netdraw`` block with its diagram."""
    base = Path(config["config_file_path"]).parent if config is not None else Path.cwd()
    where = getattr(getattr(page, "file", None), "src_uri", "a page")
    url = getattr(page, "url", "") or ""
    depth = url.count("/") if url and not url.endswith(".html") else max(0, url.count("/"))
    runtime = "../" * depth + RUNTIME_PATH
    count = [0]

    def one(m: re.Match[str]) -> str:
        try:
            count[0] += 1
            html = render_block(m.group(1), base, runtime=runtime, view_id=f"netdraw-view-{count[0]}")
            if 'class="netdraw-view"' in html:
                _HTML_PAGES.add(where)
            return html
        except Exception as exc:
            from mkdocs.exceptions import PluginError

            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise PluginError(f"netdraw: {where}: {reason}") from None

    return _FENCE.sub(one, markdown)


def on_post_build(config: Any = None, **_: Any) -> None:
    """MkDocs' ``on_post_build`` event: write the interactive view's runtime once into the site
    when a page embeds an interactive view."""
    if not _HTML_PAGES or config is None:
        return
    from netdraw.api import write_atomic
    from netdraw.renderers.html import runtime_js

    target = Path(config["site_dir"]) / RUNTIME_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, runtime_js().encode("utf-8"))
