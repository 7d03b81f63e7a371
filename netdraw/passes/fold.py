"""Pattern folding: chains such as Conv > BatchNorm > ReLU become one node labelled Conv-BN-ReLU."""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, IRError, Node
from netdraw.ops import norm_op, op_aliases, short_name
from netdraw.passes.overlay import summed

__all__ = ["FoldRule", "DEFAULT_RULES", "parse_rules", "fold", "fold_index_ops"]

#: the rule name that turns on :func:`fold_index_ops`
INDEX_RULE = "index ops"

#: Rules tried in this order at every node (longer ones first).  ``Act`` is any activation.
DEFAULT_RULES: tuple[str, ...] = (
    INDEX_RULE,
    "Conv > BN > Act",
    "Conv > BN",
    "Conv > Act",
    "ConvTranspose > BN > Act",
    "BN > Act",
    "Linear > Act",
    "Linear > Dropout",
    "Add > LN",
    "Add > Act",
    "Softmax > Dropout",
)


class FoldRule:
    """A chain of op patterns; each step is ``A`` or ``A|B``, an alias (``conv``, ``bn``, ``act``,
    see :func:`netdraw.ops.op_aliases`) or an op type compared case-insensitively."""

    __slots__ = ("text", "steps")

    def __init__(self, text: str) -> None:
        if str(text).strip().lower() in ("index", "index ops"):  # see fold_index_ops
            self.text, self.steps = INDEX_RULE, ()
            return
        parts = [p.strip() for p in str(text).split(">")]
        if len(parts) < 2 or any(not p for p in parts):
            raise NetdrawError(f"invalid fold rule {text!r}; write two or more ops joined by '>', "
                               f"e.g. 'Conv > BN > ReLU'")
        steps: list[frozenset[str]] = []
        for part in parts:
            ops: set[str] = set()
            for alt in part.split("|"):
                alt = alt.strip()
                if not alt:
                    raise NetdrawError(f"invalid fold rule {text!r}: an empty alternative in {part!r}")
                alias = op_aliases(alt)
                ops |= alias[1] if alias else {norm_op(alt)}
            steps.append(frozenset(ops))
        self.text = " > ".join(parts)
        self.steps = tuple(steps)

    def __repr__(self) -> str:
        return f"FoldRule({self.text!r})"

    def match(self, node: Node, claimed: set[Node]) -> list[Node] | None:
        """The chain starting at ``node``, or None."""
        chain = [node]
        if norm_op(node.op_type) not in self.steps[0]:
            return None
        for step in self.steps[1:]:
            last = chain[-1]
            if len(last.outputs) != 1 or last.outputs[0] in last.graph.outputs:
                return None
            users = last.outputs[0].users
            if len(users) != 1:
                return None
            nxt = users[0]
            if nxt.graph is not node.graph or nxt in claimed or nxt.subgraphs or nxt.meta.get("fold") \
                    or norm_op(nxt.op_type) not in step:
                return None
            chain.append(nxt)
        return chain


def parse_rules(rules: Iterable[str | FoldRule] | str | None) -> list[FoldRule]:
    """Rules from text; the word ``default`` stands for :data:`DEFAULT_RULES`, ``none`` for no rules,
    ``index`` for :func:`fold_index_ops`."""
    if rules is None:
        return [FoldRule(r) for r in DEFAULT_RULES]
    if isinstance(rules, (str, FoldRule)):
        rules = [rules]
    out: list[FoldRule] = []
    for r in rules:
        if isinstance(r, FoldRule):
            out.append(r)
        elif r.strip().lower() == "default":
            out.extend(FoldRule(x) for x in DEFAULT_RULES)
        elif r.strip().lower() == "none":
            continue
        else:
            out.append(FoldRule(r))
    return out


def _common_scope(chain: Sequence[Node], ops_in: Counter) -> tuple[str, ...] | None:
    """The module the chain lives in; None unless each member sits in it or alone in a child of it
    (a Conv2d module holding just the conv)."""
    prefix = chain[0].scope
    for n in chain[1:]:
        k = 0
        while k < min(len(prefix), len(n.scope)) and prefix[k] == n.scope[k]:
            k += 1
        prefix = prefix[:k]
    for n in chain:
        if len(n.scope) > len(prefix) + 1 or (len(n.scope) == len(prefix) + 1 and ops_in[n.scope] != 1):
            return None
    return prefix


def fold(graph: Graph, rules: Iterable[str | FoldRule] | str | None = None) -> int:
    """Fold every chain that a rule matches, in place; returns how many were folded.

    A chain is folded when each member's single output is used only by the next member, the
    members sit in one module (or in its leaf children), and folding keeps the graph acyclic.
    The folded node is named after the first member, takes its attributes (a conv's kernel and
    stride stay on the label) and the members' total ``params``, and records
    ``meta["fold"] = {"rule", "ops", "nodes"}`` (and ``"module"``, the name of the module holding the
    first op alone, such as ``gate_proj``); ``meta["flops"]`` is summed when the members have it.
    Subgraphs are folded too.
    """
    parsed = parse_rules(rules)
    if not parsed:
        return 0
    chains = [r for r in parsed if r.steps]
    count = 0
    for g in [graph] + [s for n in graph.walk() for s in n.subgraphs.values()]:
        if len(chains) < len(parsed):
            count += fold_index_ops(g)
        count += _fold_graph(g, chains)
    return count


