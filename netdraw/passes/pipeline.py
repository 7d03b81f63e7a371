"""The passes a diagram runs, in order: FLOPs, keep/hide, fold, roll, then collapse."""

from __future__ import annotations

from typing import Any, Iterable

from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.passes.collapse import DEFAULT_MAX_NODES, auto_depth, collapse, max_depth
from netdraw.passes.flops import count_flops
from netdraw.passes.fold import fold as fold_pass
from netdraw.passes.fold import parse_rules
from netdraw.passes.roll import roll as roll_pass
from netdraw.passes.select import Selector, hide as hide_pass, keep as keep_pass

__all__ = ["prepare", "parse_depth", "PREPARE_OPTIONS"]

#: the options :func:`prepare` takes, with their defaults
PREPARE_OPTIONS: dict[str, Any] = {
    "depth": "auto",
    "max_nodes": DEFAULT_MAX_NODES,
    "fold": None,
    "roll": True,
    "hide": (),
    "keep": (),
    "expand": (),
}


def parse_depth(depth: Any) -> int | str | None:
    """``"auto"``, ``"max"``/``None`` (every op) or an int >= 1."""
    if depth is None or depth == "max":
        return None
    if depth == "auto":
        return "auto"
    try:
        d = int(depth)
    except (TypeError, ValueError):
        raise NetdrawError(f"invalid depth {depth!r}; valid: auto, max or an integer >= 1") from None
    if d < 1 or str(d) != str(depth).strip():
        raise NetdrawError(f"invalid depth {depth!r}; valid: auto, max or an integer >= 1")
    return d


def _patterns(name: str, value: Iterable[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        out = list(value)
    except TypeError:
        raise NetdrawError(f"invalid {name} {value!r}; valid: a pattern or a list of patterns") from None
    if not all(isinstance(p, str) for p in out):
        raise NetdrawError(f"invalid {name} {value!r}; valid: a pattern or a list of patterns")
    return out


def prepare(graph: Graph, **options: Any) -> Graph:
    """A new graph as a diagram draws it; ``graph`` is left as it was.

    1. ``meta["flops"]`` (MACs) on every op that has a count;
    2. ``keep``: only the modules/ops matching these patterns; ``hide``: without those
       (see :mod:`netdraw.passes.select`);
    3. ``fold``: pattern rules (None = the defaults, ``"none"`` = off; see :mod:`netdraw.passes.fold`);
    4. ``roll``: repeated blocks drawn once with ×N (see :mod:`netdraw.passes.roll`);
    5. collapse to ``depth`` (an int, ``"max"``/None for every op, ``"auto"``: the deepest level
       with at most ``max_nodes`` nodes), opening the modules ``expand`` matches one level further.

    ``meta["collapse"]`` records ``{"depth", "auto"}``.
    """
    unknown = sorted(set(options) - set(PREPARE_OPTIONS))
    if unknown:
        raise NetdrawError(f"unknown option {unknown[0]!r}; valid: {', '.join(PREPARE_OPTIONS)}")
    opts = {**PREPARE_OPTIONS, **options}
    depth = parse_depth(opts["depth"])
    mn = opts["max_nodes"]
    if isinstance(mn, bool) or not isinstance(mn, int) or mn < 1:
        raise NetdrawError(f"invalid max_nodes {mn!r}; valid: an integer >= 1")
    rules = parse_rules(opts["fold"])
    hide, keep, expand = (_patterns(k, opts[k]) for k in ("hide", "keep", "expand"))

    g = graph.copy()
    count_flops(g)
    if keep:
        keep_pass(g, keep)
    if hide:
        hide_pass(g, hide)
    fold_pass(g, rules)
    if opts["roll"]:
        roll_pass(g)
    sel = Selector(expand, g)
    if sel:
        sel.check_used("expand", g)
    chosen = auto_depth(g, mn, sel) if depth == "auto" else depth
    if chosen is not None and chosen > max_depth(g):
        chosen = None
    out = collapse(g, chosen, sel) if chosen is not None else g
    out.meta["collapse"] = {"depth": chosen, "auto": depth == "auto"}
    return out
