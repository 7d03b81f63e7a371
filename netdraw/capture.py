"""The capture layer: run a PyTorch model once and record every tensor operation as the IR.

Eager capture records at the **torch-function level** (a ``TorchFunctionMode``), not at the
dispatcher: it sees what the model's code calls (``conv2d``, ``linear``, ``add``,
``scaled_dot_product_attention``) before PyTorch decomposes it into aten kernels, so the diagram
speaks the model author's language, each call is one node, and it works unchanged under
``FakeTensorMode``.  The module call stack comes from global forward pre/post hooks, so every
node's ``scope`` is the path of module *calls* that led to it: the path actually taken, with a
module called twice giving two scopes (``relu``, ``relu#2``).

:func:`record` runs the model once on ``meta``, ``fake`` or ``real`` tensors and returns the
graph.  Two public hooks let other layers see the run without the recorder knowing them (as
torch.fx's ``Interpreter.run_node`` lets ``ShapeProp`` in): ``observe(value, tensor)`` after each
op with every new activation, and ``on_output(path, scope, output)`` when a module call returns.
The activation thumbnails (:mod:`netdraw.analysis.activations`) and layer outputs register
through them.  :func:`netdraw.frontends.pytorch.trace` chooses the mode (meta, then fake, then
real) and ``graph.meta["source"]["mode"]`` says which ran.

This module imports nothing of netdraw's above the IR.
"""

from __future__ import annotations

import dataclasses
import re
import gc
import inspect
import itertools
import logging
import math
import sys
import types
import weakref
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.overrides import TorchFunctionMode, resolve_name

from netdraw.ir import Graph, Value, scope_key

__all__ = ["record", "KINDS", "InputSpec", "training", "quiet_loggers", "as_real", "materialise", "set_unattributed"]

#: what :func:`record` runs the model on
KINDS = ("meta", "fake", "real")


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """An example input given by shape alone (``--input 1x3x224x224``)."""

    shape: tuple[int, ...]
    dtype: torch.dtype = torch.float32

    def make(self, device: str | torch.device = "cpu", seed: int = 0) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        if self.dtype.is_floating_point or self.dtype.is_complex:
            t = torch.randn(self.shape, generator=g, dtype=self.dtype)
        elif self.dtype == torch.bool:
            t = torch.ones(self.shape, dtype=torch.bool)
        else:
            t = torch.zeros(self.shape, dtype=self.dtype)
        return t.to(device)


# ------------------------------------------------------------------ op names and arguments
_ARITH = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
          "lshift", "rshift"}
_RENAME = {"truediv": "div", "floordiv": "floor_divide"}
#: names of positional arguments of common functions, so their attributes read ``stride=2``
_POSITIONAL: dict[str, tuple[str, ...]] = {
    **{f"conv{d}d": ("input", "weight", "bias", "stride", "padding", "dilation", "groups") for d in (1, 2, 3)},
    **{f"conv_transpose{d}d": ("input", "weight", "bias", "stride", "padding", "output_padding", "groups",
                               "dilation") for d in (1, 2, 3)},
    "linear": ("input", "weight", "bias"),
    **{f"max_pool{d}d": ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                         "return_indices") for d in (1, 2, 3)},
    **{f"avg_pool{d}d": ("input", "kernel_size", "stride", "padding", "ceil_mode") for d in (1, 2, 3)},
    **{f"adaptive_avg_pool{d}d": ("input", "output_size") for d in (1, 2, 3)},
    "batch_norm": ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"),
    "layer_norm": ("input", "normalized_shape", "weight", "bias", "eps"),
    "group_norm": ("input", "num_groups", "weight", "bias", "eps"),
    "softmax": ("input", "dim"),
    "log_softmax": ("input", "dim"),
    "dropout": ("input", "p", "training", "inplace"),
    "embedding": ("input", "weight", "padding_idx"),
    "cat": ("tensors", "dim"),
    "flatten": ("input", "start_dim", "end_dim"),
    "transpose": ("input", "dim0", "dim1"),
}
_GETTERS_KEPT = {"T", "mT", "H", "mH", "real", "imag"}
_ALIASES = {"detach", "requires_grad_", "retain_grad", "data", "contiguous"}  # no data-flow change


_NAMES: dict[Any, tuple[str, bool]] = {}


def _op_name(func: Any) -> tuple[str, bool]:
    """The op type netdraw uses for ``func``, and whether it is an attribute getter (cached)."""
    try:
        return _NAMES[func]
    except (KeyError, TypeError):
        pass
    full = resolve_name(func) or getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    parts = full.split(".")
    own = getattr(func, "__name__", None)
    if isinstance(func, types.BuiltinFunctionType) and isinstance(own, str) and own.isidentifier():
        parts[-1] = own  # resolve_name's table gives torch.mm as "torch.spmm" (a name collision)
    getter = parts[-1] == "__get__" and len(parts) >= 2
    result = (parts[-2] if getter else _dunder(parts[-1])), getter
    try:
        _NAMES[func] = result
    except TypeError:
        pass
    return result


def _dunder(name: str) -> str:
    if name.startswith("__") and name.endswith("__"):
        d = name[2:-2]
        if d.startswith("i") and d[1:] in _ARITH:
            return _RENAME.get(d[1:], d[1:]) + "_"
        if d.startswith("r") and d[1:] in _ARITH:
            d = d[1:]
        return _RENAME.get(d, d)
    return name


