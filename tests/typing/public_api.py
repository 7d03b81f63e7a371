"""Uses netdraw's public API as a typed program would; tests/test_layers.py runs mypy on it and on
the modules that define it (the package ships py.typed).  Never run, only type-checked."""

from __future__ import annotations

from pathlib import Path

import netdraw
from netdraw import Graph, NetdrawError, Node, Value
from netdraw.api import FORMATS, OPTIONS, check_options, render_bytes
from netdraw.options import RENDER, Option


def draw_all(path: Path) -> list[Path]:
    graph: Graph = netdraw.load(path)
    drawn: Graph = netdraw.prepare(graph, depth=2, hide=["Dropout"])
    first: Node = drawn.nodes[0]
    out: Value = first.outputs[0]
    shape: tuple[int | str | None, ...] | None = out.shape
    assert shape is not None
    written: list[Path] = []
    for fmt in FORMATS:
        data: bytes = render_bytes(graph, fmt, max_nodes=40)
        target = path.with_suffix("." + fmt)
        target.write_bytes(data)
        written.append(target)
    result = netdraw.render(graph, path.with_suffix(".svg"), theme="dark")
    if result is not None:
        written.append(result)
    return written


def defaults() -> dict[str, object]:
    declared: tuple[Option, ...] = RENDER
    try:
        return check_options({o.name: o.default for o in declared if o.name in OPTIONS})
    except NetdrawError as exc:
        return {"error": str(exc)}
