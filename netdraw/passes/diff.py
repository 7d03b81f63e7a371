"""What changed between two models: modules and ops matched, the differences listed, and a diff
graph a diagram draws (``netdraw diff A B``).

Matching, from the top of the module tree down:

* **modules** by path first (scopes normalised, so PyTorch's ``layer1/0`` and an ONNX export's
  ``layer1/layer1.0`` are the same module); the unmatched children of matched modules are then
  paired by structure (their ops' kinds in order): equal -> renamed or moved, else similar enough
  (a :class:`difflib.SequenceMatcher` ratio of at least :data:`SIMILAR`) -> renamed and changed;
* **ops** inside matched modules by position and kind: an alignment of the two sequences of op
  kinds, where known renamings are one kind (``linear`` = ``Gemm`` = ``MatMul``, ``conv2d`` =
  ``Conv``...) and ops an exporter folds away or adds (BatchNorm, Dropout, Identity, reshapes) are
  left out.  Matched ops differ when their output shapes (named dims match any size), their
  parameter counts, or (same source format) their attributes differ.

The diff graph is the second model with every node's state in ``node.meta["diff"]``
(``same``/``changed``/``added``), the change in ``node.attrs["diff"]`` (``params 590.6K→787.5K``),
and the removed ops of the first model added (state ``removed``, in their own modules).  Collapsed
nodes merge their members' states (:func:`netdraw.passes.overlay.summed`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from netdraw.ir import Graph, Node, Value
from netdraw.ops import category, norm_op

__all__ = ["Diff", "diff", "STATES", "SIMILAR", "merge_states", "normal_scope"]

STATES = ("same", "changed", "added", "removed")
#: how alike two modules' op sequences must be to pair them as one renamed, changed module
SIMILAR = 0.75

#: op kinds left out of the comparison: exporters fold BatchNorm into convolutions, drop Dropout and
#: Identity, and reshape freely
_SKIP = {"batch_norm", "batchnormalization", "dropout", "identity", "flatten", "view", "reshape", "contiguous",
         "unsqueeze", "squeeze", "getitem", "constant", "size", "shape", "transpose", "permute", "expand", "cast",
         "to", "type_as", "clone", "detach"}
#: known renamings between sources: one kind each
_KIND = {"gemm": "linear", "matmul": "linear", "addmm": "linear", "conv": "conv", "convolution": "conv",
         "maxpool": "max_pool", "averagepool": "avg_pool", "globalaveragepool": "adaptive_avg_pool",
         "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax", "gelu": "gelu",
         "layernormalization": "layer_norm", "sum": "add"}


def skipped(n: Node) -> bool:
    """Left out of the comparison: a kind exporters fold, drop or add (:data:`_SKIP`), or a bias
    added to a MatMul's result (``MatMul + Add`` is one ``linear``)."""
    k = kind(n.op_type)
    return k in _SKIP or (k == "add" and any(v is not None and v.kind == "param" for v in n.inputs))


def kind(op_type: str) -> str:
    k = norm_op(op_type)
    return _KIND.get(k, k)


def normal_scope(scope: tuple[str, ...]) -> tuple[str, ...]:
    """``("layer1", "layer1.0", "conv1")`` -> ``("layer1", "0", "conv1")``: an element repeating its
    parent's name as a prefix (ONNX exporters' ``/layer1/layer1.0/...``) is cut to its own part."""
    out: list[str] = []
    for s in scope:
        if out and s.startswith(out[-1] + ".") and len(s) > len(out[-1]) + 1:
            s = s[len(out[-1]) + 1:]
        out.append(s)
    return tuple(out)


def merge_states(states: list[str]) -> str | None:
    """The state of a node standing for members in ``states``: theirs when all agree, else changed."""
    kinds = {s for s in states if s}
    if not kinds:
        return None
    return kinds.pop() if len(kinds) == 1 else "changed"


@dataclass
class Diff:
    """The comparison of two graphs: ``modules`` (path -> state), ``changes`` (path or op -> what
    changed), ``renamed`` module pairs, op counts per state, the parameter totals, and ``graph``,
    the diff graph to draw."""

    a: str
    b: str
    modules: dict[str, str] = field(default_factory=dict)
    changes: dict[str, list[str]] = field(default_factory=dict)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    ops: dict[str, int] = field(default_factory=dict)
    params: tuple[int, int] = (0, 0)
    graph: Graph | None = None

    @property
    def equal(self) -> bool:
        return not any(self.ops.get(s) for s in ("changed", "added", "removed")) and self.params[0] == self.params[1]

    def to_json(self) -> dict[str, Any]:
        by_state: dict[str, list[str]] = {s: [] for s in ("added", "removed", "changed")}
        for path, state in self.modules.items():
            parent = path.rsplit(".", 1)[0] if "." in path else ""
            # an added (removed) module's submodules are added (removed) with it: listed once
            if state in by_state and not (state != "changed" and self.modules.get(parent) == state):
                by_state[state].append(path)
        return {"a": self.a, "b": self.b, "equal": self.equal, "params": {"a": self.params[0], "b": self.params[1]},
                "ops": self.ops, "modules": by_state, "renamed": [list(p) for p in self.renamed],
                "changes": self.changes}


