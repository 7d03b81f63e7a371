"""What a diagram shows, independent of the output format: boxes, clusters, edges and their texts.

Every text here is raw (unescaped); each renderer (DOT, Mermaid...) writes it through the escape
filter of its own format.  Identifiers are raw strings too (``n:<node name>``, ``i:<input>``,
``o:<index>:<output>``, ``cluster:<module path>``, ``r:<stub>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from netdraw.errors import check_choice
from netdraw.ir import Graph, Node, Value
from netdraw.ops import category, label_fields
from netdraw.options import DEFAULT_LABEL, LABEL_FIELDS, RANKDIRS
from netdraw.passes.collapse import visible_nodes
from netdraw.passes.select import io_groups
from netdraw.renderers.escape import shorten

__all__ = ["Scene", "Box", "Cluster", "Edge", "build_scene", "module_title", "cluster_title", "count_lines",
           "group_lines", "module_category", "node_lines", "io_lines", "STRUCTURE_TITLE", "box_value", "DIFF_MARK", "io_groups", "group_io_lines", "LABEL_FIELDS", "DEFAULT_LABEL", "parse_label",
           "format_count", "format_value", "shape_text", "base_op", "FANOUT_LIMIT", "RANKDIRS"]

#: what a node label can show: ``name`` the module's name as its title (else its class),
#: ``type`` the class under the name and an op's attributes (kernel, stride...), ``shape`` tensor
#: shapes on the edges, ``params`` parameter counts, ``flops`` multiply-accumulates (MACs; FLOPs
#: are about twice that, see :mod:`netdraw.passes.flops`)

#: the directions a diagram can flow in (top-bottom, left-right...), for every format

#: a node whose results go to more nodes than this gets one real edge and labelled stubs
FANOUT_LIMIT = 8
#: clusters nest at most this deep; ops of deeper modules sit in the deepest drawn one (Graphviz
#: slows to a crawl on hundreds of nested clusters, and no reader follows them)
MAX_NESTING = 24


#: a diff's markers (netdraw.passes.diff), so no state is told by colour alone
DIFF_MARK = {"added": "+", "removed": "−", "changed": "~"}


def untouched(v: Value) -> bool:
    """An output the forward returned as it got it, never written (a cache slot made before the
    call): a stored tensor, not a result."""
    return v.producer is None and v.kind == "param"


def group_io_lines(kind: str, head: str, values: list[Value]) -> list[str]:
    """``output: cache`` and ``4 tensors · 1×4×16×16`` (the shape when they share one; how many
    passed through untouched)."""
    shapes = {shape_text(v) for v in values}
    sub = f"{len(values)} tensors" + (f" · {shapes.pop()}" if len(shapes) == 1 else "")
    still = sum(1 for v in values if untouched(v))
    if still:
        sub += f" · {still} untouched"
    return [f"{kind}: {shorten(head, limit=30)}", shorten(sub, limit=48)]


def box_value(n: Node) -> float | None:
    """What a node is coloured by with ``--color-by`` (or a weight diff)."""
    return _value(n)


def _value(n: Node) -> float | None:
    """What a box is coloured by: its overlay value, or a weight change ‖ΔW‖/‖W‖ from the summed squares."""
    if n.meta.get("w2"):
        return (n.meta.get("dw2") or 0.0) ** 0.5 / n.meta["w2"] ** 0.5
    return n.meta.get("overlay")


#: the title of a checkpoint's structure diagram (netdraw.frontends.checkpoint)
STRUCTURE_TITLE = "{name}: structure — modules and their tensors, no dataflow"


def parse_label(label: str | Sequence[str]) -> tuple[str, ...]:
    """``"name,type,flops"`` or a list of fields -> a tuple in :data:`LABEL_FIELDS`."""
    items = label.split(",") if isinstance(label, str) else list(label)
    fields = tuple(dict.fromkeys(str(x).strip().lower() for x in items if str(x).strip()))
    for f in fields:
        check_choice("label field", f, LABEL_FIELDS)
    return fields


def format_value(v: float, unit: str) -> str:
    """``12.3 ms``, ``1.5 MB``, ``23.5M``."""
    if unit == "B":
        for u, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
            if v >= size:
                return f"{v / size:.1f}".rstrip("0").rstrip(".") + f" {u}"
        return f"{v:.0f} B"
    if unit == "ms":
        return f"{v:.3g} ms" if v < 1000 else f"{v / 1000:.3g} s"
    if float(v).is_integer() and abs(v) >= 1:
        return format_count(int(v))
    return f"{v:.3g}"


def format_count(n: int) -> str:
    """``9408`` -> ``9.4K``; ``23512345`` -> ``23.5M``."""
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)


def shape_text(v: Value) -> str:
    """``1×64×56×56`` (dtype first when it is not float32); empty when the shape is unknown."""
    if v.shape is None:
        return v.dtype if v.dtype and v.dtype != "float32" else ""
    dims = "×".join(_dim(d) for d in v.shape) or "scalar"
    if v.dtype and v.dtype != "float32":
        return f"{v.dtype} {dims}"
    return dims


def _dim(d: int | str | None) -> str:
    """A dim as drawn: symbolic names stay, inferred expressions (``floor(h/2)+1``) become ``?``."""
    if d is None or (isinstance(d, str) and (not _IDENT.fullmatch(d) or _UNNAMED.fullmatch(d))):
        return "?"
    return str(d)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_UNNAMED = re.compile(r"unk__\d+")  # what onnx shape inference calls a dim it could not name


def base_op(node: Node) -> str:
    """The op type whose category and attributes a node shows (a folded node: its first op)."""
    fold = node.meta.get("fold")
    return fold["ops"][0] if fold and fold.get("rule") != "index ops" else node.op_type


def _attr_text(node: Node) -> str:
    parts = []
    for key, short, collapse_equal, hide_ones in label_fields(base_op(node)):
        val = node.attrs.get(key)
        if val is None or isinstance(val, dict):
            continue
        vals = val if isinstance(val, list) else [val]
        if not vals or (hide_ones and all(x == 1 for x in vals)):
            continue
        if collapse_equal and all(x == vals[0] for x in vals):
            vals = vals[:1]
        sep = "," if key == "perm" else "×"
        parts.append(short + sep.join(str(x) for x in vals))
    text = " ".join(parts)
    dtypes = node.meta.get("dtypes")
    if dtypes and set(dtypes) != {"float32"}:  # a checkpoint's storage types (bfloat16, q4_k...)
        text = " · ".join(t for t in (text, "/".join(dtypes)) if t)
    change = node.attrs.get("diff")
    if change:  # what changed between two models (netdraw.passes.diff)
        text = " · ".join(t for t in (text, str(change)) if t)
    mark = node.attrs.get("checkpoint")
    if mark:  # a checkpoint's tensor missing or of another shape (netdraw.frontends.hf)
        text = " · ".join(t for t in (text, f"checkpoint: {mark}") if t)
    shares = node.attrs.get("shares")
    if shares:  # weights shared by name with an earlier layer (Caffe's param { name })
        text = " · ".join(t for t in (text, "shares " + ", ".join(map(str, shares))) if t)
    return text


def _span(first: str, last: str) -> str:
    """``layer.0`` and ``layer.11`` -> ``layer.0–11``; ``cv1`` and ``cv2`` -> ``cv1–cv2``."""
    k = 0
    while k < min(len(first), len(last)) and first[k] == last[k]:
        k += 1
    cut = max((i + 1 for i in range(k) if first[i] in "._-/"), default=0)
    return f"{first}–{last[cut:]}"


def module_title(scope: tuple[str, ...], mtype: str | None, repeat: dict | None = None) -> tuple[str, str]:
    """(name, type) for a module: ``layer.0–11`` and ``BertLayer ×12`` when ``repeat`` (the roll
    pass's ``{"count", "last"}`` record) says it stands for a run."""
    name = scope[-1]
    tname = (mtype or "").rsplit(".", 1)[-1]
    if repeat:
        name = _span(name, repeat["last"])
        tname = f"{tname} ×{repeat['count']}" if tname else f"×{repeat['count']}"
    return name, tname


def cluster_title(scope: tuple[str, ...], mtype: str | None, repeat: dict | None = None) -> str:
    """The title of a module drawn as a box around its contents: ``layer.0–11 · BertLayer ×12``."""
    name, tname = module_title(scope, mtype, repeat)
    if repeat and not (mtype or "").rsplit(".", 1)[-1]:  # no type to name: "layer1.0–1 ×2"
        return f"{shorten(name)} {tname}"
    return shorten(name) + (" · " + shorten(tname) if tname else "")


def count_lines(fields: set[str] | tuple[str, ...], params: int, flops: int | None, each: bool) -> list[str]:
    """``23.5M params`` and ``4.1B MACs`` lines as the label fields ask (``each``: per block)."""
    lines = []
    suffix = " each" if each else ""
    if "params" in fields and params:
        lines.append(f"{format_count(params)} params{suffix}")
    if "flops" in fields and flops:
        lines.append(f"{format_count(flops)} MACs{suffix}")
    return lines


def group_lines(fields: set[str] | tuple[str, ...], scope: tuple[str, ...], mtype: str | None, params: int,
                flops: int | None, repeat: dict | None, *, op_type: str | None = None, name: str | None = None
                ) -> list[str]:
    """The label of a module drawn as one node (``params``/``flops``: per block when ``repeat``)."""
    title_name, tname = module_title(scope, mtype, repeat)
    if name is not None:
        title_name, tname = name, ""
    if not tname and mtype:
        tname = op_type or ""
    sub: list[str] = []
    if "name" in fields or not tname:
        title = title_name
        if "type" in fields and tname:
            sub.append(tname)
    else:
        title = tname
    lines = [shorten(title)]
    if sub:
        lines.append(shorten(" · ".join(sub), limit=48))
    return lines + count_lines(fields, params, flops, repeat is not None)


def module_category(mtype: str | None) -> str:
    """The colour category of a module drawn as one node: its type's (a collapsed Conv2d keeps
    conv colours), else ``module``."""
    cat = category((mtype or "Module").rsplit(".", 1)[-1])
    return "module" if cat == "other" else cat


@dataclass
class Box:
    """One drawn node: an op, a collapsed module, a graph input or output, or a stub."""

    id: str
    lines: list[str]
    category: str
    title: str = ""            # how a stub names it
    subgraphs: bool = False    # owns subgraphs (drawn with a double border)
    kind: str = "node"         # node | input | output | stub
    node: Node | None = None
    thumbnail: dict[str, Any] | None = None  # a finished activation record (netdraw.passes.thumbnails)
    value: float | None = None  # what --color-by colours it by (netdraw.passes.overlay)
    diff: str | None = None     # a diff's state: same, changed, added, removed (netdraw.passes.diff)


@dataclass
class Cluster:
    """A module drawn as a box around its contents."""

    id: str
    title: str
    boxes: list[Box] = field(default_factory=list)
    children: list["Cluster"] = field(default_factory=list)


@dataclass
class Edge:
    src: str
    dst: str
    label: str = ""
    stub: bool = False         # dst is a stub box standing for a far-away source
    hidden: bool = False       # an order link of a structure diagram (Value.meta["order"]): not dataflow,
                               # kept only so the layout reads in file order; drawn invisibly


@dataclass
class Scene:
    name: str
    inputs: list[Box]
    root: Cluster
    outputs: list[Box]
    stubs: list[Box]
    edges: list[Edge]
    title: str = ""            # drawn above the diagram (a checkpoint's structure says so)
    overlay: dict[str, Any] | None = None  # Graph.meta["overlay"]: what the boxes' values are

    def boxes(self) -> list[Box]:
        """Every box, in drawing order."""
        out = list(self.inputs)

        def walk(c: Cluster) -> None:
            out.extend(c.boxes)
            for ch in c.children:
                walk(ch)

        walk(self.root)
        return out + self.outputs + self.stubs


class _Builder:
    def __init__(self, graph: Graph, label: tuple[str, ...], thumbnails: bool = True, visible: bool = True) -> None:
        self.g = graph
        self.thumbnails = thumbnails
        self.fields = set(label)
        self.modules = graph.meta.get("modules", {})
        self.visible = visible_nodes(graph) if visible else []
        self.visible_set = set(self.visible)
        self.titles: dict[str, str] = {}

    @staticmethod
    def nid(n: Node) -> str:
        return "n:" + n.name

    @staticmethod
    def iid(v: Value) -> str:
        return "i:" + v.name

    @staticmethod
    def oid(v: Value, i: int) -> str:
        return f"o:{i}:{v.name}"

    def repeat(self, scope: tuple[str, ...]) -> dict | None:
        """The ×N record of a rolled module (see :mod:`netdraw.passes.roll`)."""
        return self.modules.get("/".join(scope), {}).get("repeat") if scope else None

    def module_title(self, scope: tuple[str, ...], mtype: str | None) -> tuple[str, str]:
        """(name, type) for a module: ``layer.0–11`` and ``BertLayer ×12`` when rolled."""
        return module_title(scope, mtype, self.repeat(scope))

    def counts(self, n: Node, each: bool) -> list[str]:
        return count_lines(self.fields, n.params, n.meta.get("flops"), each) + self.value_line(n, each)

    def value_line(self, n: Node, each: bool) -> list[str]:
        info, v = self.g.meta.get("overlay"), _value(n)
        if "value" not in self.fields or info is None or v is None:
            return []
        return [format_value(v, info.get("unit", "")) + (" each" if each else "")]

    def node_lines(self, n: Node, module: tuple[str, ...] | None = None) -> list[str]:
        """``module``: the scope of a one-op module drawn as this node instead of as a cluster."""
        if n.meta.get("elide"):
            return self.elided_lines(n, n.meta["elide"])
        group = n.meta.get("group")
        f = self.fields
        sub: list[str] = []
        each = False
        if group:
            if not n.scope:
                return group_lines(f, (n.name,), group.get("type"), n.params, n.meta.get("flops"), None,
                                   op_type=n.op_type, name=n.name) + self.subgraph_lines(n)
            rep = self.repeat(n.scope)
            scope = n.scope
            if (module is not None and len(scope) == len(module) + 1 and tuple(scope[:-1]) == tuple(module)
                    and not scope[-1].startswith(f"{module[-1]}.")):  # ONNX scopes say layer1.0 already
                # the only thing drawn of its module (no box around it): named with the module too,
                # layer1.0–1, not 0–1
                scope = (*scope[:-1], f"{module[-1]}.{scope[-1]}")
            return group_lines(f, scope, group.get("type"), n.params, n.meta.get("flops"), rep,
                               op_type=n.op_type) + self.value_line(n, rep is not None) + self.subgraph_lines(n)
        else:
            title = n.op_type  # its module is the cluster around it
            attrs = _attr_text(n) if "type" in f else ""
            fold_module = n.meta.get("fold", {}).get("module")
            if fold_module and "name" in f and module is None:
                title, sub = fold_module, ([n.op_type] if "type" in f else [])
            if module is not None:
                name, tname = self.module_title(module, None)
                each = self.repeat(module) is not None
                if "name" in f:
                    title, sub = name, ([n.op_type] if "type" in f else [])
                if tname:
                    title += f" {tname}"
            if attrs:
                sub.append(attrs)
            fold = n.meta.get("fold")
            if fold and fold.get("rule") == "index ops" and "type" in f:
                sub.append(f"{len(fold['ops'])} ops")
        lines = [shorten(title)]
        if sub:
            lines.append(shorten(" · ".join(sub), limit=48))
        lines.extend(self.counts(n, each))
        return lines + self.subgraph_lines(n)

    @staticmethod
    def subgraph_lines(n: Node) -> list[str]:
        return [shorten(f"{k}: {sum(1 for _ in s.walk())} ops", limit=48) for k, s in n.subgraphs.items()]

    def elided_lines(self, n: Node, elided: dict[str, Any]) -> list[str]:
        """A node standing for many ops (see :mod:`netdraw.passes.elide`): ``… 9,950 ops …`` and
        the commonest op types, or ``Relu ×5,000`` for parallel copies."""
        count = int(elided["nodes"])
        if elided["kind"] == "parallel":
            lines = [shorten(f"{n.op_type} ×{count:,}"), "in parallel"]
        else:
            ops = sorted(elided.get("ops", {}).items(), key=lambda kv: (-kv[1], kv[0]))
            shown = " · ".join(f"{op} {c:,}" for op, c in ops[:3]) + (" · …" if len(ops) > 3 else "")
            lines = [f"… {count:,} ops …", shorten(shown, limit=48)]
        return lines + self.counts(n, False)

    @staticmethod
    def io_lines(kind: str, v: Value, name: str | None = None) -> list[str]:
        lines = [f"{kind}: {shorten(name or v.name, limit=30)}"]
        st = shape_text(v)
        if st:
            lines.append(shorten(st, limit=48))
        return lines

    def box(self, n: Node, module: tuple[str, ...] | None = None) -> Box:
        cat = category(base_op(n))
        if n.meta.get("group") and cat == "other":  # a container; a collapsed Conv2d keeps conv colours
            cat = "module"
        title = module[-1] if module else (n.scope[-1] if n.meta.get("group") and n.scope else n.op_type)
        self.titles[self.nid(n)] = title
        thumb = n.meta.get("thumbnail") if self.thumbnails else None
        lines = self.node_lines(n, module)
        state = n.meta.get("diff")
        if state in DIFF_MARK:  # a diff: the state's marker before the title, not colour alone
            lines = [f"{DIFF_MARK[state]} {lines[0]}", *lines[1:]]
        return Box(self.nid(n), lines, cat, title, bool(n.subgraphs), "node", n, thumb, _value(n), state)

    def build(self) -> Scene:
        inputs = []
        in_groups = io_groups([v.name for v in self.g.inputs], self.g.meta.get("expand", ()))
        self.in_ids: dict[int, str] = {}
        for v in self.g.inputs:
            head = in_groups.get(v.name)
            if head is not None:  # the tensors of one structure passed in (a cache): one box
                gid = f"i:g:{head}"
                self.in_ids[id(v)] = gid
                if gid not in self.titles:
                    self.titles[gid] = f"input {head}"
                    members = [w for w in self.g.inputs if in_groups.get(w.name) == head]
                    inputs.append(Box(gid, group_io_lines("input", head, members), "input", f"input {head}",
                                      kind="input"))
                continue
            self.in_ids[id(v)] = self.iid(v)
            self.titles[self.iid(v)] = f"input {v.name}"
            thumb = v.meta.get("thumbnail") if self.thumbnails else None  # finished by the thumbnails pass
            inputs.append(Box(self.iid(v), self.io_lines("input", v), "input", f"input {v.name}", kind="input",
                              thumbnail=thumb))
        # a tree of module paths; each node sits in the cluster of its enclosing module
        tree: dict[tuple[str, ...], dict[str, Any]] = {(): {"nodes": [], "children": []}}
        for n in self.visible:
            path = (n.scope[:-1] if n.meta.get("group") else n.scope)[:MAX_NESTING]
            for k in range(1, len(path) + 1):
                if path[:k] not in tree:
                    tree[path[:k]] = {"nodes": [], "children": []}
                    tree[path[:k - 1]]["children"].append(path[:k])
            tree[path]["nodes"].append(n)
        root = self.cluster((), tree)
        self.out_ids: list[str] = []
        outputs: list[Box] = []
        made: set[str] = set()
        names = self.g.meta.get("output_names")
        if not isinstance(names, list) or len(names) != len(self.g.outputs):
            names = [v.name for v in self.g.outputs]
        groups = io_groups(names, self.g.meta.get("expand", ()))
        for i, v in enumerate(self.g.outputs):
            group = groups.get(names[i])
            if group is None:
                self.out_ids.append(self.oid(v, i))
                lines = self.io_lines("output", v, names[i])
                if untouched(v):
                    lines = [lines[0], " · ".join(["passed through untouched", *lines[1:]])]
                outputs.append(Box(self.oid(v, i), lines, "output", kind="output"))
                continue
            gid = f"o:g:{group}"
            self.out_ids.append(gid)
            if gid not in made:
                made.add(gid)
                members = [w for w, name in zip(self.g.outputs, names) if groups.get(name) == group]
                outputs.append(Box(gid, group_io_lines("output", group, members), "output", kind="output"))
        stubs: list[Box] = []
        edges = self.edges(stubs)
        title = STRUCTURE_TITLE.format(name=self.g.meta.get("source", {}).get("path") or self.g.name) \
            if self.g.meta.get("structure") else ""
        return Scene(self.g.name, inputs, root, outputs, stubs, edges, title, self.g.meta.get("overlay"))

    def cluster(self, path: tuple[str, ...], tree: dict) -> Cluster:
        title = cluster_title(path, self.modules.get("/".join(path), {}).get("type"), self.repeat(path)) \
            if path else ""
        c = Cluster("cluster:" + "/".join(path), title)
        c.boxes.extend(self.box(n) for n in tree[path]["nodes"])
        for child in tree[path]["children"]:
            if len(tree[child]["nodes"]) == 1 and not tree[child]["children"]:
                # a module with one op: one node named after the module, not a box around it
                c.boxes.append(self.box(tree[child]["nodes"][0], module=child))
                continue
            c.children.append(self.cluster(child, tree))
        return c

    def source(self, v: Value) -> str | None:
        if v.kind == "param":
            return None
        if v.producer is None:
            return self.in_ids.get(id(v)) if v in self.g.inputs else None
        return self.nid(v.producer) if v.producer in self.visible_set else None

    def edge_text(self, v: Value) -> str:
        return shape_text(v) if "shape" in self.fields else ""

    def edges(self, stubs: list[Box]) -> list[Edge]:
        # (source id, destination id) -> labels, in order; parallel edges become one
        pairs: dict[tuple[str, str], list[str]] = {}
        hidden: list[Edge] = []
        for n in self.visible:
            seen: set[int] = set()
            for v in n.inputs:
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                src = self.source(v)
                if src is not None and v.meta.get("order"):
                    hidden.append(Edge(src, self.nid(n), hidden=True))
                elif src is not None:
                    pairs.setdefault((src, self.nid(n)), []).append(self.edge_text(v))
        for i, v in enumerate(self.g.outputs):
            src = self.source(v)
            if src is not None:
                pairs.setdefault((src, self.out_ids[i]), []).append(self.edge_text(v))
        fanout: dict[str, int] = {}
        for src, _ in pairs:
            fanout[src] = fanout.get(src, 0) + 1
        served: dict[str, int] = {}
        out: list[Edge] = []
        for (src, dst), labels in pairs.items():
            text = shorten(", ".join(dict.fromkeys(x for x in labels if x)), limit=40)
            served[src] = served.get(src, 0) + 1
            if fanout[src] > FANOUT_LIMIT and served[src] > 1:
                # one value feeding many far-apart nodes (rotary embeddings, a mask): a long edge
                # to each would cross the whole figure and stall the layout; draw a stub instead
                stub = f"r:{src}>{dst}"
                stubs.append(Box(stub, ["from " + shorten(self.titles.get(src, ""), limit=30)], "stub", kind="stub"))
                out.append(Edge(stub, dst, stub=True))
                continue
            out.append(Edge(src, dst, text))
        return out + hidden


def build_scene(graph: Graph, *, label: str | Sequence[str] = DEFAULT_LABEL, thumbnails: bool = True) -> Scene:
    """The scene of an (already prepared) graph; ``thumbnails``: boxes carry the activation
    thumbnails the graph has."""
    return _Builder(graph, parse_label(label), thumbnails).build()


def node_lines(graph: Graph, node: Node, *, label: str | Sequence[str] = DEFAULT_LABEL,
               module: tuple[str, ...] | None = None) -> list[str]:
    """The label lines of ``node`` of ``graph`` as a diagram draws it (``module``: the scope of a
    one-op module drawn as this node)."""
    return _Builder(graph, parse_label(label), False, visible=False).node_lines(node, module)


def io_lines(kind: str, value: Value) -> list[str]:
    """The label lines of a graph input or output box (``kind``: input or output)."""
    return _Builder.io_lines(kind, value)
