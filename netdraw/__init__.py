"""netdraw: diagrams of neural networks from PyTorch modules and ONNX files."""

from __future__ import annotations

from netdraw.errors import NetdrawError
from netdraw.frontends import load
from netdraw.ir import Graph, IRError, Node, Value

__all__ = ["__version__", "Graph", "Node", "Value", "IRError", "NetdrawError", "load", "render"]

__version__ = "0.1.0"


def render(graph: Graph, path, **options):
    """Render ``graph`` to ``path`` (format from the suffix); options as the CLI's."""
    from netdraw.render import render as _render

    return _render(graph, path, **options)