class _Side:
    def __init__(self, g: Graph) -> None:
        from netdraw.passes.collapse import is_hidden

        self.g = g
        self.nodes = [n for n in g.nodes if not is_hidden(n)]
        self.scope = {n: normal_scope(n.scope) for n in self.nodes}
        self.direct: dict[tuple[str, ...], list[Node]] = {}
        self.children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for n in self.nodes:
            s = self.scope[n]
            self.direct.setdefault(s, []).append(n)
            for k in range(1, len(s) + 1):
                kids = self.children.setdefault(s[:k - 1], [])
                if s[:k] not in kids:
                    kids.append(s[:k])
        self.format = g.meta.get("source", {}).get("format")

    def subtree(self, s: tuple[str, ...]) -> list[Node]:
        return [n for n in self.nodes if self.scope[n][:len(s)] == s]

    def signature(self, s: tuple[str, ...]) -> list[str]:
        return [kind(n.op_type) for n in self.subtree(s) if not skipped(n)]


def _path(s: tuple[str, ...]) -> str:
    return ".".join(s)


def diff(a: Graph, b: Graph) -> Diff:
    """Compare ``a`` (before) with ``b`` (after); see the module docstring."""
    A, B = _Side(a), _Side(b)
    result = Diff(a.name, b.name, params=(a.summary()["params"], b.summary()["params"]))
    state: dict[Node, str] = {}
    change: dict[Node, list[str]] = {}
    removed: list[Node] = []
    twin: dict[Node, Node] = {}  # an op of A -> its op in B

    def match_ops(xs: list[Node], ys: list[Node]) -> None:
        xs = [n for n in xs if not skipped(n)]
        ys_all = ys
        ys = [n for n in ys if not skipped(n)]
        sm = difflib.SequenceMatcher(a=[kind(n.op_type) for n in xs], b=[kind(n.op_type) for n in ys], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for x, y in zip(xs[i1:i2], ys[j1:j2]):
                    if tag == "replace" and category(x.op_type) != category(y.op_type):
                        removed.append(x)
                        state[y] = "added"
                        continue
                    twin[x] = y
                    diffs = _compare(x, y, A.format == B.format, tag == "replace")
                    state[y] = "changed" if diffs else "same"
                    if diffs:
                        change[y] = diffs
                continue
            removed.extend(xs[i1:i2])
            for y in ys[j1:j2]:
                state[y] = "added"
        for y in ys_all:
            state.setdefault(y, "same")  # skipped kinds (reshapes...) count as the same

    def walk(sa: tuple[str, ...], sb: tuple[str, ...]) -> None:
        match_ops(A.direct.get(sa, []), B.direct.get(sb, []))
        kids_a, kids_b = A.children.get(sa, []), B.children.get(sb, [])
        names_b = {k[-1]: k for k in kids_b}
        pairs = [(ka, names_b[ka[-1]]) for ka in kids_a if ka[-1] in names_b]
        left_a = [k for k in kids_a if k[-1] not in names_b]
        taken = {kb for _, kb in pairs}
        left_b = [k for k in kids_b if k not in taken]
        # renamed or moved: the same (or a similar) sequence of ops under another name
        for ka in list(left_a):
            sig = A.signature(ka)
            best, best_ratio = None, 0.0
            for kb in left_b:
                r = difflib.SequenceMatcher(a=sig, b=B.signature(kb), autojunk=False).ratio() if sig else 0.0
                if r > best_ratio:
                    best, best_ratio = kb, r
            if best is not None and best_ratio >= SIMILAR:
                pairs.append((ka, best))
                left_a.remove(ka)
                left_b.remove(best)
                result.renamed.append((_path(ka), _path(best)))
        for ka, kb in pairs:
            walk(ka, kb)
        for ka in left_a:
            removed.extend(A.subtree(ka))
            result.modules[_path(ka)] = "removed"
        for kb in left_b:
            for y in B.subtree(kb):
                state[y] = "added"
            result.modules[_path(kb)] = "added"

    walk((), ())
    for y in B.nodes:
        state.setdefault(y, "added")
    _moved(A, B, removed, state, twin)
    # module states in B, from their ops
    for s in B.children:
        for kid in B.children[s]:
            path = _path(kid)
            if path not in result.modules:
                result.modules[path] = merge_states([state[n] for n in B.subtree(kid)]) or "same"
    for y, diffs in change.items():
        result.changes[y.name] = diffs
    counts = {s: 0 for s in STATES}
    for y in B.nodes:
        counts[state[y]] += 1
    counts["removed"] = len([x for x in removed if not skipped(x)])
    result.ops = counts
    result.graph = _diff_graph(b, state, change, removed, twin, A)
    return result


def _moved(A: _Side, B: _Side, removed: list[Node], state: dict[Node, str], twin: dict[Node, Node]) -> None:
    """Ops that moved into a new submodule (a LoRA wrapper's ``query.base``) or out of one: a removed
    op and an added op of one kind, shapes and parameters, one's module inside the other's, are the
    same op."""
    added = [y for y in B.nodes if state[y] == "added"]
    for x in list(removed):
        sx = A.scope[x]
        for y in added:
            sy = B.scope[y]
            inside = sy[:len(sx)] == sx or sx[:len(sy)] == sy
            if inside and sx and sy and kind(x.op_type) == kind(y.op_type) and x.params == y.params and \
                    all(_same_shape(v.shape, w.shape) for v, w in zip(x.outputs, y.outputs)):
                removed.remove(x)
                added.remove(y)
                state[y] = "same"
                twin[x] = y
                break


def _compare(x: Node, y: Node, same_format: bool, replaced: bool) -> list[str]:
    out = []
    if replaced and kind(x.op_type) != kind(y.op_type):
        out.append(f"{x.op_type}→{y.op_type}")
    shapes_x = [v.shape for v in x.outputs]
    shapes_y = [v.shape for v in y.outputs]
    if len(shapes_x) == len(shapes_y) and not all(_same_shape(p, q) for p, q in zip(shapes_x, shapes_y)):
        out.append(f"{_shape(shapes_x[0])}→{_shape(shapes_y[0])}")
    if x.params != y.params:
        out.append(f"params {_count(x.params)}→{_count(y.params)}")
    if same_format and not replaced:
        keys = sorted(set(x.attrs) | set(y.attrs))
        for k in keys:
            if k != "diff" and x.attrs.get(k) != y.attrs.get(k) and not isinstance(x.attrs.get(k), dict):
                out.append(f"{k} {x.attrs.get(k)}→{y.attrs.get(k)}")
    return out


def _count(n: int) -> str:
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)


