"""The passes a diagram runs, in order: FLOPs, keep/hide, fold, roll, then collapse."""

from __future__ import annotations

import itertools
from fnmatch import fnmatchcase
from typing import Any, Iterable, Iterator

from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.progress import step
from netdraw.passes.elide import elide
from netdraw.passes.collapse import (DEFAULT_MAX_NODES, LEAVES, auto_depth, collapse, count_visible,
                                     mark_leaves, max_depth, visible_nodes)
from netdraw.passes.flops import count_flops
from netdraw.passes.fold import fold as fold_pass
from netdraw.passes.fold import parse_rules
from netdraw.passes.overlay import METRICS, attach as attach_overlay
from netdraw.passes.roll import roll as roll_pass
from netdraw.passes.select import Selector, hide as hide_pass, io_groups, keep as keep_pass
from netdraw.passes.thumbnails import attach as attach_thumbnails, has_activations

__all__ = ["prepare", "candidates", "selected", "check_prepare", "parse_depth", "PREPARE_OPTIONS", "MAX_DRAWN"]

#: at an explicit depth, a diagram draws at most this many nodes: beyond it, chains and runs of
#: ops are elided (see :mod:`netdraw.passes.elide`), since Graphviz would take minutes
MAX_DRAWN = 800

#: the options :func:`prepare` takes, with their defaults
PREPARE_OPTIONS: dict[str, Any] = {
    "depth": "auto",
    "max_nodes": DEFAULT_MAX_NODES,
    "fold": None,
    "roll": True,
    "hide": (),
    "keep": (),
    "expand": (),
    "color_by": None,
}


def parse_depth(depth: Any) -> int | str | None:
    """``"auto"``, ``"max"``/``None`` (every op), ``"leaves"`` (every op, leaf modules as one node)
    or an int >= 1."""
    if depth is None or depth == "max":
        return None
    if depth in ("auto", LEAVES):
        return depth
    try:
        d = int(depth)
    except (TypeError, ValueError):
        raise NetdrawError(f"invalid depth {depth!r}; valid: auto, max, leaves or an integer >= 1") from None
    if d < 1 or str(d) != str(depth).strip():
        raise NetdrawError(f"invalid depth {depth!r}; valid: auto, max, leaves or an integer >= 1")
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


def check_prepare(options: dict[str, Any]) -> dict[str, Any]:
    """The options of :func:`prepare` checked (one-line errors) and completed with defaults."""
    unknown = sorted(set(options) - set(PREPARE_OPTIONS))
    if unknown:
        raise NetdrawError(f"unknown option {unknown[0]!r}; valid: {', '.join(PREPARE_OPTIONS)}")
    opts = {**PREPARE_OPTIONS, **options}
    opts["depth"] = parse_depth(opts["depth"])
    mn = opts["max_nodes"]
    if isinstance(mn, bool) or not isinstance(mn, int) or mn < 1:
        raise NetdrawError(f"invalid max_nodes {mn!r}; valid: an integer >= 1")
    opts["fold"] = parse_rules(opts["fold"])
    cb = opts["color_by"]
    if cb is not None and (not isinstance(cb, str) or not cb.strip()):
        raise NetdrawError(f"invalid color_by {cb!r}; valid: {', '.join(METRICS)} or a .json/.csv file")
    for k in ("hide", "keep", "expand"):
        opts[k] = _patterns(k, opts[k])
    return opts