def _jsonable(x: Any, depth: int = 0, meta_as: str | None = None) -> Any:
    """JSON-able form of an argument; ``meta_as`` names the device a meta capture stands in for."""
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if meta_as is not None and isinstance(x, torch.device) and x.type == "meta":
        return meta_as
    if isinstance(x, float):
        return x if math.isfinite(x) else str(x)
    if isinstance(x, (torch.dtype, torch.device, torch.memory_format, torch.layout)):
        return str(x).replace("torch.", "")
    if isinstance(x, torch.Size):
        return list(x)
    if isinstance(x, slice):
        return {"slice": [_jsonable(x.start), _jsonable(x.stop), _jsonable(x.step)]}
    if x is Ellipsis:
        return "..."
    if isinstance(x, (list, tuple)) and depth < 4:
        return [_jsonable(v, depth + 1, meta_as) for v in x]
    if isinstance(x, dict) and depth < 4:
        return {str(k): _jsonable(v, depth + 1, meta_as) for k, v in x.items()}
    if isinstance(x, torch.SymInt):
        return str(x)
    return type(x).__name__


_SCALARS = (str, bytes, int, float, bool, complex, type(None), torch.dtype, torch.device, torch.Size,
            torch.memory_format, torch.layout, slice, type(Ellipsis))


def _leaves(obj: Any, prefix: str = "", depth: int = 0, objects: bool = False,
            seen: set[int] | None = None) -> Iterator[tuple[str, Any]]:
    """(path, tensor) for every tensor in a nest of tuples, lists, dicts, dataclasses,
    ``ModelOutput`` objects and caches; with ``objects``, through any object's public attributes
    too (a cache's layers and their keys and values), cycles and depth bounded."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
        return
    if depth > 10 or isinstance(obj, _SCALARS) or isinstance(obj, nn.Module):
        return
    if objects:
        seen = set() if seen is None else seen
        if id(obj) in seen:
            return
        seen.add(id(obj))

    def join(k: Any) -> str:
        return f"{prefix}.{k}" if prefix else str(k)

    def walk(v: Any, path: str) -> Iterator[tuple[str, Any]]:
        return _leaves(v, path, depth + 1, objects, seen)

    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, join(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk(v, join(i))
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from walk(getattr(obj, f.name, None), join(f.name))
    elif objects and type(obj) in _pytree_nodes():
        # a type registered with torch's pytree: its own flattening, named by its keys where it has them
        children, context = _pytree_nodes()[type(obj)].flatten_fn(obj)
        names = context if isinstance(context, (list, tuple)) and len(context) == len(children) and \
            all(isinstance(c, (str, int)) for c in context) else range(len(children))
        for name, child in zip(names, children):
            yield from walk(child, join(name))
    elif "Cache" in type(obj).__name__ and isinstance(getattr(obj, "layers", None), (list, tuple)):
        for i, layer in enumerate(obj.layers):  # transformers' DynamicCache: layers[i].keys/values
            yield from walk(layer, join(i))
    elif ("Cache" in type(obj).__name__ or objects) and hasattr(obj, "__dict__") and not isinstance(obj, type) \
            and not callable(obj):
        for k, v in vars(obj).items():  # transformers' caches keep their tensors in attributes
            if not k.startswith("_"):
                yield from walk(v, join(k))


def _snake(name: str) -> str:
    """``Dropout`` -> ``dropout``, ``AlphaDropout`` -> ``alpha_dropout``: a class as an op name."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _pytree_nodes() -> dict[type, Any]:
    """The types registered with ``torch.utils._pytree`` (where returned structures declare how they
    flatten); empty where this torch has no such table."""
    try:
        from torch.utils import _pytree as pytree
    except ImportError:
        return {}
    return getattr(pytree, "SUPPORTED_NODES", {})


def _flat_scalars(x: Any) -> bool:
    """A short tuple or list of numbers (a stride, a padding, a shape): no tensor in it."""
    return type(x) in (tuple, list, torch.Size) and len(x) <= 8 and all(type(v) in (int, float, bool) for v in x)


def _tensors(obj: Any) -> list[torch.Tensor]:
    """The tensors in ``obj``, with fast paths for a tensor and a flat tuple or list."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        out = []
        for x in obj:
            if isinstance(x, torch.Tensor):
                out.append(x)
            elif not isinstance(x, _SCALARS) and not _flat_scalars(x):
                out.extend(t for _, t in _leaves(x))
        return out
    return [t for _, t in _leaves(obj)]


def _non_tensors(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Non-tensor leaves of the top-level arguments, as attributes."""
    if isinstance(obj, torch.Tensor) or obj is None:
        return {}
    if isinstance(obj, (bool, int, float, str)):
        return {prefix: _jsonable(obj)}
    return {}


# ------------------------------------------------------------------ the recorder
@dataclasses.dataclass
class _Frame:
    module: nn.Module
    scope: tuple[str, ...]
    path: str
    leaf: bool
    ops_at_entry: int
    args: Any


