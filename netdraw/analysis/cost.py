"""Measured cost per module and op: latency (ms) and memory allocated (bytes) on a real run.

PyTorch models: forward hooks on every module time each call (``time.perf_counter`` around it,
the median of ``repeat`` runs after :data:`WARMUP` untimed ones); a module's *self* time is its total minus its
submodules' totals, and is shared among the ops the capture recorded directly in that module
(scopes come from the same module stack), so the ops of a module add up to its total and all ops
add up to the whole forward.  Memory: one more run under ``torch.profiler`` with
``profile_memory=True`` and a ``record_function`` range per module call; a module's self
allocation is shared the same way.  Values go to ``node.meta["latency"]`` and
``node.meta["memory"]`` (:mod:`netdraw.passes.overlay` colours by them) and
``Graph.meta["cost"]`` holds the per-module table and the end-to-end time.

ONNX models run in onnxruntime with its profiler on and basic graph optimisations only (fusions
would rename and merge the nodes): each node's kernel time is the median of its ``repeat`` runs;
memory is not measured there.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from netdraw.errors import NetdrawError, first_line
from netdraw.ir import Graph, scope_key
from netdraw.progress import step

__all__ = ["measure_torch", "measure_onnx", "WARMUP"]

#: untimed runs before the timed ones
WARMUP = 2


def _paths_to_scopes(graph: Graph) -> dict[str, str]:
    """Module path (``layer1.0.conv1``) -> the scope key the graph's nodes use."""
    out = {}
    for key, info in graph.meta.get("modules", {}).items():
        out[info.get("path") or key.replace("/", ".")] = key
    return out


def _share(graph: Graph, per_module_self: dict[str, float], root_self: float, key: str) -> None:
    """Give each module's self value to the ops directly in it (else its first op), the root's to
    the ops outside every module (else the first op)."""
    from netdraw.passes.collapse import is_hidden

    nodes = [n for n in graph.nodes if not is_hidden(n)]
    direct: dict[str, list] = {}
    first: dict[str, Any] = {}
    for n in nodes:
        direct.setdefault(scope_key(n.scope), []).append(n)
        for k in range(0, len(n.scope) + 1):
            first.setdefault(scope_key(n.scope[:k]), n)
    for n in graph.nodes:
        n.meta.pop(key, None)
    for mkey, value in [("", root_self), *per_module_self.items()]:
        if value <= 0:
            continue
        owners = direct.get(mkey) or ([first[mkey]] if mkey in first else [])
        for n in owners:
            n.meta[key] = n.meta.get(key, 0.0) + value / len(owners)


def measure_torch(model: Any, args: tuple, kwargs: dict[str, Any], graph: Graph, *, repeat: int = 10,
                  memory: bool = True) -> dict[str, Any]:
    """Measure ``model(*args, **kwargs)`` and write latency (and memory) onto ``graph``'s ops."""
    import torch

    from netdraw.analysis.state import evaluating
    from netdraw.capture import as_real, materialise

    if repeat < 1:
        raise NetdrawError(f"invalid repeat {repeat!r}; valid: an integer >= 1")
    args = materialise(args, as_real)
    kwargs = materialise(kwargs, as_real)
    device = next((p.device for p in model.parameters()), None)
    if device is not None and device.type == "cuda":
        args, kwargs = materialise(args, lambda t: t.to(device)), materialise(kwargs, lambda t: t.to(device))
    scopes = _paths_to_scopes(graph)
    names = {m: name for name, m in model.named_modules()}
    stack: list[list[Any]] = []
    runs: list[dict[str, float]] = []
    current: dict[str, float] = {}
    # on a GPU, kernels run asynchronously: wait for them at every module boundary
    sync = torch.cuda.synchronize if any(p.is_cuda for p in model.parameters()) else (lambda: None)

    def pre(mod: Any, _inp: Any) -> None:
        sync()
        stack.append([names.get(mod, ""), time.perf_counter()])

    def post(mod: Any, _inp: Any, _out: Any) -> None:
        sync()
        if not stack:
            return
        name, start = stack.pop()
        current[name] = current.get(name, 0.0) + (time.perf_counter() - start) * 1000.0

    handles = []
    for mod in model.modules():
        if mod is model:
            continue
        handles.append(mod.register_forward_pre_hook(pre))
        handles.append(mod.register_forward_hook(post))
    totals: list[float] = []
    try:
        with evaluating(model), torch.no_grad():
            for i in range(repeat + WARMUP):
                step(f"timing run {i + 1 - WARMUP} of {repeat}" if i >= WARMUP else "warm-up runs")
                current.clear()
                stack.clear()
                sync()
                t = time.perf_counter()
                model(*args, **kwargs)
                sync()
                total = (time.perf_counter() - t) * 1000.0
                if i >= WARMUP:  # the first runs warm caches and allocators up
                    runs.append(dict(current))
                    totals.append(total)
    except Exception as exc:
        raise NetdrawError(f"the timed run of the model failed ({first_line(exc, kind=True)})") from None
    finally:
        for h in handles:
            h.remove()
    module_total = {name: statistics.median(r.get(name, 0.0) for r in runs) for name in runs[0]} if runs else {}
    end_to_end = statistics.median(totals)
    self_ms = _self(module_total, end_to_end)
    _share(graph, {scopes[p]: v for p, v in self_ms.items() if p in scopes}, self_ms.get("", 0.0), "latency")
    result: dict[str, Any] = {"latency_ms": end_to_end, "repeat": repeat,
                              "modules": {p: {"latency_ms": v, "self_ms": self_ms.get(p, 0.0)}
                                          for p, v in module_total.items()}}
    if memory:
        mem = _memory(model, args, kwargs, names)
        self_b = _self(mem, mem.get("", 0.0))
        _share(graph, {scopes[p]: v for p, v in self_b.items() if p in scopes}, self_b.get("", 0.0), "memory")
        for p, v in mem.items():
            if p:
                result["modules"].setdefault(p, {})["memory_bytes"] = v
        result["memory_bytes"] = mem.get("", 0.0)
    graph.meta["cost"] = result
    return result