def candidates(graph: Graph, **options: Any) -> Iterator[Graph]:
    """The diagrams :func:`prepare` could draw, best first: with ``depth="auto"``, the level it
    picks and then each shallower one (a renderer takes the first that fits its page); else
    the one asked for.  ``graph`` is left as it was.

    1. ``meta["flops"]`` (MACs) on every op that has a count;
    2. ``keep``: only the modules/ops matching these patterns; ``hide``: without those
       (see :mod:`netdraw.passes.select`);
    3. ``fold``: pattern rules (None = the defaults, ``"none"`` = off; see :mod:`netdraw.passes.fold`);
    4. ``roll``: repeated blocks drawn once with ×N (see :mod:`netdraw.passes.roll`);
    5. collapse to ``depth`` (an int, ``"max"``/None for every op, ``"auto"``: the deepest level
       with at most ``max_nodes`` nodes, starting from ``"leaves"``: every op, but each leaf module
       of two or more ops as one node), opening the modules ``expand`` matches one level further.

    6. what is still over the budget (``max_nodes`` at ``depth="auto"``, else
       :data:`MAX_DRAWN`) is elided: parallel copies grouped, long chains and runs of ops merged
       (see :mod:`netdraw.passes.elide`);
    7. when the graph carries activation records (``meta["thumbnails"]``), each shown node gets its
       ``meta["thumbnail"]`` (see :mod:`netdraw.passes.thumbnails`).

    Each graph's ``meta["collapse"]`` records ``{"depth", "auto"}``.
    """
    opts = check_prepare(options)
    depth = opts["depth"]
    step(f"preparing the diagram ({len(graph.nodes):,} ops)")
    g = selected(graph, opts)
    fold_pass(g, opts["fold"])
    if opts["roll"]:
        roll_pass(g)
    # a pattern naming a grouped output (cache) opens that group, not a module
    heads = set(io_groups([v.name for v in g.outputs]).values()) | set(io_groups([v.name for v in g.inputs]).values())
    sel = Selector([p for p in opts["expand"] if not any(fnmatchcase(h, p) for h in heads)], g)
    if sel:
        sel.check_used("expand", g)
    deepest = max_depth(g)
    levels: Iterable[int | str | None]
    if depth == "auto":
        first = auto_depth(g, opts["max_nodes"], sel)
        top = deepest if first in (None, LEAVES) else first - 1  # type: ignore[operator]
        # shallower levels within the budget, counted only if the caller asks for them
        levels = itertools.chain([first], (d for d in range(top, 0, -1)
                                           if count_visible(g, d, sel) <= opts["max_nodes"]))
    elif depth == LEAVES:
        levels = [LEAVES if deepest else None]
    else:
        levels = [None if depth is None or depth > deepest else depth]  # type: ignore[operator]
    budget = opts["max_nodes"] if depth == "auto" else max(opts["max_nodes"], MAX_DRAWN)
    for d in levels:
        out = collapse(g, d, sel) if d is not None else g
        out = elide(out, budget)
        tight = budget
        while depth == "auto" and len(visible_nodes(out)) > budget and tight > 4:
            # modules that interleave can leave a level over the budget after eliding: elide harder,
            # never draw more than the budget at --depth auto
            tight //= 2
            out = elide(out, tight)
        out.meta["collapse"] = {"depth": d, "auto": depth == "auto"}
        if opts["expand"]:
            out.meta["expand"] = list(opts["expand"])  # also opens grouped outputs (renderers.scene.io_groups)
        if has_activations(out):
            attach_thumbnails(out)
        yield out


def selected(graph: Graph, opts: dict[str, Any]) -> Graph:
    """Steps 1-2 of :func:`candidates` on a copy of ``graph`` (``opts`` checked by
    :func:`check_prepare`): leaves marked, MACs counted, ``keep`` and ``hide`` applied."""
    g = graph.copy()
    mark_leaves(g)
    count_flops(g)
    if opts["color_by"]:
        attach_overlay(g, opts["color_by"])
    if opts["keep"]:
        keep_pass(g, opts["keep"])
    if opts["hide"]:
        hide_pass(g, opts["hide"])
    return g


def prepare(graph: Graph, **options: Any) -> Graph:
    """A new graph as a diagram draws it (the first of :func:`candidates`); ``graph`` is left
    as it was."""
    return next(candidates(graph, **options))
