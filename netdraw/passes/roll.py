"""Rolling: consecutive identical blocks (BertLayer 0..11) are drawn once, marked ×N.

The rule.  Sibling modules (children of one module, in the order they first run) form a run
when, for each one after the first:

* it has the same *signature* as the one before: the same module type and, op by op in
  execution order, the same op type, attributes, parameter count, output shapes and dtypes,
  position relative to the module (``attn/c_proj``), and wiring (which earlier op of the block,
  which parameter shape, or which outside value each input is);
* it is chained to the one before: each value it reads from outside is either produced by the
  block just before it or is the very same value that block read at the same place (an attention
  mask, rotary tables), and not an output of an earlier block of the run.

A run of two or more is rolled: the first block stays, the others are removed and whatever read
their results reads the first block's matching result.  So a ResNet stage whose first bottleneck
downsamples keeps that block and rolls the rest ("1–5 · Bottleneck ×5").  Runs are found from
the outermost modules inwards.  Works for every source whose nodes carry module scopes (PyTorch
captures, ONNX files with ``/``-separated names or exporter metadata).

Written for each rolled run: ``Graph.meta["modules"][first]["repeat"] = {"count", "last",
"modules"}`` and an entry in ``Graph.meta["roll"]``: ``{"module", "count", "modules", "params"}``
(``params``: all blocks of the run together).  Each op of the kept block gets
``node.meta["repeat"]``, a list of ``[module, count]`` for the rolled modules around it, so a
module collapsed around a rolled run counts its parameters and FLOPs ×N.
"""

from __future__ import annotations

import json
import re
from typing import Any

from netdraw.ir import Graph, Node, Value, scope_key, top_node
from netdraw.passes.collapse import is_hidden

__all__ = ["roll", "MIN_REPEATS"]

MIN_REPEATS = 2


class _Block:
    __slots__ = ("key", "nodes", "sig", "ext", "core")

    def __init__(self, key: tuple[str, ...], nodes: list[Node], mtype: str | None,
                 core: list[Node] | None = None) -> None:
        self.key = key
        self.nodes = nodes
        self.core = core  # a loop iteration: the module's own ops (the rest ran after it, in its parent)
        index = {n: i for i, n in enumerate(nodes)}
        ext: dict[Value, int] = {}
        parts: list[Any] = [mtype]
        for n in nodes:
            ins = []
            for v in n.inputs:
                if v is None:
                    ins.append("_")
                elif v.producer in index:
                    ins.append(f"{index[v.producer]}.{v.producer.outputs.index(v)}")
                elif v.kind == "param" or (v.producer is not None and is_hidden(v.producer)):
                    ins.append(f"p{v.shape}{v.dtype}")
                else:
                    ins.append(f"e{ext.setdefault(v, len(ext))}")
            subs = [(k, [(x.op_type, [o.shape for o in x.outputs]) for x in s.walk()])
                    for k, s in n.subgraphs.items()]
            parts.append((n.op_type, n.domain, n.scope[len(key):], json.dumps(n.attrs, sort_keys=True, default=str),
                          n.params, ins, [(o.shape, o.dtype) for o in n.outputs], subs))
        self.sig = repr(parts)
        self.ext = list(ext)


def roll(graph: Graph, *, min_repeats: int = MIN_REPEATS, twins: dict[str, str] | None = None
         ) -> list[dict[str, Any]]:
    """Roll every run of identical chained sibling modules, in place (see the module docstring);
    returns the ``meta["roll"]`` entries it added.  ``twins``, when given, receives for each
    removed node the name of the node of the kept block it stands for (an interactive view
    unrolls and rolls runs itself)."""
    modules = graph.meta.setdefault("modules", {})
    members: dict[tuple[str, ...], list[Node]] = {}
    for n in graph.nodes:
        for k in range(1, len(n.scope) + 1):
            members.setdefault(n.scope[:k], []).append(n)
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for k in members:  # in the order modules first ran
        children.setdefault(k[:-1], []).append(k)
    added: list[dict[str, Any]] = []
    pending: list[tuple[str, ...]] = [()]
    while pending:
        parent = pending.pop()
        blocks = [_Block(k, members[k], modules.get(scope_key(k), {}).get("type"))
                  for k in children.get(parent, ())]
        runs = _runs(blocks, min_repeats)
        if not runs and len(blocks) >= min_repeats and not graph.meta.get("structure"):
            # a loop over blocks with the parent's own ops between calls (residual = residual - q):
            # an iteration is a block and the ops after it, and identical iterations roll
            looped = _iterations(blocks, parent, graph, modules)
            runs = _runs(looped, min_repeats) if looped else []
        if graph.meta.get("structure"):
            # a checkpoint's structure chains every module in file order: only numbered blocks
            # (layers.0, layers.1...) are repeats there, not q_proj beside k_proj
            runs = [r for r in runs if _numbered(r)]
        for run in runs:
            added.append(_roll_run(graph, run, modules, twins))
        rolled_away = {b.key for run in runs for b in run[1:]}
        pending.extend(reversed([b.key for b in blocks if b.key not in rolled_away]))
    graph.meta.setdefault("roll", []).extend(added)
    return added


