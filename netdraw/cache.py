"""Rendered files keyed by the model's structure and the options, so unchanged diagrams are not redrawn."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from netdraw.ir import Graph

__all__ = ["render_key", "render_cached"]


def render_key(graph: Graph, fmt: str, options: dict[str, Any]) -> str:
    """A hex digest of everything the output depends on: netdraw's version, the format, the options
    and the whole IR (ops, attributes, shapes, scopes, parameter counts, metadata)."""
    from netdraw.version import __version__

    h = hashlib.sha256()
    h.update(f"netdraw {__version__}\n{fmt}\n".encode())
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    h.update(b"\n")
    h.update(graph.to_json(indent=None).encode())
    return h.hexdigest()


def render_cached(graph: Graph, folder: str | os.PathLike[str], stem: str, fmt: str,
                  **options: Any) -> tuple[Path, bool]:
    """Render ``graph`` to ``folder/stem-<key>.<fmt>`` unless that file exists; returns the path
    and whether it was already there."""
    from netdraw.api import render  # noqa: PLC0415 (cache sits beside api, above the back ends)

    key = render_key(graph, fmt, options)[:16]
    path = Path(folder) / f"{stem}-{key}.{fmt}"
    if path.exists():
        return path, True
    path.parent.mkdir(parents=True, exist_ok=True)
    render(graph, path, format=fmt, **options)
    return path, False
