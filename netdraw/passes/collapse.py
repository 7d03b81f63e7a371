"""Collapse to a depth: every module below depth N becomes one node."""

from __future__ import annotations

import heapq
from collections import Counter
from typing import Any, Callable

from netdraw.ir import Graph, Node, Value, scope_key, top_node
from netdraw.ops import is_constant
from netdraw.options import DEFAULT_MAX_NODES
from netdraw.passes.overlay import summed
from netdraw.passes.select import Selector

__all__ = ["collapse", "contract", "order_units",
           "auto_depth", "max_depth", "visible_nodes", "is_hidden", "leaf_modules", "mark_leaves", "LEAVES",
           "DEFAULT_MAX_NODES"]

#: the depth that draws every op, except that each leaf module (one with no submodules) holding
#: two or more ops is one node: GPT-2's Conv1D (view, addmm, view), a GELU written out in 8 ops
LEAVES = "leaves"



def is_hidden(node: Node) -> bool:
    """True for nodes a diagram folds into their users: constants, and ops that read only
    stored tensors (an Identity or Transpose of a weight, a DequantizeLinear of weights)."""
    if is_constant(node.op_type):
        return True
    if node.subgraphs or node.meta.get("group"):
        return False
    ins = [v for v in node.inputs if v is not None]
    return bool(ins) and all(v.kind == "param" for v in ins)


def visible_nodes(graph: Graph) -> list[Node]:
    """The nodes a diagram draws (see :func:`is_hidden`)."""
    return [n for n in graph.nodes if not is_hidden(n)]


def max_depth(graph: Graph) -> int:
    """The deepest module path in the graph (0 when nothing has a scope)."""
    return max((len(n.scope) for n in graph.nodes), default=0)


def _key(scope: tuple[str, ...], depth: int, expand: Selector | None) -> tuple[str, ...] | None:
    """The module a node at ``scope`` is drawn inside of at ``depth``: ``scope[:depth]``, one level
    deeper for each expanded module on the way; None when the node is drawn as itself."""
    k = depth
    if expand:
        while k <= len(scope) and expand.module(scope[:k]):
            k += 1
    return scope[:k] if 1 <= k <= len(scope) else None


def mark_leaves(graph: Graph) -> None:
    """Record in ``meta["modules"]`` which modules have no submodule (``"leaf"``), from the node
    scopes, where the source did not say; run before passes that move ops between modules."""
    modules = graph.meta.setdefault("modules", {})
    inner: set[tuple[str, ...]] = set()
    scopes: set[tuple[str, ...]] = set()
    for n in graph.nodes:
        scopes.add(n.scope)
        inner.update(n.scope[:k] for k in range(1, len(n.scope)))
    for s in scopes | inner:
        if s:
            modules.setdefault(scope_key(s), {}).setdefault("leaf", s not in inner)


def leaf_modules(graph: Graph) -> set[tuple[str, ...]]:
    """Leaf modules (``meta["modules"][key]["leaf"]``, see :func:`mark_leaves`) holding two or
    more drawn ops."""
    modules = graph.meta.get("modules", {})
    count: dict[tuple[str, ...], int] = {}
    for n in graph.nodes:
        if n.scope and not is_hidden(n):
            count[n.scope] = count.get(n.scope, 0) + 1
    return {s for s, c in count.items() if c >= 2 and modules.get(scope_key(s), {}).get("leaf")}


def _units(graph: Graph, depth: int | str, expand: Selector | None = None
           ) -> list[tuple[tuple[str, ...] | None, list[Node]]]:
    """Group nodes by module (see :func:`_key`, :data:`LEAVES`); splits a group into runs if
    grouping would make a cycle."""
    nodes = list(graph.nodes)
    leaves = leaf_modules(graph)
    if depth == LEAVES:
        keys = [n.scope if n.scope in leaves else None for n in nodes]
    else:
        # a leaf module above the depth (a final RMSNorm beside collapsed decoder layers) is one
        # node too, unless the user expanded it
        keys = [_key(n.scope, depth, expand) for n in nodes]  # type: ignore[arg-type]
        keys = [n.scope if k is None and n.scope in leaves and not (expand and expand.module(n.scope)) else k
                for n, k in zip(nodes, keys)]
    return order_units(nodes, keys)


