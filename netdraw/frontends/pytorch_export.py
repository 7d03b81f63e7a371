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
    g = Graph(name)
    sig = ep.graph_signature
    params = dict(sig.inputs_to_parameters)
    buffers = dict(sig.inputs_to_buffers)
    consts = dict(getattr(sig, "inputs_to_lifted_tensor_constants", {}))
    state = {**ep.state_dict, **getattr(ep, "constants", {})}
    env: dict[str, Any] = {}  # fx node name -> Value or tuple of Values
    counted: set[str] = set()
    modules: dict[str, dict[str, str]] = {}
    seen_calls: dict[tuple[tuple[str, ...], str], str] = {}
    calls: dict[tuple[tuple[str, ...], str], int] = {}
    numel: dict[str, int] = {}

    def scope_of(node: Any) -> tuple[str, ...]:
        stack = node.meta.get("nn_module_stack") or {}
        scope: tuple[str, ...] = ()
        parent = ""
        for key, (path, typ) in stack.items():
            path = str(path).replace("L['self'].", "").replace("L__self__.", "")
            if not path:
                continue
            rel = path[len(parent) + 1:] if parent and path.startswith(parent + ".") else path
            ident = (scope, rel)
            if ident not in seen_calls or seen_calls[ident] == key:
                if ident not in seen_calls:
                    calls[ident] = calls.get(ident, 0) + 1
                    seen_calls[ident] = key
                comp = rel if calls[ident] == 1 else f"{rel}#{calls[ident]}"
            else:
                calls[ident] += 1
                seen_calls[ident] = key
                comp = f"{rel}#{calls[ident]}"
            scope = scope + (comp,)
            modules.setdefault(scope_key(scope), {"type": getattr(typ, "__qualname__", str(typ)), "path": path})
            parent = path
        return scope

    def arg_values(a: Any, out: list[Value]) -> None:
        if isinstance(a, torch.fx.Node):
            v = env.get(a.name)
            if isinstance(v, Value):
                out.append(v)
        elif isinstance(a, (list, tuple)):
            for x in a:
                arg_values(x, out)
        elif isinstance(a, dict):
            for x in a.values():
                arg_values(x, out)

    for node in ep.graph.nodes:
        val = node.meta.get("val")
        if node.op == "placeholder":
            if node.name in params or node.name in buffers or node.name in consts:
                fqn = params.get(node.name) or buffers.get(node.name) or consts.get(node.name)
                t = state.get(fqn)
                v = g.add_param(fqn, _shape(t if t is not None else val), _dtype(t if t is not None else val),
                                rename=True)
                if node.name in buffers:
                    v.meta["buffer"] = True
                if node.name in params and t is not None:
                    numel[v.name] = t.numel()
                env[node.name] = v
            elif isinstance(val, torch.Tensor):
                env[node.name] = g.add_input(node.name, _shape(val), _dtype(val), rename=True)
        elif node.op == "call_function":
            if node.target is operator.getitem:
                src, idx = node.args
                vals = env.get(src.name)
                if isinstance(vals, tuple) and isinstance(idx, int) and idx < len(vals):
                    env[node.name] = vals[idx]
                continue
            ins: list[Value] = []
            arg_values(node.args, ins)
            arg_values(node.kwargs, ins)
            ins = list(dict.fromkeys(ins))
            outs_meta = val if isinstance(val, (list, tuple)) else [val]
            tensors = [t for t in outs_meta if isinstance(t, torch.Tensor)]
            if not tensors:
                continue
            scope = scope_of(node)
            op = _op_type(node.target)
            n_params = 0
            for v in ins:
                if v.name in numel and v.name not in counted:
                    counted.add(v.name)
                    n_params += numel[v.name]
            attrs = {f"arg{i}": a for i, a in enumerate(node.args)
                     if isinstance(a, (int, float, bool, str)) or (isinstance(a, (list, tuple)) and all(
                         isinstance(x, (int, float, bool)) for x in a))}
            attrs = {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.items()}
            nd = g.add_node(op, ins, [(node.name, _shape(t), _dtype(t)) for t in tensors],
                            name="/".join((*scope, op)), domain="aten", attrs=attrs, scope=scope, params=n_params)
            env[node.name] = nd.outputs if isinstance(val, (list, tuple)) else nd.outputs[0]
        elif node.op == "output":
            outs: list[Value] = []
            arg_values(node.args, outs)
            g.outputs = outs
    g.meta["source"] = {"format": "torch", "capture": "export", "mode": "fake"}
    g.meta["modules"] = modules
    return g