def _fold_graph(graph: Graph, rules: list[FoldRule]) -> int:
    ops_in = Counter(n.scope[:k] for n in graph.nodes for k in range(1, len(n.scope) + 1))
    claimed: set[Node] = set()
    chains: list[tuple[FoldRule, list[Node], tuple[str, ...]]] = []
    for n in graph.nodes:
        if n in claimed or n.subgraphs or n.meta.get("fold") or n.meta.get("group"):
            continue
        for rule in rules:
            chain = rule.match(n, claimed)
            if chain is None:
                continue
            scope = _common_scope(chain, ops_in)
            if scope is None:
                continue
            claimed.update(chain)
            chains.append((rule, chain, scope))
            break
    groups = []
    for rule, chain, scope in chains:
        ops = [m.op_type for m in chain]
        label = "-".join(short_name(op) for op in ops)
        meta: dict = {"fold": {"rule": rule.text, "ops": ops, "nodes": [m.name for m in chain]}}
        if len(chain[0].scope) > len(scope):  # the chain starts with a module's only op: keep its name
            meta["fold"]["module"] = chain[0].scope[-1]
        meta.update(summed(chain))
        groups.append((chain, dict(op_type=label, name=chain[0].name, domain=chain[0].domain, attrs=chain[0].attrs,
                                   scope=scope, params=sum(m.params for m in chain), meta=meta)))
    # one pass for all chains (a chain that would make a cycle is left as it is)
    return sum(1 for r in graph.fuse_many(groups) if not isinstance(r, IRError))


_FLOAT_PREFIXES = ("float", "bfloat", "complex")


def _is_index_value(v) -> bool:
    return v.dtype is not None and not v.dtype.startswith(_FLOAT_PREFIXES)


def fold_index_ops(graph: Graph, min_ops: int = 3) -> int:
    """Fold bookkeeping on integers and booleans (position ids, attention masks built from
    ``arange``/``ge``/``and``...) into one node per connected group of such ops in one module.

    An op belongs to a group when all its outputs are integer or boolean and it reads no
    floating-point activation.  A group of ``min_ops`` or more becomes a node ``mask`` (some
    output is boolean) or ``indices``, with ``meta["fold"] = {"rule": "index ops", ...}``.
    Returns how many groups were folded.
    """
    pos = {n: i for i, n in enumerate(graph.nodes)}
    member = set()
    for n in graph.nodes:
        if n.subgraphs or n.meta.get("group") or n.meta.get("fold") or not n.outputs:
            continue
        if all(_is_index_value(v) for v in n.outputs) and not any(
                v is not None and v.kind != "param" and not _is_index_value(v) for v in n.inputs):
            member.add(n)
    # connected groups (through values, within one scope)
    parent = {n: n for n in member}

    def find(n):
        while parent[n] is not n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for n in member:
        for v in n.inputs:
            p = v.producer if v is not None else None
            if p in member and p.scope == n.scope:
                a, b = find(p), find(n)
                if a is not b:
                    parent[max(a, b, key=pos.__getitem__)] = min(a, b, key=pos.__getitem__)
    groups: dict[Node, list[Node]] = {}
    for n in sorted(member, key=pos.__getitem__):
        groups.setdefault(find(n), []).append(n)
    done = 0
    for nodes in groups.values():
        if len(nodes) < min_ops:
            continue
        while len(nodes) >= min_ops:
            try:
                _fuse_index_group(graph, nodes)
                done += 1
                break
            except IRError:
                # an op whose result is also read by a node placed before the group ends (input_ids
                # viewed once for the embeddings and once for the mask) stays out of the group
                pos = {n: i for i, n in enumerate(graph.nodes)}
                inside = set(nodes)
                end = pos[nodes[-1]]
                keep = [m for m in nodes if not any(
                    u not in inside and u.graph is graph and pos[u] < end for v in m.outputs for u in v.users)]
                if len(keep) == len(nodes):
                    break
                nodes = keep
    return done


def _fuse_index_group(graph: Graph, nodes: list[Node]) -> Node:
    outs = [v for m in nodes for v in m.outputs]
    label = "mask" if any(v.dtype == "bool" for v in outs) else "indices"
    meta = {"fold": {"rule": INDEX_RULE, "ops": [m.op_type for m in nodes], "nodes": [m.name for m in nodes]}}
    return graph.fuse(nodes, label, name=f"{nodes[-1].name}:{label}", scope=nodes[0].scope, meta=meta)
