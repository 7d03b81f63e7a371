"""Passes over the IR; each returns a new graph or edits one in place, writing documented ``meta`` keys."""

from netdraw.passes.collapse import auto_depth, collapse, max_depth, visible_nodes
from netdraw.passes.flops import count_flops
from netdraw.passes.fold import fold
from netdraw.passes.roll import roll
from netdraw.passes.select import hide, keep

__all__ = ["auto_depth", "collapse", "count_flops", "fold", "hide", "keep", "max_depth", "roll", "visible_nodes"]
