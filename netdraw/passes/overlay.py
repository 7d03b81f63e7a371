"""Per-node numbers a diagram is coloured by (``--color-by``): parameters, MACs, activation bytes,
measured latency and memory, or the user's own values.

Every value lives on an op (``node.meta["overlay"]``, a float) and adds up: a collapsed module, a
folded chain or an elided run carries its members' sum (a rolled run inside a module counted ×N; the
rolled block itself shows one block's value, "each"), so a figure at any depth shows where the cost
is.  ``Graph.meta["overlay"]`` says what the numbers are: ``{"metric", "unit", "title"}``.

* ``params``: the op's parameters; ``macs``: its multiply-accumulates (:mod:`netdraw.passes.flops`);
* ``activations``: bytes of the op's outputs, from their shapes and dtypes (what a training step
  keeps), no run;
* ``latency`` / ``memory``: measured on a real run (:mod:`netdraw.analysis.cost` writes
  ``node.meta["latency"]`` in ms and ``node.meta["memory"]`` in bytes);
* a JSON or CSV file mapping module paths or op names to numbers: an op's value goes to the op, a
  module's to its first drawn op (so the module, collapsed, shows it); a key that names nothing is
  a one-line error naming the closest path.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, scope_key
from netdraw.options import METRICS

__all__ = ["attach", "summed", "read_values", "activation_bytes", "module_table", "SUMMED", "METRICS", "DTYPE_BYTES"]

#: node.meta keys that a node standing for several ops carries as their sum (``dw2``/``w2``: squared
#: norms of a weight change and of the weights, netdraw.analysis.weights)
SUMMED = ("flops", "overlay", "dw2", "w2")

DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4, "int16": 2,
               "int8": 1, "uint8": 1, "bool": 1, "complex64": 8, "complex128": 16, "float8_e4m3fn": 1,
               "float8_e5m2": 1}

_UNITS = {"params": ("parameters", ""), "macs": ("MACs", ""), "activations": ("activations", "B"),
          "latency": ("latency", "ms"), "memory": ("memory allocated", "B")}


def summed(members: Iterable[Node], times: Iterable[int] | None = None) -> dict[str, Any]:
    """The :data:`SUMMED` meta of a node standing for ``members`` (each counted ``times`` over)."""
    members = list(members)
    times = list(times) if times is not None else [1] * len(members)
    out: dict[str, Any] = {}
    for key in SUMMED:
        vals = [m.meta.get(key) for m in members]
        if any(v is not None for v in vals):
            total = sum((v or 0) * t for v, t in zip(vals, times))
            out[key] = total if key != "flops" else int(total)
    states = {m.meta.get("diff") for m in members} - {None}
    if states:  # a diff's states (netdraw.passes.diff): one when all agree, else changed
        out["diff"] = states.pop() if len(states) == 1 else "changed"
    return out


def activation_bytes(n: Node) -> float | None:
    """Bytes of ``n``'s outputs from their shapes and dtypes (named dims count 1); None if unknown."""
    return _activation_bytes(n)


def module_table(graph: Graph) -> list[dict[str, Any]]:
    """One row per module (in the order they first run; the model itself first, path ``""``): its
    type, ops, parameters, MACs, activation bytes, and measured latency (ms) and memory (bytes)
    where the ops carry them (:mod:`netdraw.analysis.cost`)."""
    from netdraw.passes.collapse import is_hidden

    info = graph.meta.get("modules", {})
    rows: dict[str, dict[str, Any]] = {}

    def row(key: str) -> dict[str, Any]:
        if key not in rows:
            meta = info.get(key, {})
            rows[key] = {"path": meta.get("path") or key.replace("/", "."), "type": (meta.get("type") or "").rsplit(".", 1)[-1],
                         "depth": key.count("/") + 1 if key else 0, "ops": 0, "params": 0, "macs": 0,
                         "activations": 0.0, "latency": None, "memory": None}
        return rows[key]

    row("")
    for n in graph.nodes:
        hidden = is_hidden(n)
        act = None if hidden else _activation_bytes(n)
        for k in range(0, len(n.scope) + 1):
            r = row(scope_key(n.scope[:k]))
            r["params"] += n.params
            r["macs"] += n.meta.get("flops") or 0
            if not hidden:
                r["ops"] += 1
                r["activations"] += act or 0.0
            for key in ("latency", "memory"):
                if n.meta.get(key) is not None:
                    r[key] = (r[key] or 0.0) + n.meta[key]
    rows[""]["path"] = graph.name
    return list(rows.values())