class _Recorder:
    def __init__(self, model: nn.Module, graph: Graph) -> None:
        self.model = model
        self.g = graph
        self.names: dict[int, str] = {}
        self.params: dict[int, tuple[str, bool]] = {}
        #: every module once, and the total of the model's (distinct) parameters
        self.module_list: list[nn.Module] = []
        #: id(module) -> (qualified class name, is a leaf)
        self.kinds: dict[int, tuple[str, bool]] = {}
        self.param_total = 0
        buffers: list[tuple[int, str]] = []
        # one walk over the modules (named_parameters/named_buffers would walk again each); a
        # parameter's name is its first path, as named_parameters() gives it, buffers after them
        for name, mod in model.named_modules(remove_duplicate=False):
            if id(mod) not in self.names:
                self.names[id(mod)] = name
                self.module_list.append(mod)
                leaf = all(c is None for c in mod._modules.values())
                self.kinds[id(mod)] = (f"{type(mod).__module__}.{type(mod).__qualname__}", leaf)
            prefix = name + "." if name else ""
            for pname, p in mod._parameters.items():
                if p is not None and id(p) not in self.params:
                    self.params[id(p)] = (prefix + pname, True)
                    self.param_total += p.numel()
            for bname, b in mod._buffers.items():
                if b is not None:
                    buffers.append((id(b), prefix + bname))
        for key, bname in buffers:
            self.params.setdefault(key, (bname, False))
        self.param_values: dict[int, tuple[torch.Tensor, Value]] = {}
        self.counted: set[int] = set()
        # id(tensor) -> (weak reference, current Value); an entry goes when its tensor dies, so
        # activations are freed as in a plain forward pass and a reused id never finds a stale one
        self.values: dict[int, tuple[weakref.ref, Value]] = {}
        self.stack: list[_Frame] = []
        self.calls: dict[tuple[tuple[str, ...], str], int] = {}
        self.modules: dict[str, dict[str, Any]] = {}
        self.ops = 0
        self.leaf_calls = 0
        #: in a meta capture, the device the model really lives on (what "meta" stands for)
        self.meta_as: str | None = None
        #: ``observe(value, tensor)`` is called with every new activation right after the op that
        #: made it (before any later in-place op changes it): the activation-thumbnail hook
        self.observe: Callable[[Value, torch.Tensor], None] | None = None
        #: record the calling line of the model's code per op (node.meta["source"])
        self.locations = False
        #: ``on_output(path, scope, output)`` is called when a module call returns
        self.on_output: Callable[[str, tuple[str, ...], Any], None] | None = None

    # values ------------------------------------------------------------
    def bind(self, t: torch.Tensor, v: Value) -> None:
        key = id(t)
        values = self.values

        def gone(ref: weakref.ref) -> None:
            if values.get(key, (None,))[0] is ref:
                del values[key]

        values[key] = (weakref.ref(t, gone), v)

    def value_of(self, t: torch.Tensor) -> Value:
        hit = self.values.get(id(t))
        if hit is not None and hit[0]() is t:
            return hit[1]
        hit = self.param_values.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        info = self.params.get(id(t))
        if info is not None:
            v = self.g.add_param(info[0], tuple(t.shape), _dtype(t), rename=True)
            if not info[1]:
                v.meta["buffer"] = True
        else:  # a tensor made outside the traced ops (a plain attribute, numpy, a closure)
            v = self.g.add_param("constant", tuple(t.shape), _dtype(t), rename=True)
            v.meta["constant"] = True
        self.param_values[id(t)] = (t, v)
        return v

    @property
    def scope(self) -> tuple[str, ...]:
        return self.stack[-1].scope if self.stack else ()

    # hooks -------------------------------------------------------------
    def pre_hook(self, module: nn.Module, args: Any) -> None:
        if not self.stack and module is self.model:
            self.stack.append(_Frame(module, (), "", False, self.ops, ()))
            return
        if not self.stack:
            return  # a module called outside the traced model
        parent = self.stack[-1]
        path = self.names.get(id(module), type(module).__name__)
        rel = path[len(parent.path) + 1:] if parent.path and path.startswith(parent.path + ".") else path
        key = (parent.scope, rel)
        n = self.calls[key] = self.calls.get(key, 0) + 1
        comp = rel if n == 1 else f"{rel}#{n}"
        scope = parent.scope + (comp,)
        kind = self.kinds.get(id(module))
        if kind is None:  # a module that is not an attribute of the model (made in forward)
            kind = (f"{type(module).__module__}.{type(module).__qualname__}", next(iter(module.children()), None) is None)
        tname, leaf = kind
        self.modules[scope_key(scope)] = {"type": tname, "path": path, "leaf": leaf}
        if leaf:
            self.leaf_calls += 1
        self.stack.append(_Frame(module, scope, path, leaf, self.ops, args))

    def post_hook(self, module: nn.Module, args: Any, output: Any) -> None:
        while self.stack and self.stack[-1].module is not module:
            self.stack.pop()  # a module whose forward raised inside a try block
        if not self.stack:
            return
        frame = self.stack.pop()
        if self.on_output is not None:
            self.on_output(frame.path, frame.scope, output)
        if frame.leaf and self.ops == frame.ops_at_entry:
            # a leaf module that called no tensor op (nn.Identity): still one node for its call
            outs = _tensors(output)
            if outs:
                self.stack.append(frame)
                # named as ops are (lower case: dropout, identity), not as the class is
                self.record_node(_snake(type(module).__name__), _tensors(frame.args), {}, outs, inplace=False,
                                 alias_ok=False)
                self.stack.pop()

    # ops ---------------------------------------------------------------
    def record(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        name, getter = _op_name(func)
        if getter and name not in _GETTERS_KEPT:
            return
        outs = _tensors(out)
        inplace = (name.endswith("_") and not name.endswith("__")) or bool(kwargs.get("inplace"))
        if name == "setitem" and args and isinstance(args[0], torch.Tensor):
            outs, inplace = [args[0]], True
        if not outs:
            return
        if name in _ALIASES:
            ins = _tensors(args)
            if ins:
                for t in outs:
                    self.bind(t, self.value_of(ins[0]))
                return
        ins, attrs = self.split(name, args, kwargs)
        self.record_node(name, ins, attrs, outs, inplace=inplace, alias_ok=True)

    def split(self, name: str, args: tuple, kwargs: dict) -> tuple[list[torch.Tensor], dict[str, Any]]:
        """The call's tensors (in order, from any nest) and its other arguments as attributes,
        in one pass over the arguments (it runs for every op)."""
        names = _POSITIONAL.get(name, ())
        ins: list[torch.Tensor] = []
        attrs: dict[str, Any] = {}
        for key, a in itertools.chain(enumerate(args), kwargs.items()):
            if isinstance(a, torch.Tensor):
                ins.append(a)
                continue
            if not (type(a) in _SCALARS or _flat_scalars(a)):
                found = [t for _, t in _leaves(a)]
                if found:
                    ins += found
                    continue
            if type(key) is int:  # positional: named when the op's signature is known
                key = names[key] if key < len(names) else f"arg{key}"
            elif key == "inplace":
                continue
            attrs[key] = _jsonable(a, meta_as=self.meta_as)
        if name[:4] == "conv" and len(args) > 1 and isinstance(args[1], torch.Tensor):
            attrs["kernel_size"] = list(args[1].shape[2:])
        return ins, attrs

    def record_node(self, name: str, ins: list, attrs: dict, outs: list, *, inplace: bool, alias_ok: bool) -> None:
        if alias_ok and not inplace and all(any(o is t for t in ins) for o in outs):
            return  # .contiguous()/.to() returning the same tensor: nothing happened
        in_values = []
        seen: set[int] = set()
        params = 0
        for t in ins:
            key = id(t)
            if key in seen:
                continue
            seen.add(key)
            in_values.append(self.value_of(t))
            info = self.params.get(key)
            if info is not None and info[1] and key not in self.counted:
                self.counted.add(key)
                params += t.numel()
        scope = self.stack[-1].scope if self.stack else ()
        node = self.g.add_node(
            name, in_values, [(name, tuple(t.shape), _dtype(t)) for t in outs],
            name="/".join((*scope, name)), domain="torch", attrs=attrs, scope=scope, params=params)
        if inplace:
            node.meta["inplace"] = True
        if self.locations:
            where = _call_site()
            if where:
                node.meta["source"] = where
        for t, v in zip(outs, node.outputs):
            self.bind(t, v)
        if self.observe is not None:
            for t, v in zip(outs, node.outputs):
                self.observe(v, t)
        self.ops += 1


#: functions whose output has the shape and dtype of their first argument.  On meta tensors
#: netdraw answers them itself: PyTorch's meta path for some (batch_norm) runs a Python
#: decomposition costing milliseconds per call.
_SAME_SHAPE = {
    "batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm",
    "relu", "relu6", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardswish", "hardsigmoid",
    "leaky_relu", "elu", "selu", "celu", "softplus", "softmax", "log_softmax",
}


_BINARY = {"add", "sub", "mul", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__"}
#: comparisons: the broadcast shape, bool
_COMPARE = {"eq", "ne", "lt", "le", "gt", "ge", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}
_MATMUL = {"matmul", "bmm", "mm", "__matmul__"}
#: on a floating tensor: the broadcast shape and the promoted (floating) dtype
_FLOAT_BINARY = {"pow", "__pow__", "div", "__truediv__", "true_divide"}
#: on a floating tensor: its shape and dtype
_FLOAT_UNARY = {"rsqrt", "sqrt", "exp", "log", "neg", "__neg__", "abs", "sin", "cos", "reciprocal", "erf"}


def _sdpa_shape(q: torch.Tensor, k: Any, v: Any, kwargs: dict) -> torch.Tensor | None:
    """``scaled_dot_product_attention``: (..., L, E) queries, (..., S, E) keys, (..., S, Ev) values
    give (..., L, Ev); None (PyTorch's own meta path decides) for anything unusual."""
    if not (isinstance(k, torch.Tensor) and isinstance(v, torch.Tensor) and k.is_meta and v.is_meta):
        return None
    if not (q.dim() == k.dim() == v.dim() >= 3 and q.dtype == k.dtype == v.dtype and q.is_floating_point()):
        return None
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2] or k.shape[:-2] != v.shape[:-2]:
        return None
    gqa = kwargs.get("enable_gqa", False)
    if q.shape[:-3] != k.shape[:-3] or (q.shape[-3] != k.shape[-3] and not (gqa and q.shape[-3] % k.shape[-3] == 0)):
        return None
    return torch.empty((*q.shape[:-1], v.shape[-1]), dtype=q.dtype, device="meta")


def _matmul_shape(a: torch.Tensor, b: Any) -> torch.Tensor | None:
    """``matmul``/``bmm``/``mm`` of two meta tensors of at least 2 dimensions (batch dimensions
    broadcast); None for vectors and mixed dtypes."""
    if not (isinstance(b, torch.Tensor) and b.is_meta and a.dim() >= 2 and b.dim() >= 2 and a.dtype == b.dtype):
        return None
    if a.shape[-1] != b.shape[-2]:
        return None
    batch = torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return torch.empty((*batch, a.shape[-2], b.shape[-1]), dtype=a.dtype, device="meta")


def _cat_shape(tensors: Any, dim: Any) -> torch.Tensor | None:
    """``cat`` of meta tensors of one dtype and rank (no legacy empty 1-d tensors)."""
    if not isinstance(tensors, (list, tuple)) or not tensors or not isinstance(dim, int):
        return None
    if not all(isinstance(t, torch.Tensor) and t.is_meta and t.dtype == tensors[0].dtype for t in tensors):
        return None
    # as PyTorch does, 1-d empty tensors (an empty cache's start) are left out
    tensors = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0)]
    if not tensors:
        return None
    first = tensors[0]
    n = first.dim()
    if n == 0 or not -n <= dim < n:
        return None
    dim %= n
    total = 0
    for t in tensors:
        if t.dim() != n:
            return None
        if t.shape[:dim] != first.shape[:dim] or t.shape[dim + 1:] != first.shape[dim + 1:]:
            return None
        total += t.shape[dim]
    return torch.empty((*first.shape[:dim], total, *first.shape[dim + 1:]), dtype=first.dtype, device="meta")


