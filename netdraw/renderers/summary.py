"""A model in one sentence, for alt text and screen readers:

``BertModel: embeddings, encoder (BertLayer ×12), pooler; 109.5M parameters; input 1×128 → 1×128×768``

The top-level modules in the order they run (with the first level of repeated blocks inside),
the parameter total, and the inputs and outputs with their shapes.  ``netdraw inspect --describe``
prints it; the interactive page and the static SVG carry it (``<desc>``).
"""

from __future__ import annotations

import re
from collections import Counter

from netdraw.ir import Graph, scope_key
from netdraw.passes.collapse import is_hidden
from netdraw.renderers.escape import shorten, xml
from netdraw.renderers.scene import format_count, shape_text

__all__ = ["describe", "add_desc", "MAX_PARTS"]

#: top-level parts named before ``… and N more``
MAX_PARTS = 8


def describe(graph: Graph) -> str:
    """One sentence describing ``graph`` (see the module docstring)."""
    total = graph.summary()["params"]
    info = graph.meta.get("modules", {})
    children: dict[tuple[str, ...], dict[tuple[str, ...], None]] = {}
    tops: dict[str, None] = {}
    for n in graph.walk():
        if n.scope:
            for k in range(1, len(n.scope) + 1):
                children.setdefault(n.scope[:k - 1], {})[n.scope[:k]] = None
    for n in graph.nodes:
        if n.scope and not is_hidden(n):
            tops[n.scope[0]] = None
    parts = []
    for top in tops:
        scope = (top,)
        blocks = _blocks(info, children, scope)
        parts.append(shorten(top, limit=30) + (f" ({blocks})" if blocks else ""))
    if len(parts) > MAX_PARTS:
        parts = parts[:MAX_PARTS] + [f"… and {len(parts) - MAX_PARTS} more"]
    mtype = (graph.meta.get("model_type") or "").rsplit(".", 1)[-1] or graph.name
    head = shorten(mtype, limit=40) + (": " + ", ".join(parts) if parts else "")
    ops = sum(1 for n in graph.nodes if not is_hidden(n))
    return "; ".join([head, f"{format_count(total)} parameters", f"{ops:,} ops",
                      f"{_io('input', graph.inputs)} → {_io('output', graph.outputs, named=False)}"])


def _type(info: dict, scope: tuple[str, ...]) -> str:
    return (info.get(scope_key(scope), {}).get("type") or "").rsplit(".", 1)[-1]


def _blocks(info: dict, children: dict, scope: tuple[str, ...]) -> str:
    """``BertLayer ×12``: at ``scope`` or one level under it, the first module two thirds of whose
    submodules (two or more) are of one type; empty when there is none."""
    for s in [scope, *children.get(scope, ())]:
        kids = list(children.get(s, ()))
        types = Counter(_type(info, k) for k in kids)
        if not types:
            continue
        tname, many = types.most_common(1)[0]
        if tname and many >= 2 and 3 * many >= 2 * len(kids):
            return f"{tname} ×{many}"
    return ""


def _io(kind: str, values: list, named: bool = True) -> str:
    """``input 1×128``, ``inputs input_ids 1×128, mask 1×128`` (``named``: with the word);
    without it just the shapes, named when there are several."""
    if not values:
        return f"no {kind}s"
    shown = [shape_text(v) or "?" for v in values[:3]]
    if len(values) > 1:
        shown = [f"{shorten(v.name, limit=24)} {s}" for v, s in zip(values, shown)]
    text = ", ".join(shown) + (f", … {len(values) - 3} more" if len(values) > 3 else "")
    if not named:
        return text
    return f"{kind}{'s' if len(values) > 1 else ''} {text}"


def add_desc(svg: bytes, text: str) -> bytes:
    """A Graphviz SVG with ``text`` as its ``<desc>`` (alt text for screen readers) and
    ``role="img"`` with the same ``aria-label``."""
    m = re.search(rb"<svg\b[^>]*>", svg)
    if m is None:
        return svg
    esc = xml(text).encode("utf-8")
    head = m.group(0)[:-1] + b' role="img" aria-label="' + esc + b'">'
    return svg[:m.start()] + head + b"\n<desc>" + esc + b"</desc>" + svg[m.end():]
