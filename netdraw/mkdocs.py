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

__all__ = ["on_page_markdown", "render_block"]

_FENCE = re.compile(r"^```netdraw[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
#: source, input and kwarg, and the render options offered to docs (declared in netdraw.options)
_KEYS = set(DOC_KEYS)


def render_block(text: str, base: Path) -> str:
    """The inline SVG for the body of one ``netdraw`` block."""
    from netdraw.api import load, load_options
    from netdraw.api import render_bytes
    from netdraw.renderers.notebook import inline_svg

    spec: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip().replace("-", "_")
        if not sep or key not in _KEYS:
            raise NetdrawError(f"line {n} of a netdraw block: expected 'key: value' with a key among "
                               f"{', '.join(sorted(_KEYS))}, got {line.strip()!r}")
        spec[key] = value.strip()
    if "source" not in spec:
        raise NetdrawError("a netdraw block needs a 'source: ...' line")
    source = spec.pop("source")
    head, sep, attr = source.partition(":")
    if head.endswith((".py", ".onnx", ".json", ".pt", ".pt2")) and (base / head).exists():
        source = str((base / head).resolve()) + sep + attr
    inputs = tuple(spec.pop("input", "").split())
    kwargs = tuple(spec.pop("kwarg", "").split())
    options: dict[str, Any] = {key: from_words(key, value) for key, value in spec.items()}
    graph = load(source, **load_options(inputs=inputs, kwargs=kwargs, capture=None, mode=None, device=None,
                                        trust=False))
    return '<div class="netdraw">' + inline_svg(render_bytes(graph, "svg", **options)) + "</div>"


def on_page_markdown(markdown: str, page: Any = None, config: Any = None, files: Any = None, **_: Any) -> str:
    """MkDocs' ``on_page_markdown`` event: replace each ``netdraw`` block with its diagram."""
    base = Path(config["config_file_path"]).parent if config is not None else Path.cwd()
    where = getattr(getattr(page, "file", None), "src_uri", "a page")

    def one(m: re.Match[str]) -> str:
        try:
            return render_block(m.group(1), base)
        except Exception as exc:
            from mkdocs.exceptions import PluginError

            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise PluginError(f"netdraw: {where}: {reason}") from None

    return _FENCE.sub(one, markdown)
