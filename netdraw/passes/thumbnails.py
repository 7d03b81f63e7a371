"""Attach activation thumbnails to the nodes a diagram shows (the last pass).

A node's thumbnail is the record (:mod:`netdraw.records`) of its first output that has
one, finished (normalised to uint8) and written to ``node.meta["thumbnail"]`` with the value's
name under ``"value"`` (and a graph input's to its own ``meta["thumbnail"]``): for a collapsed module or a folded chain, the output of the whole block
(a Conv-BN-ReLU shows what its ReLU returned).  Only the shown nodes are finished, so a capture
can keep raw records of every value cheaply.
"""

from __future__ import annotations

from netdraw.records import finish
from netdraw.ir import Graph

__all__ = ["attach", "has_activations", "KEY"]

#: where the finished record goes
KEY = "thumbnail"


def has_activations(graph: Graph) -> bool:
    return "thumbnails" in graph.meta


def attach(graph: Graph) -> int:
    """Set ``node.meta["thumbnail"]`` on every top-level node whose output has a record, and
    ``value.meta["thumbnail"]`` on each graph input that has one (the picture fed in); returns how
    many nodes got one.  The one place records are finished: renderers only read the result."""
    for v in graph.inputs:
        rec = v.meta.get("activation")
        if rec is not None:
            v.meta[KEY] = finish(rec)
    count = 0
    for node in graph.nodes:
        for v in node.outputs:
            rec = v.meta.get("activation")
            if rec is not None:
                node.meta[KEY] = {**finish(rec), "value": v.name}
                count += 1
                break
    return count