_MHA_ARGS = ("query", "key", "value", "embed_dim_to_check", "num_heads", "in_proj_weight", "in_proj_bias", "bias_k",
             "bias_v", "add_zero_attn", "dropout_p", "out_proj_weight", "out_proj_bias", "training",
             "key_padding_mask", "need_weights", "attn_mask", "use_separate_proj_weight", "q_proj_weight",
             "k_proj_weight", "v_proj_weight", "static_k", "static_v", "average_attn_weights", "is_causal")
_MHA_DEFAULTS = {"need_weights": True, "average_attn_weights": True, "add_zero_attn": False}


def _mha_shape(args: tuple, kwargs: dict) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """``F.multi_head_attention_forward`` (what ``nn.MultiheadAttention`` and ``nn.Transformer``
    call; ~6 ms on PyTorch's meta paths): (L, N, E) queries give a (L, N, E_out) output and, when
    asked, (N, L, S) or (N, heads, L, S) weights; unbatched (L, E) queries drop N.  None for static
    keys and anything unusual."""
    if len(args) > len(_MHA_ARGS) or not set(kwargs) <= set(_MHA_ARGS):
        return None
    a = {**_MHA_DEFAULTS, **dict(zip(_MHA_ARGS, args)), **kwargs}
    q, k, v, w = a.get("query"), a.get("key"), a.get("value"), a.get("out_proj_weight")
    tensors = (q, k, v, w)
    if not all(isinstance(t, torch.Tensor) and t.is_meta and t.dtype == q.dtype for t in tensors):
        return None
    if a.get("static_k") is not None or a.get("static_v") is not None or not q.is_floating_point():
        return None
    heads = a.get("num_heads")
    if q.dim() not in (2, 3) or k.dim() != q.dim() or v.dim() != q.dim() or w.dim() != 2 \
            or not isinstance(heads, int) or heads < 1 or q.shape[-1] % heads:
        return None
    batched = q.dim() == 3
    if batched and not (k.shape[1] == v.shape[1] == q.shape[1]) or k.shape[0] != v.shape[0]:
        return None
    length, source = q.shape[0], k.shape[0] + (a.get("bias_k") is not None) + bool(a["add_zero_attn"])
    out = torch.empty((length, *q.shape[1:-1], w.shape[0]), dtype=q.dtype, device="meta")
    if not a["need_weights"]:
        return out, None
    n = (q.shape[1],) if batched else ()
    per_head = () if a["average_attn_weights"] else (heads,)
    return out, torch.empty((*n, *per_head, length, source), dtype=q.dtype, device="meta")