def _iterations(blocks: list[_Block], parent: tuple[str, ...], graph: Graph, modules: dict) -> list[_Block] | None:
    """The blocks, each with the parent's ops that run after it and before the next block (the
    last: as many as the first gap had); None when the blocks' calls overlap."""
    pos = {n: i for i, n in enumerate(graph.nodes)}
    spans = [(min(pos[n] for n in b.nodes), max(pos[n] for n in b.nodes)) for b in blocks]
    if any(spans[i][1] >= spans[i + 1][0] for i in range(len(spans) - 1)):
        return None
    direct = [n for n in graph.nodes if n.scope == parent]
    gaps = []
    for i, (_, end) in enumerate(spans):
        nxt = spans[i + 1][0] if i + 1 < len(spans) else None
        gaps.append([n for n in direct if end < pos[n] and (nxt is None or pos[n] < nxt)])
    if not any(gaps[:-1]):
        return None
    gaps[-1] = gaps[-1][:len(gaps[0])]
    return [_Block(b.key, b.nodes + gap, modules.get(scope_key(b.key), {}).get("type"), core=b.nodes)
            for b, gap in zip(blocks, gaps)]


def _runs(blocks: list[_Block], min_repeats: int) -> list[list[_Block]]:
    runs: list[list[_Block]] = []
    run: list[_Block] = []
    for b in blocks:
        if run and _follows(run, b):
            run.append(b)
            continue
        if len(run) >= min_repeats:
            runs.append(run)
        run = [b]
    if len(run) >= min_repeats:
        runs.append(run)
    return runs


def _numbered(run: list[_Block]) -> bool:
    stems = {re.sub(r"\d+$", "#", b.key[-1]) for b in run}
    return len(stems) == 1 and next(iter(stems)).endswith("#")


def _follows(run: list[_Block], b: _Block) -> bool:
    prev = run[-1]
    if b.sig != prev.sig or len(b.ext) != len(prev.ext):
        return False
    prev_nodes = set(prev.nodes)
    earlier = {n for blk in run[:-1] for n in blk.nodes}
    # an iteration of a loop must feed the next one's module (residual = residual - q), not only an
    # accumulator beside it: branches summed in parallel are not a chain
    core_reads = None if b.core is None else {id(v) for n in b.core for v in n.inputs if v is not None}
    chained = False
    for mine, theirs in zip(b.ext, prev.ext):
        if mine.producer is not None and mine.producer in prev_nodes:
            if core_reads is None or id(mine) in core_reads:
                chained = True
        elif mine is not theirs or (mine.producer is not None and mine.producer in earlier):
            return False
    return chained


def _roll_run(graph: Graph, run: list[_Block], modules: dict, twins: dict[str, str] | None) -> dict[str, Any]:
    first = run[0]
    # an output a rolled-away block made becomes its twin in the kept block: keep the name the model gave it
    graph.meta.setdefault("output_names", [v.name for v in graph.outputs])
    if twins is not None:
        for b in run[1:]:
            twins.update((n.name, t.name) for n, t in zip(b.nodes, first.nodes))
    removed = [n for b in run[1:] for n in b.nodes]
    removed_set = set(removed)
    for b in run[1:]:
        for i, n in enumerate(b.nodes):
            for j, v in enumerate(n.outputs):
                twin = first.nodes[i].outputs[j]
                for u in v.users:
                    if top_node(u, graph) in removed_set:
                        continue
                    for k, x in enumerate(u.inputs):
                        if x is v:
                            u.graph.set_input(u, k, twin)
                graph.outputs = [twin if x is v else x for x in graph.outputs]
    params = sum(n.params for b in run for n in b.nodes)
    graph.remove_nodes(removed)
    key = scope_key(first.key)
    entry = {"module": key, "count": len(run), "modules": [scope_key(b.key) for b in run], "params": params}
    for n in first.nodes:
        n.meta.setdefault("repeat", []).append([key, len(run)])
    info = modules.setdefault(key, {})
    info["repeat"] = {"count": len(run), "last": run[-1].key[-1], "modules": entry["modules"]}
    return entry
