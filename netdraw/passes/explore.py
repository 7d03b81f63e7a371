"""What an interactive view needs to open and close any part of a model: every op, the module
tree, the fold groups and the rolled runs, and which modules the static diagram shows open.

The interactive page (:mod:`netdraw.renderers.html`) computes each view itself from this: an op
is drawn as the outermost *closed* module around it, else as its fold group when that is folded,
else as itself; an op of a rolled-away block (``layer.1`` ... ``layer.11`` while ``layer.0–11 ×12``
is rolled) is drawn as its twin in the kept block.  So a view is a choice of three sets (open
modules, unrolled runs, unfolded groups), and every edge of the op graph becomes an edge between
what its two ends are drawn as: a skip connection into a closed module ends at that module.

The ops are those of the graph after ``keep``/``hide`` (steps 1-2 of
:func:`netdraw.passes.pipeline.candidates`), before folding and rolling; the folds and runs are
found as the diagram finds them (same rules, same order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netdraw.ir import Graph, Node, scope_key
from netdraw.passes.collapse import is_hidden
from netdraw.passes.fold import fold as fold_pass
from netdraw.passes.pipeline import check_prepare, selected
from netdraw.passes.roll import roll as roll_pass

__all__ = ["Exploration", "Module", "Fold", "Run", "explore", "initially_open"]


@dataclass
class Module:
    """A module of the tree: ``scope`` its path, ``parent`` the index of the module around it
    (-1: the model), ``ops`` how many drawn ops it holds (all its blocks), ``params`` and
    ``flops`` their totals, ``own_params`` / ``own_flops`` those of this block alone."""

    scope: tuple[str, ...]
    parent: int
    type: str | None
    path: str
    ops: int = 0
    synthetic: bool = False  # a run of consecutive parts grouped so no level shows too many
    span: tuple[str, str, int] = ("", "", 0)  # a synthetic module's first and last part and how many
    params: int = 0
    flops: int = 0
    has_flops: bool = False
    overlay: float | None = None  # the sum of its ops' --color-by values


@dataclass
class Fold:
    """A folded chain: the node the diagram draws (in :attr:`Exploration.folded`) and its ops."""

    node: Node
    ops: list[int]


@dataclass
class Run:
    """A run of identical blocks: ``modules`` (indices; the first is kept), and for each op of
    the other blocks the index of its twin in the first (:attr:`Exploration.twin`)."""

    modules: list[int]
    count: int


@dataclass
class Exploration:
    graph: Graph                      # the ops (after keep/hide), in topological order
    folded: Graph                     # the same after folding: the nodes fold groups draw
    modules: list[Module]
    module_of: list[int]              # per op: the index of its innermost module (-1: none)
    hidden: list[bool]                # per op: folded into its users (constants...)
    folds: list[Fold]
    fold_of: list[int]                # per op: its fold group (-1: none)
    runs: list[Run]
    run_of: list[int]                 # per op: the run it is a rolled-away copy in (-1: none)
    twin: list[int]                   # per op: its twin in the kept block (-1: none)
    options: dict[str, Any] = field(default_factory=dict)


def explore(graph: Graph, **options: Any) -> Exploration:
    """The structure of ``graph`` for an interactive view, with :func:`netdraw.passes.pipeline.prepare`'s
    options (``depth`` and ``max_nodes`` are the page's to use; ``fold``, ``roll``, ``keep``,
    ``hide`` apply here)."""
    opts = check_prepare(options)
    base = selected(graph, opts)
    nodes = list(base.nodes)
    index = {n.name: i for i, n in enumerate(nodes)}
    hidden = [is_hidden(n) for n in nodes]
    folded = base.copy()
    fold_pass(folded, opts["fold"])
    folds: list[Fold] = []
    fold_of = [-1] * len(nodes)
    for n in folded.nodes:
        members = n.meta.get("fold", {}).get("nodes")
        if members and all(m in index for m in members) and is_hidden(n):
            for m in members:  # a fold of ops on stored tensors only (index plumbing on a buffer)
                hidden[index[m]] = True
        elif members and all(m in index for m in members):
            for m in members:
                fold_of[index[m]] = len(folds)
            folds.append(Fold(n, [index[m] for m in members]))

    info = base.meta.get("modules", {})
    modules: list[Module] = []
    mindex: dict[tuple[str, ...], int] = {}

    def module(scope: tuple[str, ...]) -> int:
        if not scope:
            return -1
        k = mindex.get(scope)
        if k is None:
            parent = module(scope[:-1])
            meta = info.get(scope_key(scope), {})
            k = mindex[scope] = len(modules)
            modules.append(Module(scope, parent, meta.get("type"), meta.get("path") or ".".join(scope)))
        return k

    module_of = [module(n.scope) for n in nodes]
    runs: list[Run] = []
    run_of = [-1] * len(nodes)
    twin = [-1] * len(nodes)
    if opts["roll"]:
        rolled = folded.copy()
        pairs: dict[str, str] = {}
        entries = roll_pass(rolled, twins=pairs)
        by_name = {n.name: n for n in folded.nodes}
        members_of = {n.name: n.meta.get("fold", {}).get("nodes") or [n.name] for n in folded.nodes}
        run_by_module: dict[str, int] = {}
        by_key = {scope_key(m.scope): i for i, m in enumerate(modules)}
        for e in entries:
            mods = [by_key[k] for k in e["modules"]]
            run_by_module.update((k, len(runs)) for k in e["modules"][1:])
            runs.append(Run(mods, e["count"]))
        for gone, kept in pairs.items():
            node = by_name[gone]
            for a, b in zip(members_of[gone], members_of[kept]):
                i = index[a]
                twin[i] = index[b]
                run_of[i] = _run_of(node, run_by_module)
    copies = {m for r in runs for m in r.modules[1:]}
    _chunk(modules, module_of, [h or r >= 0 for h, r in zip(hidden, run_of)], fold_of, opts["max_nodes"],
           [n.name for n in nodes], copies)
    for n, m, h in zip(nodes, module_of, hidden):
        flops = n.meta.get("flops")
        value = n.meta.get("overlay")
        while m >= 0:
            mod = modules[m]
            mod.params += n.params
            if value is not None:
                mod.overlay = (mod.overlay or 0.0) + value
            if not h:
                mod.ops += 1
            if flops is not None:
                mod.flops += flops
                mod.has_flops = True
            m = mod.parent

    return Exploration(base, folded, modules, module_of, hidden, folds, fold_of, runs, run_of, twin, opts)


def _part_name(kind: str, idx: int, modules: list[Module], module_of: list[int], fold_ops: dict[int, list[int]],
               names: list[str]) -> str:
    if kind == "m":
        return modules[idx].span[0] if modules[idx].synthetic else modules[idx].scope[-1]
    i = fold_ops[idx][0] if kind == "f" else idx
    return names[i].rsplit("/", 1)[-1]


def _chunk(modules: list[Module], module_of: list[int], hidden: list[bool], fold_of: list[int], size: int,
           names: list[str], copies: set[int]) -> None:
    """Where a module (or the model) holds more than ``size`` parts (ops, fold groups, modules),
    group consecutive parts into synthetic modules of ``size`` (``ops 1–60``), again and again
    until every level shows at most ``size``: a flat graph of 10,000 ops opens as a few groups."""
    size = max(2, size)
    parts: dict[int, dict[tuple[str, int], None]] = {}
    for i, m in enumerate(module_of):
        if hidden[i]:
            continue
        part = ("f", fold_of[i]) if fold_of[i] >= 0 else ("o", i)
        parts.setdefault(m, {})[part] = None
        child, up = m, modules[m].parent if m >= 0 else -1
        while child >= 0:  # the module is a part of its parent (a rolled-away block is not drawn)
            if child not in copies:
                parts.setdefault(up, {})[("m", child)] = None
            child, up = up, modules[up].parent if up >= 0 else -1
    fold_ops: dict[int, list[int]] = {}
    for i, f in enumerate(fold_of):
        if f >= 0:
            fold_ops.setdefault(f, []).append(i)
    for container, members in list(parts.items()):
        # each unit: (kind, index, first part, last part), parts numbered from 1 in running order
        units = [(kind, idx, n, n, _part_name(kind, idx, modules, module_of, fold_ops, names))
                 for n, (kind, idx) in enumerate(members, 1)]
        base = modules[container].scope if container >= 0 else ()
        while len(units) > size:
            groups = [units[k:k + size] for k in range(0, len(units), size)]
            if len(groups) > 1 and len(groups[-1]) == 1:  # never a group of one (its range would repeat)
                groups[-2].extend(groups.pop())
            units = []
            for group in groups:
                lo, hi = group[0][2], group[-1][3]
                name = f"{lo}–{hi}"
                k = len(modules)
                modules.append(Module(base + (name,), container, "parts", ".".join(base + (name,)), synthetic=True,
                                      span=(group[0][4], group[-1][4], hi - lo + 1)))
                for kind, idx, _, _, _ in group:
                    if kind == "m":
                        modules[idx].parent = k
                    elif kind == "o":
                        module_of[idx] = k
                    else:
                        for i in fold_ops[idx]:
                            module_of[i] = k
                units.append(("m", k, lo, hi, group[0][4] if len(group) == 1 else f"{group[0][4]}"))


def _run_of(node: Node, run_by_module: dict[str, int]) -> int:
    """The run whose rolled-away block ``node`` sits in: its outermost module that is a copy."""
    for k in range(1, len(node.scope) + 1):
        r = run_by_module.get(scope_key(node.scope[:k]))
        if r is not None:
            return r
    return -1


def initially_open(x: Exploration, drawn: Graph) -> list[int]:
    """The modules (indices) the diagram ``drawn`` (a level of
    :func:`netdraw.passes.pipeline.candidates`) shows open: the modules around every node it
    draws, and not the module a collapsed node stands for."""
    index = {m.scope: i for i, m in enumerate(x.modules)}
    opened: set[int] = set()
    for n in drawn.nodes:
        scope = n.scope[:-1] if n.meta.get("group") else n.scope
        for k in range(1, len(scope) + 1):
            i = index.get(scope[:k])
            if i is not None:
                opened.add(i)
    return sorted(opened)