def _mean_shape(a: torch.Tensor, dim: Any, keepdim: Any) -> torch.Tensor | None:
    """``mean`` over ``dim`` (an int, a list of ints or None: all)."""
    n = a.dim()
    if dim is None:
        dims = set(range(n))
    elif isinstance(dim, int) and not isinstance(dim, bool):
        dims = {dim}
    elif isinstance(dim, (list, tuple)) and all(isinstance(d, int) and not isinstance(d, bool) for d in dim):
        dims = set(dim)
    else:
        return None
    if not isinstance(keepdim, bool) or any(not -max(n, 1) <= d < max(n, 1) for d in dims):
        return None
    dims = {d % max(n, 1) for d in dims}
    shape = [1 if i in dims else s for i, s in enumerate(a.shape)] if keepdim else \
        [s for i, s in enumerate(a.shape) if i not in dims]
    return torch.empty(shape, dtype=a.dtype, device="meta")


def _same_shape_fits(name: str, a: torch.Tensor, args: tuple, kwargs: dict) -> bool:
    """Whether a :data:`_SAME_SHAPE` call is well formed, as a real run checks it: a norm's
    weights and statistics sized for the input's channels (or normalised shape), a softmax's
    dim in range, no stray tensor argument to an activation.  When not, the shortcut stands
    aside and PyTorch's meta path raises its error."""
    others = [t for t in (*args[1:], *kwargs.values()) if isinstance(t, torch.Tensor)]
    if name in ("batch_norm", "instance_norm", "group_norm"):
        if a.dim() < 2:
            return False
        c = a.shape[1]
        if name == "group_norm":
            groups = args[1] if len(args) > 1 else kwargs.get("num_groups")
            if type(groups) is not int or groups < 1 or c % groups:
                return False
        return all(t.dim() == 1 and t.shape[0] == c for t in others)
    if name in ("layer_norm", "rms_norm"):
        ns = args[1] if len(args) > 1 else kwargs.get("normalized_shape")
        ns = (ns,) if type(ns) is int else tuple(ns) if isinstance(ns, (list, tuple)) else None
        if ns is None or not all(type(d) is int for d in ns) or len(ns) > a.dim() \
                or tuple(a.shape[a.dim() - len(ns):]) != ns:
            return False
        return all(tuple(t.shape) == ns for t in others)
    if name in ("softmax", "log_softmax"):
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        return dim is None or (type(dim) is int and -max(a.dim(), 1) <= dim < max(a.dim(), 1))
    if name == "local_response_norm":
        return a.dim() >= 3
    return not others