def _self(totals: dict[str, float], root_total: float) -> dict[str, float]:
    """Self values: each module's total minus its direct submodules' (the root: the whole run)."""
    out = {}
    children: dict[str, float] = {}
    for name, v in totals.items():
        parent = name.rsplit(".", 1)[0] if "." in name else ""
        # the nearest enclosing module that was called (a ModuleList is never called)
        while parent and parent not in totals:
            parent = parent.rsplit(".", 1)[0] if "." in parent else ""
        children[parent] = children.get(parent, 0.0) + v
    for name, v in totals.items():
        out[name] = max(0.0, v - children.get(name, 0.0))
    out[""] = max(0.0, root_total - children.get("", 0.0))
    return out


def _memory(model: Any, args: tuple, kwargs: dict[str, Any], names: dict[Any, str]) -> dict[str, float]:
    """Bytes allocated during each module's call (its submodules included), from torch.profiler."""
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function

    from netdraw.analysis.state import evaluating

    ranges: list[Any] = []

    def pre(mod: Any, _inp: Any) -> None:
        r = record_function("netdraw::" + names.get(mod, ""))
        r.__enter__()
        ranges.append(r)

    def post(mod: Any, _inp: Any, _out: Any) -> None:
        if ranges:
            ranges.pop().__exit__(None, None, None)

    handles = []
    for mod in model.modules():
        if mod is not model:
            handles.append(mod.register_forward_pre_hook(pre))
            handles.append(mod.register_forward_hook(post))
    step("measuring memory (torch.profiler)")
    try:
        with _quiet_stderr(), evaluating(model), torch.no_grad(), \
                profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            with record_function("netdraw::"):
                model(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    out: dict[str, float] = {}
    for ev in prof.key_averages():
        if ev.key.startswith("netdraw::"):
            out[ev.key[len("netdraw::"):]] = float(max(0, ev.cpu_memory_usage))
    return out


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The profiler's C++ side logs to file descriptor 2 (``USDT: ... profiler_start``): hide it."""
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def measure_onnx(path: str | os.PathLike[str], graph: Graph, *, repeat: int = 10) -> dict[str, Any]:
    """Run an ONNX model in onnxruntime with its profiler and write each op's median kernel time."""
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        raise NetdrawError("measuring an ONNX model needs onnxruntime (pip install onnxruntime)") from None
    so = ort.SessionOptions()
    so.enable_profiling = True
    # basic optimisations only: fusions and layout changes would rename the nodes (and merge them),
    # so each op's time could not be given back to the op the diagram draws
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    with tempfile.TemporaryDirectory(prefix="netdraw-ort-") as tmp:
        so.profile_file_prefix = os.path.join(tmp, "profile")
        try:
            sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise NetdrawError(f"{path}: onnxruntime cannot run it ({first_line(exc)})") from None
        feeds = {}
        for i in sess.get_inputs():
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
            dtype = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(int32)": np.int32,
                     "tensor(float16)": np.float16, "tensor(bool)": np.bool_}.get(i.type, np.float32)
            feeds[i.name] = np.zeros(shape, dtype=dtype) if dtype != np.float32 else \
                np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        totals = []
        for k in range(repeat + 1):
            step(f"onnxruntime run {k + 1} of {repeat + 1}")
            t = time.perf_counter()
            sess.run(None, feeds)
            if k:
                totals.append((time.perf_counter() - t) * 1000.0)
        trace = json.loads(Path(sess.end_profiling()).read_text())
    per_node: dict[str, list[float]] = {}
    for ev in trace:
        if ev.get("cat") == "Node" and ev.get("name", "").endswith("_kernel_time"):
            per_node.setdefault(ev["name"][: -len("_kernel_time")], []).append(ev.get("dur", 0) / 1000.0)
    by_name = {n.name: n for n in graph.nodes}
    for n in graph.nodes:
        n.meta.pop("latency", None)
    for name, durs in per_node.items():
        node = by_name.get(name)
        if node is not None:
            runs = durs[1:] if len(durs) > repeat else durs  # drop the warm-up
            node.meta["latency"] = statistics.median(runs)
    result = {"latency_ms": statistics.median(totals), "repeat": repeat, "ops": len(per_node)}
    graph.meta["cost"] = result
    return result
