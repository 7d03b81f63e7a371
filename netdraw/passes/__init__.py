"""Passes over the IR; each returns a new graph or writes documented ``meta`` keys."""

from netdraw.passes.collapse import auto_depth, collapse, max_depth, visible_nodes

__all__ = ["auto_depth", "collapse", "max_depth", "visible_nodes"]