def _activation_bytes(n: Node) -> float | None:
    total = 0.0
    for v in n.outputs:
        if v.shape is None or any(not isinstance(d, int) for d in v.shape if not isinstance(d, str)):
            return None
        elems = math.prod(d if isinstance(d, int) else 1 for d in v.shape)
        total += elems * DTYPE_BYTES.get(v.dtype or "float32", 4)
    return total


def read_values(path: str | Path) -> dict[str, float]:
    """``{module path or op name: number}`` from a JSON object or a two-column CSV."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetdrawError(f"--color-by {path}: cannot read ({exc})") from None
    pairs: list[tuple[str, Any]]
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NetdrawError(f"--color-by {path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise NetdrawError(f"--color-by {path}: expected a JSON object of module path -> number")
        pairs = list(data.items())
    else:
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
        if rows and len(rows[0]) >= 2:
            try:
                float(rows[0][1])
            except ValueError:
                rows = rows[1:]  # a header row
        if any(len(r) < 2 for r in rows):
            raise NetdrawError(f"--color-by {path}: expected two columns, module path and number")
        pairs = [(r[0].strip(), r[1].strip()) for r in rows]
    out: dict[str, float] = {}
    for key, value in pairs:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise NetdrawError(f"--color-by {path}: the value of {key!r} is not a number ({value!r})") from None
        if not math.isfinite(number):
            raise NetdrawError(f"--color-by {path}: the value of {key!r} is not finite")
        out[str(key)] = number
    return out


def attach(graph: Graph, color_by: str, *, values: dict[str, float] | None = None, source: str = "") -> None:
    """Write ``node.meta["overlay"]`` on every op and ``graph.meta["overlay"]`` (in place)."""
    from netdraw.passes.collapse import is_hidden  # collapse sums overlays with summed(): import late

    drawn = [n for n in graph.nodes if not is_hidden(n)]
    if color_by in METRICS:
        title, unit = _UNITS[color_by]
        for n in graph.nodes:
            n.meta.pop("overlay", None)
        for n in drawn:
            if color_by == "params":
                v: float | None = float(n.params) if n.params else None
            elif color_by == "macs":
                v = float(n.meta["flops"]) if n.meta.get("flops") else None
            elif color_by == "activations":
                v = _activation_bytes(n)
            else:
                v = n.meta.get(color_by)
            if v is not None:
                n.meta["overlay"] = float(v)
        if color_by in ("latency", "memory") and not any("overlay" in n.meta for n in drawn):
            raise NetdrawError(f"--color-by {color_by} needs a measured run of the model (see netdraw.analysis.cost)")
        graph.meta["overlay"] = {"metric": color_by, "unit": unit, "title": title}
        return
    values = values if values is not None else read_values(color_by)
    by_name = {n.name: n for n in drawn}
    modules = graph.meta.get("modules", {})
    first: dict[str, Node] = {}
    for n in drawn:
        for k in range(1, len(n.scope) + 1):
            key = scope_key(n.scope[:k])
            first.setdefault(key, n)
            path = modules.get(key, {}).get("path") or ".".join(n.scope[:k])
            first.setdefault(path, n)
    for n in graph.nodes:
        n.meta.pop("overlay", None)
    for key, number in values.items():
        node = by_name.get(key) or first.get(key)
        if node is None:
            close = difflib.get_close_matches(key, list(first) + list(by_name), n=1, cutoff=0.0)
            hint = f"; the closest is {close[0]!r}" if close else ""
            raise NetdrawError(f"--color-by {Path(source or color_by).name}: {key!r} is no module path or op of "
                               f"{graph.name!r}{hint}")
        node.meta["overlay"] = node.meta.get("overlay", 0.0) + number
    graph.meta["overlay"] = {"metric": "values", "unit": "", "title": Path(source or color_by).stem}
