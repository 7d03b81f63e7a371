"""netdraw: diagrams of neural networks from PyTorch modules and ONNX files."""

from __future__ import annotations

from netdraw.errors import NetdrawError
from netdraw.frontends import load
from netdraw.ir import Graph, IRError, Node, Value
import netdraw.render as _render_package  # loaded first, so the function below keeps the name

__all__ = ["__version__", "Graph", "Node", "Value", "IRError", "NetdrawError", "InputSpec", "load", "render",
           "trace", "export"]

__version__ = "0.1.0"


def render(graph: Graph, path, **options):
    """Render ``graph`` to ``path`` (format from the suffix); options as the CLI's."""
    return _render_package.render(graph, path, **options)


def export(graph: Graph, path, **options):
    """Write ``graph`` as an ONNX file for Netron (see :mod:`netdraw.exporters.onnx`)."""
    from netdraw.exporters.onnx import export as _export

    return _export(graph, path, **options)


def __getattr__(name: str):
    # torch is imported only when a PyTorch model is traced
    if name in ("trace", "InputSpec"):
        from netdraw.frontends import pytorch

        return getattr(pytorch, name)
    raise AttributeError(f"module 'netdraw' has no attribute {name!r}")
