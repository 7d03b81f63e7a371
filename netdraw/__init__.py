"""netdraw: diagrams of neural networks from PyTorch modules, ONNX files and more.

This module only re-exports; see :mod:`netdraw.api` for what the names do.  Names that need torch
(``InputSpec``, ``export`` and the analyses) are imported when first used.
"""

from __future__ import annotations

from typing import Any

from netdraw.api import describe, diff, diff_bytes, draw, html_page, load, prepare, render, render_bytes, trace
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, IRError, Node, Value
from netdraw.version import __version__

__all__ = ["__version__", "Graph", "Node", "Value", "IRError", "NetdrawError", "InputSpec", "load", "render",
           "render_bytes", "prepare", "draw", "trace", "diff", "diff_bytes", "describe", "html_page", "export", "occlusion", "deconv", "evolution", "activations"]

#: public names in modules that import torch (or onnxruntime), loaded on first use
_LAZY = {
    "InputSpec": ("netdraw.capture", "InputSpec"),
    "export": ("netdraw.exporters.onnx", "export"),
    "occlusion": ("netdraw.analysis.occlusion", "occlusion"),
    "deconv": ("netdraw.analysis.deconv", "project"),
    "evolution": ("netdraw.analysis.evolution", "evolution"),
    "activations": ("netdraw.analysis.activations", "trace_activations"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'netdraw' has no attribute {name!r}")
