"""``torch.export`` capture: the exported graph's aten ops, scoped by ``nn_module_stack``."""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import nn

from netdraw.errors import NetdrawError, first_line
from netdraw.ir import Graph, Value, scope_key

__all__ = ["trace_export", "from_exported"]


def trace_export(model: nn.Module, args: tuple, kwargs: dict, *, train: bool = False) -> Graph:
    from netdraw.capture import as_real, materialise, quiet_loggers, set_unattributed, training

    args = materialise(args, as_real)
    kwargs = materialise(kwargs, as_real)
    try:
        # export logs whole graphs when it fails; the one-line error is enough
        with training(model, train), quiet_loggers("torch", "torch._dynamo", "torch.export", "torch._export",
                                                   "torch.fx.experimental.symbolic_shapes"):
            ep = torch.export.export(model, args, kwargs, strict=False)
    except Exception as exc:
        raise NetdrawError(f"torch.export could not capture {type(model).__name__} ({first_line(exc, kind=True)}); "
                           "the default eager capture (--capture eager) records such models") from None
    g = from_exported(ep, type(model).__name__)
    set_unattributed(g, model)
    g.meta["model_type"] = f"{type(model).__module__}.{type(model).__qualname__}"
    return g


def _dtype(t: Any) -> str | None:
    return str(t.dtype).replace("torch.", "") if isinstance(t, torch.Tensor) else None


def _shape(t: Any) -> tuple | None:
    if not isinstance(t, torch.Tensor):
        return None
    return tuple(int(d) if isinstance(d, int) or not isinstance(d, torch.SymInt) else str(d) for d in t.shape)


def _op_type(target: Any) -> str:
    if isinstance(target, torch._ops.OpOverload):
        return target._schema.name.split("::")[-1]
    return getattr(target, "__name__", str(target))


def from_exported(ep: Any, name: str = "graph") -> Graph:
    """Build the IR from a ``torch.export.ExportedProgram``."""
    b = _Builder(ep, Graph(name))
    for node in ep.graph.nodes:
        if node.op == "placeholder":
            b.placeholder(node)
        elif node.op == "call_function":
            b.call(node)
        elif node.op == "output":
            outs: list[Value] = []
            b.values_in(node.args, outs)
            b.g.outputs = outs
    b.g.meta["source"] = {"format": "torch", "capture": "export", "mode": "fake"}
    b.g.meta["modules"] = b.modules
    return b.g