def _same_shape(p: Any, q: Any) -> bool:
    if p is None or q is None:
        return True
    if len(p) != len(q):
        return False
    return all(isinstance(d, str) or isinstance(e, str) or d is None or e is None or d == e for d, e in zip(p, q))


def _shape(s: Any) -> str:
    return "?" if s is None else "×".join(str(d) for d in s)


def _diff_graph(b: Graph, state: dict[Node, str], change: dict[Node, list[str]], removed: list[Node],
                twin: dict[Node, Node], A: _Side) -> Graph:
    g = b.copy()
    by_name = {n.name: n for n in g.nodes}
    for y, s in state.items():
        node = by_name[y.name]
        node.meta["diff"] = s
        if y in change:
            node.attrs["diff"] = ", ".join(change[y])
    g.meta["diff"] = {"a": A.g.name, "b": b.name}
    # the removed ops of A, in their own modules, fed from what they read where B has it
    values: dict[int, Value] = {}
    b_inputs = {v.name: v for v in g.inputs}
    for x in removed:
        ins: list[Value | None] = []
        for v in x.inputs:
            if v is None or v.kind == "param":
                continue
            if id(v) in values:
                ins.append(values[id(v)])
            elif v.producer is not None and v.producer in twin:
                y = by_name[twin[v.producer].name]
                k = v.producer.outputs.index(v)
                ins.append(y.outputs[min(k, len(y.outputs) - 1)])
            elif v.producer is None and v.name in b_inputs:
                ins.append(b_inputs[v.name])
        node = g.add_node(x.op_type, ins, [(f"{o.name}~a", o.shape, o.dtype) for o in x.outputs],
                          name=f"{x.name}~removed", attrs=dict(x.attrs), scope=x.scope, params=x.params,
                          meta={"diff": "removed"})
        for o, new in zip(x.outputs, node.outputs):
            values[id(o)] = new
    modules = g.meta.setdefault("modules", {})
    for key, info in A.g.meta.get("modules", {}).items():
        modules.setdefault(key, dict(info))
    return g