def order_units(nodes: list[Node], keys: list[Any]) -> list[tuple[Any, list[Node]]]:
    """``nodes`` (in topological order) grouped by ``keys`` (None: a node of its own) into units
    in a topological order; a key whose group would make a cycle is split into consecutive runs."""
    units = _merge(nodes, keys, whole=True)
    if units is None:
        units = _merge(nodes, keys, whole=False)
        assert units is not None
    return units


def _merge(nodes: list[Node], keys: list, whole: bool):
    unit_of: dict[Node, int] = {}
    units: list[tuple[Any, list[Node]]] = []
    index: dict[Any, int] = {}
    prev_key: object = object()
    for n, k in zip(nodes, keys):
        if k is None:
            units.append((None, [n]))
        elif whole and k in index:
            units[index[k]][1].append(n)
        elif not whole and k == prev_key and units and units[-1][0] == k:
            units[-1][1].append(n)
        else:
            index[k] = len(units)
            units.append((k, [n]))
        unit_of[n] = len(units) - 1 if k is None or not whole else index[k]
        prev_key = k
    if not whole:
        return units
    # order the units topologically (first member's position breaks ties); None if cyclic
    succ: list[set[int]] = [set() for _ in units]
    indeg = [0] * len(units)
    for n in nodes:
        u = unit_of[n]
        for v in n.outputs:
            for user in v.users:
                top = top_node(user, n.graph)
                w = unit_of.get(top)
                if w is not None and w != u and w not in succ[u]:
                    succ[u].add(w)
                    indeg[w] += 1
    heap = [i for i in range(len(units)) if indeg[i] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        i = heapq.heappop(heap)
        order.append(i)
        for j in succ[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(heap, j)
    if len(order) != len(units):
        return None
    return [units[i] for i in order]


def count_visible(graph: Graph, depth: int | str | None, expand: Selector | None = None) -> int:
    """How many nodes a diagram at ``depth`` draws (``None`` = every op)."""
    if depth is None:
        return len(visible_nodes(graph))
    total = 0
    for key, members in _units(graph, depth, expand):
        if key is not None:
            total += 1
        elif not is_hidden(members[0]):
            total += 1
    return total


def auto_depth(graph: Graph, max_nodes: int = DEFAULT_MAX_NODES, expand: Selector | None = None
               ) -> int | str | None:
    """The deepest level whose diagram stays within ``max_nodes``: :data:`LEAVES` (every op, leaf
    modules as one node) or an int (``None`` only for a graph without modules)."""
    deepest = max_depth(graph)
    if deepest == 0:
        return None
    if count_visible(graph, LEAVES, expand) <= max_nodes:
        return LEAVES
    for d in range(deepest, 0, -1):
        if count_visible(graph, d, expand) <= max_nodes:
            return d
    return 1 if deepest >= 1 else None


def collapse(graph: Graph, depth: int | str | None, expand: Selector | None = None) -> Graph:
    """A new graph where each module at ``depth`` is one node; ``None`` returns a plain copy.
    Modules that ``expand`` matches are opened one level further (see :func:`_key`).

    A collapsed node's ``scope`` is the module's path, its ``op_type`` the module's type
    (``"Module"`` when the source did not record one), its ``params`` the members' total (a rolled
    run inside it counted ×N),
    ``meta["group"]`` = ``{"module", "type", "nodes", "ops"}`` and ``meta["flops"]`` the members'
    sum when they have counts.
    """
    if depth is None or max_depth(graph) == 0:
        out = graph.copy()
        out.meta["collapse"] = {"depth": None}
        return out
    if depth != LEAVES and (not isinstance(depth, int) or depth < 1):
        raise ValueError(f"depth must be >= 1, {LEAVES!r} or None, got {depth!r}")
    modules = graph.meta.get("modules", {})

    def describe(key: tuple[str, ...], members: list[Node], inner: list[Node]) -> dict[str, Any]:
        mtype = modules.get(scope_key(key), {}).get("type")
        short = mtype.rsplit(".", 1)[-1] if mtype else "Module"
        times = [_times(x, key) for x in inner]
        meta: dict[str, Any] = {"group": {"module": scope_key(key), "type": mtype, "nodes": len(inner),
                                          "ops": dict(sorted(Counter(x.op_type for x in inner).items())),
                                          "total": sum(times)}}
        meta.update(summed(inner, times))
        return dict(op_type=short, name=scope_key(key), scope=key,
                    params=sum(x.params * t for x, t in zip(inner, times)), meta=meta)

    out = contract(graph, _units(graph, depth, expand), describe)
    out.meta["collapse"] = {"depth": depth}
    return out


def contract(graph: Graph, units: list[tuple[Any, list[Node]]],
             describe: Callable[[Any, list[Node], list[Node]], dict[str, Any]]) -> Graph:
    """A new graph where each unit ``(key, members)`` with a key is one node, in the units' order
    (which must be topological); ``(None, [node])`` is a copy of the node.  ``describe(key,
    members, inner)`` (``inner``: the members and their subgraphs' nodes) gives the new node's
    ``op_type``, ``name``, ``scope``, ``params`` and ``meta``; it reads what the members read from
    outside and produces their outputs used outside."""
    out = Graph(graph.name)
    out.meta = _deepcopy(graph.meta)
    vmap: dict[int, Value] = {}

    def clone_free(v: Value) -> Value:
        if v.kind == "input":
            nv = out.add_input(v.name, v.shape, v.dtype)
        else:
            nv = out.add_param(v.name, v.shape, v.dtype)
        nv.meta = _deepcopy(v.meta)
        vmap[id(v)] = nv
        return nv

    for v in graph.inputs:
        clone_free(v)
    for v in graph.values:
        if v.producer is None and id(v) not in vmap:
            clone_free(v)

    graph_outputs = set(graph.outputs)
    for key, members in units:
        if key is None:
            n = members[0]
            new = out.add_node(n.op_type, [None if v is None else vmap[id(v)] for v in n.inputs],
                               [(v.name, v.shape, v.dtype) for v in n.outputs], name=n.name,
                               domain=n.domain, attrs=_deepcopy(n.attrs), scope=n.scope,
                               params=n.params, meta=_deepcopy(n.meta))
            for old, nv in zip(n.outputs, new.outputs):
                nv.meta = _deepcopy(old.meta)
                vmap[id(old)] = nv
            for attr, sub in n.subgraphs.items():
                new.subgraphs[attr] = sub.copy_into(out)
            continue
        member_set = set(members)
        produced = {id(v) for m in members for v in m.outputs}
        ins: list[Value] = []
        seen: set[int] = set()
        for m in members:
            for v in _reads(m):
                if v.kind != "param" and id(v) not in produced and id(v) not in seen:
                    seen.add(id(v))
                    ins.append(v)
        outs = [v for m in members for v in m.outputs
                if any(top_node(u, graph) not in member_set for u in v.users) or v in graph_outputs]
        inner = [x for m in members for x in [m, *_walk_subgraphs(m)]]
        node = out.add_node(inputs=[vmap[id(v)] for v in ins], outputs=[(v.name, v.shape, v.dtype) for v in outs],
                            **describe(key, members, inner))
        for old, nv in zip(outs, node.outputs):
            nv.meta = _deepcopy(old.meta)
            vmap[id(old)] = nv
    out.outputs = [vmap[id(v)] for v in graph.outputs]
    return out


def _times(node: Node, key: tuple[str, ...]) -> int:
    """How many blocks ``node`` stands for inside module ``key``: the product of the counts of the
    rolled modules (``meta["repeat"]``, see :mod:`netdraw.passes.roll`) strictly inside ``key``."""
    t = 1
    prefix = scope_key(key) + "/"
    for module, count in node.meta.get("repeat", ()):
        if module.startswith(prefix):
            t *= count
    return t


def _reads(node: Node) -> list[Value]:
    """Values a node reads from its own graph or above, including through its subgraphs."""
    vals = [v for v in node.inputs if v is not None]
    for sub in node.subgraphs.values():
        for inner in sub.walk():
            vals.extend(v for v in inner.inputs if v is not None and v.graph is node.graph)
    return vals


def _walk_subgraphs(node: Node) -> list[Node]:
    return [x for sub in node.subgraphs.values() for x in sub.walk()]


def _deepcopy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _deepcopy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_deepcopy(v) for v in obj]
    return obj