class _Builder:
    """The IR of an exported program, one fx node at a time."""

    def __init__(self, ep: Any, g: Graph) -> None:
        self.g = g
        sig = ep.graph_signature
        self.params = dict(sig.inputs_to_parameters)
        self.buffers = dict(sig.inputs_to_buffers)
        self.consts = dict(getattr(sig, "inputs_to_lifted_tensor_constants", {}))
        self.state = {**ep.state_dict, **getattr(ep, "constants", {})}
        self.env: dict[str, Any] = {}  # fx node name -> Value or tuple of Values
        self.counted: set[str] = set()
        self.modules: dict[str, dict[str, str]] = {}
        self.seen_calls: dict[tuple[tuple[str, ...], str], str] = {}
        self.calls: dict[tuple[tuple[str, ...], str], int] = {}
        self.numel: dict[str, int] = {}

    def scope_of(self, node: Any) -> tuple[str, ...]:
        """The module path from ``nn_module_stack``; a module called again gets ``name#2``."""
        stack = node.meta.get("nn_module_stack") or {}
        scope: tuple[str, ...] = ()
        parent = ""
        for key, (path, typ) in stack.items():
            path = str(path).replace("L['self'].", "").replace("L__self__.", "")
            if not path:
                continue
            rel = path[len(parent) + 1:] if parent and path.startswith(parent + ".") else path
            ident = (scope, rel)
            if ident not in self.seen_calls or self.seen_calls[ident] == key:
                if ident not in self.seen_calls:
                    self.calls[ident] = self.calls.get(ident, 0) + 1
                    self.seen_calls[ident] = key
                comp = rel if self.calls[ident] == 1 else f"{rel}#{self.calls[ident]}"
            else:
                self.calls[ident] += 1
                self.seen_calls[ident] = key
                comp = f"{rel}#{self.calls[ident]}"
            scope = scope + (comp,)
            self.modules.setdefault(scope_key(scope), {"type": getattr(typ, "__qualname__", str(typ)), "path": path})
            parent = path
        return scope

    def values_in(self, a: Any, out: list[Value]) -> None:
        """The Values an fx argument (or a nest of them) refers to, appended to ``out``."""
        if isinstance(a, torch.fx.Node):
            v = self.env.get(a.name)
            if isinstance(v, Value):
                out.append(v)
        elif isinstance(a, (list, tuple)):
            for x in a:
                self.values_in(x, out)
        elif isinstance(a, dict):
            for x in a.values():
                self.values_in(x, out)

    def placeholder(self, node: Any) -> None:
        """A graph input, or a lifted parameter, buffer or constant."""
        val = node.meta.get("val")
        if node.name in self.params or node.name in self.buffers or node.name in self.consts:
            fqn = self.params.get(node.name) or self.buffers.get(node.name) or self.consts.get(node.name)
            t = self.state.get(fqn)
            v = self.g.add_param(fqn, _shape(t if t is not None else val), _dtype(t if t is not None else val),
                                 rename=True)
            if node.name in self.buffers:
                v.meta["buffer"] = True
            if node.name in self.params and t is not None:
                self.numel[v.name] = t.numel()
            self.env[node.name] = v
        elif isinstance(val, torch.Tensor):
            self.env[node.name] = self.g.add_input(node.name, _shape(val), _dtype(val), rename=True)

    def call(self, node: Any) -> None:
        """An op: a node reading the Values of its arguments; parameters counted at their first use."""
        val = node.meta.get("val")
        if node.target is operator.getitem:
            src, idx = node.args
            vals = self.env.get(src.name)
            if isinstance(vals, tuple) and isinstance(idx, int) and idx < len(vals):
                self.env[node.name] = vals[idx]
            return
        ins: list[Value] = []
        self.values_in(node.args, ins)
        self.values_in(node.kwargs, ins)
        ins = list(dict.fromkeys(ins))
        outs_meta = val if isinstance(val, (list, tuple)) else [val]
        tensors = [t for t in outs_meta if isinstance(t, torch.Tensor)]
        if not tensors:
            return
        scope = self.scope_of(node)
        op = _op_type(node.target)
        n_params = 0
        for v in ins:
            if v.name in self.numel and v.name not in self.counted:
                self.counted.add(v.name)
                n_params += self.numel[v.name]
        attrs = _attrs(node, op)
        nd = self.g.add_node(op, ins, [(node.name, _shape(t), _dtype(t)) for t in tensors],
                             name="/".join((*scope, op)), domain="aten", attrs=attrs, scope=scope, params=n_params)
        self.env[node.name] = nd.outputs if isinstance(val, (list, tuple)) else nd.outputs[0]


def _attrs(node: Any, op: str) -> dict[str, Any]:
    """An op's non-tensor arguments named by its schema (``stride``, ``padding``, ``groups``), as
    the eager capture names them, and a convolution's ``kernel_size`` from its weight's shape."""
    schema = getattr(node.target, "_schema", None)
    names = [a.name for a in schema.arguments] if schema is not None else []

    def plain(a: Any) -> bool:
        return isinstance(a, (int, float, bool, str)) or (isinstance(a, (list, tuple)) and all(
            isinstance(x, (int, float, bool)) for x in a))

    attrs: dict[str, Any] = {}
    for i, a in enumerate(node.args):
        if plain(a):
            attrs[names[i] if i < len(names) else f"arg{i}"] = list(a) if isinstance(a, tuple) else a
    for k, a in node.kwargs.items():
        if plain(a):
            attrs[k] = list(a) if isinstance(a, tuple) else a
    if op.startswith("conv") and len(node.args) > 1 and isinstance(node.args[1], torch.fx.Node):
        w = node.args[1].meta.get("val")
        if isinstance(w, torch.Tensor) and w.dim() > 2:
            attrs["kernel_size"] = [int(d) for d in w.shape[2:]]
    return attrs