def _meta_shortcut(name: str, args: tuple, kwargs: dict) -> torch.Tensor | None:
    """The result of a common op on meta tensors, without PyTorch's Python meta path (for an
    elementwise add it runs shape and stride reference code costing ~0.5 ms a call, for
    ``scaled_dot_product_attention`` a decomposition of 2-5 ms).  None: let PyTorch answer."""
    if name == "cat":
        return _cat_shape(args[0], args[1] if len(args) > 1 else kwargs.get("dim", 0)) \
            if len(args) <= 2 and set(kwargs) <= {"dim"} else None
    a = args[0]
    if not isinstance(a, torch.Tensor):
        return None
    if name == "multi_head_attention_forward":
        return _mha_shape(args, kwargs)  # type: ignore[return-value]
    if name in _SAME_SHAPE and "dtype" not in kwargs:
        if not _same_shape_fits(name, a, args, kwargs):
            return None  # PyTorch's own meta path raises the error a real run would
        return a if kwargs.get("inplace") else torch.empty_like(a)
    if name == "linear" and len(args) >= 2 and isinstance(args[1], torch.Tensor) and not kwargs \
            and args[1].dim() == 2 and a.dtype == args[1].dtype and a.dim() >= 1 \
            and a.shape[-1] == args[1].shape[1] \
            and (len(args) < 3 or args[2] is None or tuple(args[2].shape) == (args[1].shape[0],)):
        return torch.empty((*a.shape[:-1], args[1].shape[0]), dtype=a.dtype, device="meta")
    if name == "scaled_dot_product_attention" and len(args) >= 3:
        return _sdpa_shape(a, args[1], args[2], kwargs)
    if name in _MATMUL and len(args) == 2 and not kwargs:
        b = args[1]
        if name in ("mm", "bmm") and not (isinstance(b, torch.Tensor) and a.dim() == b.dim() == len(name)
                                          and a.shape[:-2] == b.shape[:-2]):
            return None
        return _matmul_shape(a, b)
    if name == "addmm" and len(args) == 3 and set(kwargs) <= {"beta", "alpha"} and a.dim() <= 2:
        out = _matmul_shape(args[1], args[2])
        if out is None or out.dim() != 2 or a.dtype != out.dtype or not a.is_meta:
            return None
        try:
            torch.broadcast_shapes(a.shape, out.shape)
        except RuntimeError:
            return None  # PyTorch raises its own error
        return out
    if name in _FLOAT_UNARY and len(args) == 1 and not kwargs and a.is_floating_point():
        return torch.empty_like(a)
    if name == "mean" and a.is_floating_point() and len(args) <= 3 and set(kwargs) <= {"dim", "keepdim"}:
        return _mean_shape(a, args[1] if len(args) > 1 else kwargs.get("dim"),
                           args[2] if len(args) > 2 else kwargs.get("keepdim", False))
    float_op = name in _FLOAT_BINARY and not kwargs and a.is_floating_point()
    if (float_op or name in _BINARY or name in _COMPARE) and len(args) == 2 and set(kwargs) <= {"alpha"}:
        b = args[1]
        if isinstance(b, torch.Tensor) and not b.is_meta and b.dim() > 0:
            return None
        if not isinstance(b, (torch.Tensor, int, float, bool)):
            return None
        shape = torch.broadcast_shapes(a.shape, b.shape) if isinstance(b, torch.Tensor) else a.shape
        dtype = torch.bool if name in _COMPARE else torch.result_type(a, b)
        return torch.empty(shape, dtype=dtype, device="meta")
    return None


class _Mode(TorchFunctionMode):
    def __init__(self, rec: _Recorder, meta: bool) -> None:
        super().__init__()
        self.rec = rec
        self.meta = meta

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        out = None
        if self.meta and args and (args[0].is_meta if isinstance(args[0], torch.Tensor) else
                                   type(args[0]) in (list, tuple)):
            out = _meta_shortcut(getattr(func, "__name__", ""), args, kwargs)
        if out is None:
            out = func(*args, **kwargs)
        self.rec.record(func, args, kwargs, out)
        return out


_SKIP_DIRS = (str(Path(torch.__file__).resolve().parent), str(Path(__file__).resolve().parent))  # torch, netdraw


