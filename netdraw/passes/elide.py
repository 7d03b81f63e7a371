"""Big graphs drawn within a node budget where modules cannot do it: parallel copies grouped,
long chains elided, and as a last resort runs of ops merged.

A graph without a module hierarchy (many ONNX files, a generated net) cannot be collapsed by
depth: a 50,000-op chain or a 5,000-wide fan-in would be laid out op by op, for minutes.  Once
collapsing has done what it can, :func:`elide` makes the drawn graph fit ``max_nodes``, in this
order, each step only while the graph is still over the budget:

1. **parallel copies**: drawn nodes of one op type, in one module, that read the same nodes and
   feed the same nodes (5,000 branches into a ``Sum``) become one node ``Relu ×5,000``;
2. **chains**: a run of nodes each feeding only the next keeps its first and last few nodes, and
   the middle becomes one node ``… 9,950 ops …`` with its op counts;
3. **runs**: consecutive drawn nodes in the graph's (topological) order are merged into one node
   per run, sized to fit the budget; a chain of runs then keeps only its first and last two.

Each new node records ``meta["elide"] = {"kind": "parallel"|"chain"|"run", "nodes": n, "ops":
{op type: count}}`` (see :mod:`netdraw.ir`), and the graph ``meta["elided"] = {"nodes": ops
hidden in them}``.  Everything here is linear in the graph's size.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from netdraw.passes.overlay import summed
from netdraw.ir import Graph, Node, top_node
from netdraw.passes.collapse import contract, is_hidden, order_units

__all__ = ["elide", "ELIDE_KINDS"]

ELIDE_KINDS = ("parallel", "chain", "run")
#: nodes kept at each end of an elided chain, at most
_CHAIN_ENDS = 2
#: a group of parallel copies is merged from this size on
_MIN_PARALLEL = 3


def elide(graph: Graph, max_nodes: int) -> Graph:
    """``graph`` itself when it draws at most ``max_nodes`` nodes, else a new graph that does
    (as far as runs can take it: runs stay inside one module)."""
    drawn = _drawn(graph)
    if len(drawn) <= max_nodes:
        return graph
    hidden_before = sum(_count(n) for n in drawn)
    g = graph
    for step in (_parallel, _chains, _runs):
        groups = step(g, drawn, max_nodes)
        if groups:
            g = _apply(g, groups)
            drawn = _drawn(g)
        if len(drawn) <= max_nodes:
            break
    if step is _runs:
        # a sequence of runs reads no better than its ends: "… 9,400 ops …" between them
        groups = _chains(g, drawn, 0, ends=_CHAIN_ENDS)
        if groups:
            g = _apply(g, groups)
            drawn = _drawn(g)
    if g is not graph:
        g.meta["elided"] = {"nodes": hidden_before - sum(_count(n) for n in drawn if "elide" not in n.meta)}
    return g


def _drawn(g: Graph) -> list[Node]:
    return [n for n in g.nodes if not is_hidden(n)]


def _count(n: Node) -> int:
    """How many ops a node stands for."""
    if "elide" in n.meta:
        return int(n.meta["elide"]["nodes"])
    if "group" in n.meta:
        return int(n.meta["group"].get("total", n.meta["group"]["nodes"]))
    members = (n.meta.get("fold") or {}).get("nodes", 1)
    return len(members) if isinstance(members, list) else int(members)


def _places(drawn: list[Node]) -> dict[Node, tuple[str, ...]]:
    """The module box each node is drawn in: a collapsed module sits in its parent, and so does a
    module holding a single op (drawn as that op, named after the module)."""
    ops_in = Counter(n.scope for n in drawn if not n.meta.get("group"))
    return {n: n.scope[:-1] if n.meta.get("group") or (n.scope and ops_in[n.scope] == 1) else n.scope
            for n in drawn}


def _preds(n: Node, g: Graph) -> tuple[str, ...]:
    """What a node reads from: drawn producers' names, or inputs' names (weights left out)."""
    out = []
    for v in n.inputs:
        if v is None or v.kind == "param":
            continue
        p = v.producer
        if p is None:
            out.append("i:" + v.name)
        elif not is_hidden(p):
            out.append("n:" + p.name)
    return tuple(sorted(set(out)))


def _succs(n: Node, g: Graph, outputs: set) -> tuple[str, ...]:
    out = set()
    for v in n.outputs:
        if v in outputs:
            out.add("o:" + v.name)
        for u in v.users:
            out.add("n:" + top_node(u, g).name)
    return tuple(sorted(out))


def _parallel(g: Graph, drawn: list[Node], max_nodes: int) -> list[tuple[str, list[Node]]]:
    outputs = set(g.outputs)
    place = _places(drawn)
    by_key: dict[tuple, list[Node]] = {}
    for n in drawn:
        if n.subgraphs:
            continue
        key = (place[n], n.op_type, _preds(n, g), _succs(n, g, outputs))
        by_key.setdefault(key, []).append(n)
    return [("parallel", members) for members in by_key.values() if len(members) >= _MIN_PARALLEL]


def _chains(g: Graph, drawn: list[Node], max_nodes: int, ends: int | None = None) -> list[tuple[str, list[Node]]]:
    """The middles of maximal chains, as few as are needed (longest first), keeping ``ends``
    nodes at each end (the most that still fits the budget when not given)."""
    outputs = set(g.outputs)
    place = _places(drawn)
    drawn_set = set(drawn)
    by_name = {n.name: n for n in g.nodes}
    single: dict[Node, bool] = {}  # reads one drawn node (asked once per node: a Sum of 5,000 is asked often)
    nxt: dict[Node, Node] = {}
    has_prev: set[Node] = set()
    for n in drawn:
        succ = _succs(n, g, outputs)
        if len(succ) != 1 or not succ[0].startswith("n:"):
            continue
        m = by_name[succ[0][2:]]
        if m not in drawn_set or place[m] != place[n] or m.subgraphs or n.subgraphs:
            continue
        if m not in single:
            single[m] = len(_preds(m, g)) == 1
        if not single[m]:
            continue
        nxt[n] = m
        has_prev.add(m)
    chains = []
    for n in drawn:
        if n in nxt and n not in has_prev:
            chain = [n]
            while chain[-1] in nxt:
                chain.append(nxt[chain[-1]])
            chains.append(chain)
    chains.sort(key=len, reverse=True)
    excess = len(drawn) - max_nodes
    groups = []
    for keep in ([ends] if ends is not None else range(_CHAIN_ENDS, -1, -1)):
        groups = []
        saved = 0
        for chain in chains:
            middle = chain[keep:len(chain) - keep]
            if len(middle) < 2:
                continue
            groups.append(("chain", middle))
            saved += len(middle) - 1
            if saved >= excess:
                return groups
    return groups  # every chain elided whole: the runs step does the rest


def _runs(g: Graph, drawn: list[Node], max_nodes: int) -> list[tuple[str, list[Node]]]:
    """Consecutive drawn nodes of one module, ``size`` at a time, so about ``max_nodes`` remain."""
    size = max(2, -(-len(drawn) // max(1, max_nodes - 2)))
    place = _places(drawn)
    groups: list[tuple[str, list[Node]]] = []
    run: list[Node] = []
    for n in drawn:
        if run and (place[run[0]] != place[n] or len(run) >= size or n.subgraphs or run[0].subgraphs):
            if len(run) >= 2:
                groups.append(("run", run))
            run = []
        run.append(n)
    if len(run) >= 2:
        groups.append(("run", run))
    return groups


def _apply(g: Graph, groups: list[tuple[str, list[Node]]]) -> Graph:
    key_of: dict[Node, tuple[str, int]] = {}
    kinds: dict[tuple[str, int], str] = {}
    for i, (kind, members) in enumerate(groups):
        for m in members:
            key_of[m] = ("elide", i)
        kinds[("elide", i)] = kind
    units = order_units(g.nodes, [key_of.get(n) for n in g.nodes])
    place = _places([n for n in g.nodes if not is_hidden(n)])

    def describe(key: Any, members: list[Node], inner: list[Node]) -> dict[str, Any]:
        ops: Counter = Counter()
        for m in members:
            sub = m.meta.get("elide") or m.meta.get("group")
            if sub and sub.get("ops"):
                scale = _count(m) / max(1, sum(sub["ops"].values()))  # rolled blocks count ×N
                ops.update({op: round(c * scale) for op, c in sub["ops"].items()})
            else:
                ops[m.op_type] += 1
        total = sum(_count(m) for m in members)
        kind = kinds[key]
        meta: dict[str, Any] = {"elide": {"kind": kind, "nodes": total, "ops": dict(ops.most_common())}}
        meta.update(summed(members))
        scope = place[members[0]]
        op_type = members[0].op_type if kind == "parallel" else "…"
        return dict(op_type=op_type, name=f"{members[0].name}…{members[-1].name}", scope=scope,
                    params=sum(m.params for m in members), meta=meta)

    return contract(g, units, describe)
