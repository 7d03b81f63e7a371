"""Filters by module path or type: hide some parts of a graph, keep only others.

A pattern is a shell-style glob (``*``, ``?``, ``[..]``; ``*`` crosses dots) matched against

* a module's path, dotted as in PyTorch (``encoder.layer.0.attention``) or with slashes as in the
  IR's scopes (``encoder/layer.0/attention``), case-sensitive;
* a module's class name (``Dropout``, ``BertSelfAttention``) or qualified class name, and an
  op's type (``dropout``, ``Gather``), case-insensitive.

An op node matches when its own op type matches or any module that encloses it does.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Iterable, Sequence

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, scope_key

__all__ = ["Selector", "hide", "keep", "io_groups"]


class Selector:
    """Compiled patterns; ``module(scope)`` and ``node(node)`` say whether they match."""

    def __init__(self, patterns: Iterable[str] | str, graph: Graph) -> None:
        if isinstance(patterns, str):
            patterns = [patterns]
        self.patterns = [p.strip() for p in patterns]
        for p in self.patterns:
            if not p:
                raise NetdrawError("empty module pattern; give a module path, a glob or a type name")
        self.lower = [p.lower() for p in self.patterns]
        self.modules = graph.meta.get("modules", {})
        self._cache: dict[tuple[str, ...], bool] = {}

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def module(self, scope: tuple[str, ...]) -> bool:
        """Does the module at ``scope`` match (by path or type)?"""
        hit = self._cache.get(scope)
        if hit is None:
            key = scope_key(scope)
            info = self.modules.get(key, {})
            paths = {key, info.get("path") or ".".join(scope)}
            mtype = info.get("type") or ""
            types = {mtype.lower(), mtype.rsplit(".", 1)[-1].lower()} - {""}
            hit = any(fnmatchcase(p, pat) for pat in self.patterns for p in paths) or \
                any(fnmatchcase(t, pat) for pat in self.lower for t in types)
            self._cache[scope] = hit
        return hit

    def check_used(self, option: str, graph: Graph) -> None:
        """Raise a one-line error naming the first pattern that matches nothing in ``graph``
        (a typo would otherwise change nothing, silently)."""
        for pat in self.patterns:
            one = Selector([pat], graph)
            if not any(one.node(n) for n in graph.nodes):
                raise NetdrawError(f"--{option} {pat!r} matches no module or op of {graph.name!r}")

    def node(self, node: Node) -> bool:
        """Does ``node`` match: its op type, or any module around it?"""
        op = node.op_type.lower()
        if any(fnmatchcase(op, pat) for pat in self.lower):
            return True
        return any(self.module(node.scope[:k]) for k in range(1, len(node.scope) + 1))


def _bypass(graph: Graph, doomed: set[Node]) -> int:
    """Bypass ``doomed`` nodes, keeping those whose removal would leave a graph output unfed."""
    names = [v.name for v in graph.outputs]
    removed = graph.bypass(doomed, keep_feeding=True)
    for v, name in zip(graph.outputs, names):  # an output keeps the name the model gives it
        if v.name != name and v.producer is not None and graph.outputs.count(v) == 1:
            graph.rename_value(v, name)
    return len(removed)


def hide(graph: Graph, patterns: Iterable[str] | str) -> int:
    """Remove the nodes that match, in place, reconnecting their users to their inputs;
    returns how many were removed.  A node that alone feeds a graph output stays.  The outputs a
    hidden node makes go with it while other outputs remain (``--hide Accuracy`` leaves no
    ``accuracy`` output behind fed by the scores).  A pattern that matches nothing is an error
    naming it."""
    sel = Selector(patterns, graph)
    if not sel:
        return 0
    sel.check_used("hide", graph)
    doomed = {n for n in graph.nodes if sel.node(n)}
    kept = [v for v in graph.outputs if v.producer not in doomed]
    if kept and len(kept) < len(graph.outputs):
        graph.outputs = kept
    return _bypass(graph, doomed)


def keep(graph: Graph, patterns: Iterable[str] | str) -> int:
    """Remove every node that does not match, in place (see :func:`hide`); returns the count."""
    sel = Selector(patterns, graph)
    if not sel:
        return 0
    sel.check_used("keep", graph)
    return _bypass(graph, {n for n in graph.nodes if not sel.node(n)})


def io_groups(names: list[str], expand: Sequence[str] = ()) -> dict[str, str]:
    """{output name: the structure it comes from} for outputs drawn as one box: two or more whose
    paths start alike (``cache.0.keys``, ``cache.1.values`` -> ``cache``), unless ``expand`` (the
    ``--expand`` patterns) names that structure."""
    from fnmatch import fnmatchcase

    heads: dict[str, list[str]] = {}
    for name in names:
        head, dot, _ = name.partition(".")
        if dot:
            heads.setdefault(head, []).append(name)
    out = {}
    for head, members in heads.items():
        if len(members) >= 2 and not any(fnmatchcase(head, p) for p in expand):
            out.update((m, head) for m in members)
    return out