def _call_site() -> str | None:
    """``file.py:line in function`` of the innermost frame outside torch and netdraw."""
    f = sys._getframe(2)
    while f is not None:
        name = f.f_code.co_filename
        if not name.startswith(_SKIP_DIRS) and not name.startswith("<"):
            return f"{Path(name).name}:{f.f_lineno} in {f.f_code.co_name}"
        f = f.f_back
    return None


_DTYPE_NAMES: dict[torch.dtype, str] = {}


def _dtype(t: torch.Tensor) -> str:
    d = t.dtype
    name = _DTYPE_NAMES.get(d)
    if name is None:
        name = _DTYPE_NAMES[d] = str(d).replace("torch.", "")
    return name


@contextmanager
def training(model: nn.Module, train: bool, modules: list[nn.Module] | None = None) -> Iterator[nn.Module]:
    """``model.train(train)`` inside the block; every module's training flag is as before
    afterwards, also after an error.  The one place netdraw changes a model's mode (``modules``:
    the model's modules when the caller has listed them already).  Module.train() visits every
    module, so it is called only when some flag differs."""
    flags = [(m, m.training) for m in (modules if modules is not None else model.modules())]
    changed = any(f != train for _, f in flags)
    if changed:
        model.train(train)
    try:
        yield model
    finally:
        if changed:
            for m, f in flags:
                if m.training != f:
                    m.training = f


@contextmanager
def quiet_loggers(*loggers: str) -> Iterator[None]:
    """Silence PyTorch loggers that log a whole traceback or graph before raising: the error
    reaches the user as one line.  Their levels are restored afterwards."""
    logs = [logging.getLogger(name) for name in loggers]
    levels = [lg.level for lg in logs]
    for lg in logs:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(logs, levels):
            lg.setLevel(level)


def as_real(x: Any) -> torch.Tensor:
    """An example input as a real tensor (shape-only specs get seeded values)."""
    return x.make() if isinstance(x, InputSpec) else x


def materialise(obj: Any, convert: Any) -> Any:
    """Replace InputSpecs and tensors by what ``convert`` makes of them, through any nest."""
    if isinstance(obj, (InputSpec, torch.Tensor)):
        return convert(obj)
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(materialise(v, convert) for v in obj)
    if isinstance(obj, list):
        return [materialise(v, convert) for v in obj]
    if type(obj) is dict:
        return {k: materialise(v, convert) for k, v in obj.items()}
    return obj


def _bind_names(model: nn.Module, args: tuple, kwargs: dict) -> list[tuple[str, Any]]:
    try:
        sig = inspect.signature(model.forward)
        bound = sig.bind_partial(*args, **kwargs)
        items = []
        for k, v in bound.arguments.items():
            kind = sig.parameters[k].kind
            if kind == inspect.Parameter.VAR_POSITIONAL:
                items += [(f"{k}.{i}", x) for i, x in enumerate(v)]
            elif kind == inspect.Parameter.VAR_KEYWORD:
                items += list(v.items())
            else:
                items.append((k, v))
        return items
    except (TypeError, ValueError):
        return [(f"input{i}", a) for i, a in enumerate(args)] + list(kwargs.items())


def set_unattributed(graph: Graph, model: nn.Module, total: int | None = None) -> None:
    """Record the parameters no captured op used, so the graph's total is the model's
    (``total``: the model's distinct parameter count, when the caller already has it)."""
    if total is None:
        total = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    missing = total - sum(n.params for n in graph.nodes)
    if missing:
        graph.meta["params_unattributed"] = missing


def _prune(graph: Graph) -> None:
    """Drop ops whose results reach no output: the ones a model runs only to decide a Python
    ``if`` (``x.sum() > 0``, ``mask.all()``).  They are not part of the data flow, and which
    of them run depends on the tensors' kind (transformers skips some on fake tensors)."""
    for node in reversed(graph.nodes):
        if not any(v.users or v in graph.outputs for v in node.outputs):
            graph.remove_node(node)
    used = {id(v) for n in graph.nodes for v in n.inputs if v is not None} | {id(v) for v in graph.outputs}
    for v in list(graph.values):
        if v.kind == "param" and v.producer is None and id(v) not in used:
            graph.remove_value(v)


def record(model: nn.Module, args: tuple, kwargs: dict, *, kind: str, train: bool, grad: bool,
         failures: list[str], observe: Callable[[Value, torch.Tensor], None] | None = None,
         on_output: Callable[[str, tuple[str, ...], Any], None] | None = None, inference: bool = False,
         locations: bool = False) -> Graph:
    """Run ``model(*args, **kwargs)`` once on ``kind`` tensors (see :data:`KINDS`) and return what
    it did as a :class:`~netdraw.ir.Graph`; a failure of the model propagates as it is (``failures``,
    the reasons earlier kinds failed, go into ``graph.meta["source"]["fallbacks"]``).

    ``observe(value, tensor)`` is called with every new activation right after the op that made it
    (and with each graph input); ``on_output(path, scope, output)`` when a module call returns.
    ``train``/``grad``: the training flag and autograd during the run; ``inference``: run under
    ``torch.inference_mode``; ``locations``: each op's calling line in ``meta["source"]``.  The
    model is left as it was."""
    graph = Graph(type(model).__name__)
    rec = _Recorder(model, graph)
    rec.locations = locations
    rec.observe = observe
    rec.on_output = on_output
    with ExitStack() as stack:
        call, convert, mode = _runner(model, rec, kind)
        args = materialise(args, convert)
        kwargs = materialise(kwargs, convert)
        attrs = _bind_inputs(graph, rec, model, args, kwargs, observe)
        if mode is not None:
            stack.enter_context(quiet_loggers("torch._subclasses.fake_tensor"))  # logs a failing op's traceback
            stack.enter_context(mode)
        _enter_run_contexts(stack, model, rec, kind=kind, train=train, grad=grad, inference=inference)
        out = call(*args, **kwargs)
    _set_outputs(graph, rec, out)
    _prune(graph)
    set_unattributed(graph, model, rec.param_total)
    graph.meta["source"] = {"format": "torch", "capture": "eager", "mode": kind}
    if failures:
        graph.meta["source"]["fallbacks"] = list(failures)
    graph.meta["model_type"] = f"{type(model).__module__}.{type(model).__qualname__}"
    graph.meta["modules"] = rec.modules
    graph.meta["leaf_calls"] = rec.leaf_calls
    if attrs:
        graph.meta["input_attrs"] = attrs
    return graph


def _runner(model: nn.Module, rec: _Recorder, kind: str) -> tuple[Callable[..., Any], Callable[[Any], Any], Any]:
    """How a run on ``kind`` tensors calls the model, converts each input, and which tensor mode
    (fake) it runs under: meta runs swap the parameters for meta copies (functional_call)."""
    if kind == "meta":
        swap: dict[str, torch.Tensor] = {}
        for name, p in model.named_parameters():
            swap[name] = nn.Parameter(p.to("meta"), requires_grad=p.requires_grad)
            rec.params[id(swap[name])] = (name, True)
        for name, b in model.named_buffers():
            swap[name] = b.to("meta")
            rec.params[id(swap[name])] = (name, False)
        first = next(iter(model.parameters()), None)
        rec.meta_as = str(first.device) if first is not None else "cpu"

        def to_meta(x: Any) -> torch.Tensor:
            if isinstance(x, InputSpec):
                return torch.empty(x.shape, dtype=x.dtype, device="meta")
            return x.to("meta")

        def call(*a: Any, **k: Any) -> Any:
            return torch.func.functional_call(model, swap, a, k, tie_weights=True, strict=False)
        return call, to_meta, None
    if kind == "fake":
        from torch._subclasses.fake_tensor import FakeTensorMode

        fake_mode = FakeTensorMode(allow_non_fake_inputs=True)

        def to_fake(x: Any) -> torch.Tensor:
            return fake_mode.from_tensor(x.make() if isinstance(x, InputSpec) else x)
        return model, to_fake, fake_mode
    return model, as_real, None


def _bind_inputs(graph: Graph, rec: _Recorder, model: nn.Module, args: tuple, kwargs: dict,
                 observe: Callable[[Value, torch.Tensor], None] | None) -> dict[str, Any]:
    """Every tensor in the call's arguments becomes a graph input named by its path; the other
    leaves are returned (``graph.meta["input_attrs"]``)."""
    attrs: dict[str, Any] = {}
    for name, obj in _bind_names(model, args, kwargs):
        for path, t in _leaves(obj, name):
            graph_input = graph.add_input(path, tuple(t.shape), _dtype(t), rename=True)
            rec.bind(t, graph_input)
            if observe is not None:
                observe(graph_input, t)
        attrs.update(_non_tensors(obj, name))
    return attrs


def _enter_run_contexts(stack: ExitStack, model: nn.Module, rec: _Recorder, *, kind: str, train: bool,
                        grad: bool, inference: bool) -> None:
    """Autograd, training flags, the garbage collector, the module hooks and the recording mode,
    each undone when ``stack`` closes."""
    if kind != "real" and hasattr(torch.compiler, "_is_compiling_flag"):
        # On shape-only tensors we trace a graph, as torch.compile does: libraries that ask
        # torch.compiler.is_compiling() then skip value-dependent shortcuts (transformers'
        # "is this mask all ones?"), which meta tensors could not answer.
        saved = torch.compiler._is_compiling_flag
        torch.compiler._is_compiling_flag = True
        stack.callback(setattr, torch.compiler, "_is_compiling_flag", saved)
    if inference and not grad:
        stack.enter_context(torch.inference_mode())
    else:
        stack.enter_context(torch.enable_grad() if grad else torch.no_grad())
    stack.enter_context(training(model, train, rec.module_list))
    if gc.isenabled():
        # the recorder makes thousands of small objects (nodes, values, weak references): the
        # cyclic collector would sweep them again and again during the run; reference counting
        # still frees every tensor as in a plain forward pass
        gc.disable()
        stack.callback(gc.enable)
    pre = nn.modules.module.register_module_forward_pre_hook(rec.pre_hook)
    stack.callback(pre.remove)
    post = nn.modules.module.register_module_forward_hook(rec.post_hook, always_call=True)
    stack.callback(post.remove)
    stack.enter_context(_Mode(rec, meta=kind == "meta"))


def _set_outputs(graph: Graph, rec: _Recorder, out: Any) -> None:
    """Every tensor the call returned is a graph output, named by its path in the result."""
    outputs = []
    for path, t in _leaves(out, "output" if isinstance(out, torch.Tensor) else "", objects=True):
        v = rec.value_of(t)
        if (v.producer is not None or v.meta.get("constant")) and v not in outputs and v.graph is graph:
            graph.rename_value(v, path or "output")  # a result, or a tensor passed through untouched
        outputs.append(v)
    graph.outputs = outputs
