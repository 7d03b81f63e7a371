"""Export a netdraw graph as an ONNX file that Netron opens, keeping the module hierarchy.

* Every module instance down to ``depth`` becomes an ONNX local function (domain
  ``netdraw.module``), called where the module ran, so Netron's top view is the collapsed diagram
  and each function node opens to the module's insides, nested functions included.
* Every edge is typed (``value_info`` in the graph and in each function), so Netron labels it
  with its shape.
* Nodes and function calls carry ``metadata_props`` (module path, module type, parameters, MACs
  where known, the calling line of the model's code when the capture recorded it) and a one-line
  ``doc_string``; the model carries producer ``netdraw`` and its
  version, the parameter total and the source model's name.
* Ops map to standard ONNX ops where the attributes translate (:data:`TORCH_TO_ONNX`); any other
  torch op keeps its name in the custom domain ``org.pytorch.aten``.
* Weights: by default none are stored (a small file): each parameter is a sparse initializer of
  its shape with no values, marked :data:`OMITTED` (netdraw reads its size back); ``weights``
  (``{name: tensor}``) stores them (as external data past 2 GB).
* ONNX sources pass through unchanged apart from the added metadata.
* Activation thumbnails are left out, with a warning: Netron draws no images in nodes, and its
  properties panel shows metadata as text.

``onnx.checker`` passes: the full check for ONNX sources, the structural check otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import onnx
from onnx import TensorProto, helper

from netdraw.errors import NetdrawError, first_line
from netdraw.ir import Graph, Node, Value, scope_key

__all__ = ["to_onnx", "export", "TORCH_TO_ONNX", "MODULE_DOMAIN", "TORCH_DOMAIN"]

MODULE_DOMAIN = "netdraw.module"
TORCH_DOMAIN = "org.pytorch.aten"
OPSET = 17
#: the doc string of a parameter exported without its values
OMITTED = "netdraw: weights omitted"

_DTYPES = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "bfloat16": TensorProto.BFLOAT16,
           "float64": TensorProto.DOUBLE, "int64": TensorProto.INT64, "int32": TensorProto.INT32,
           "int16": TensorProto.INT16, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8,
           "bool": TensorProto.BOOL, "complex64": TensorProto.COMPLEX64}


def _ints(v: Any, n: int) -> list[int] | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return [v] * n
    if isinstance(v, list) and v and all(isinstance(x, int) for x in v):
        return v if len(v) == n else (v * n if len(v) == 1 else None)
    return None


def _conv(a: dict[str, Any], node: Node) -> dict[str, Any] | None:
    k = a.get("kernel_size")
    if not isinstance(k, list):
        return None
    n = len(k)
    pad = a.get("padding", 0)
    if isinstance(pad, str):
        return None  # "same"/"valid": no fixed pads
    p = _ints(pad, n)
    out = {"kernel_shape": k, "strides": _ints(a.get("stride", 1), n), "dilations": _ints(a.get("dilation", 1), n),
           "group": int(a.get("groups", 1))}
    if p is None or None in out.values():
        return None
    out["pads"] = p + p
    return out


def _pool(a: dict[str, Any], node: Node) -> dict[str, Any] | None:
    n = len(node.outputs[0].shape or ()) - 2
    k = _ints(a.get("kernel_size"), n) if n > 0 else None
    if k is None:
        return None
    s = a.get("stride")
    strides = _ints(s if s not in (None, []) else k, n)
    p = _ints(a.get("padding", 0), n)
    if strides is None or p is None:
        return None
    out = {"kernel_shape": k, "strides": strides, "pads": p + p}
    if a.get("ceil_mode"):
        out["ceil_mode"] = 1
    return out


def _axis(key: str, default: int = 1) -> Callable[[dict[str, Any], Node], dict[str, Any] | None]:
    def conv(a: dict[str, Any], node: Node) -> dict[str, Any] | None:
        v = a.get(key, default)
        return {"axis": v} if isinstance(v, int) else None
    return conv


def _none(a: dict[str, Any], node: Node) -> dict[str, Any]:
    return {}


def _global_pool(a: dict[str, Any], node: Node) -> dict[str, Any] | None:
    size = a.get("output_size")
    ok = size == 1 or (isinstance(size, list) and all(x == 1 for x in size))
    return {} if ok else None


def _bn(a: dict[str, Any], node: Node) -> dict[str, Any] | None:
    eps = a.get("eps", 1e-5)
    return {"epsilon": float(eps)} if isinstance(eps, (int, float)) and len(node.inputs) == 5 else None


def _flatten(a: dict[str, Any], node: Node) -> dict[str, Any] | None:
    end = a.get("end_dim", -1)
    rank = len(node.inputs[0].shape or ()) if node.inputs and node.inputs[0] is not None else 0
    if end not in (-1, rank - 1):
        return None
    return {"axis": int(a.get("start_dim", 0))}


def _gemm(a: dict[str, Any], node: Node) -> dict[str, Any] | None:
    x = node.inputs[0]
    return {"transB": 1} if x is not None and x.shape is not None and len(x.shape) == 2 else None


#: torch op -> (ONNX op, attribute converter returning None when they do not translate,
#: the input order as indices into the torch op's inputs)
TORCH_TO_ONNX: dict[str, tuple[str, Callable[[dict[str, Any], Node], dict[str, Any] | None], tuple[int, ...] | None]] = {
    "conv1d": ("Conv", _conv, None), "conv2d": ("Conv", _conv, None), "conv3d": ("Conv", _conv, None),
    "relu": ("Relu", _none, None), "relu_": ("Relu", _none, None), "sigmoid": ("Sigmoid", _none, None),
    "tanh": ("Tanh", _none, None), "add": ("Add", _none, None), "add_": ("Add", _none, None),
    "sub": ("Sub", _none, None), "mul": ("Mul", _none, None), "div": ("Div", _none, None),
    "matmul": ("MatMul", _none, None), "linear": ("Gemm", _gemm, None),
    "max_pool1d": ("MaxPool", _pool, None), "max_pool2d": ("MaxPool", _pool, None),
    "avg_pool2d": ("AveragePool", _pool, None), "adaptive_avg_pool2d": ("GlobalAveragePool", _global_pool, None),
    "batch_norm": ("BatchNormalization", _bn, (0, 3, 4, 1, 2)), "flatten": ("Flatten", _flatten, None),
    "softmax": ("Softmax", _axis("dim", -1), None), "cat": ("Concat", _axis("dim", 0), None),
}


def _arity_ok(op: str, n: int) -> bool:
    schema = onnx.defs.get_schema(op, OPSET)
    return schema.min_input <= n <= schema.max_input


def _attr_value(v: Any) -> Any:
    """A netdraw attribute as an ONNX attribute value (custom-domain nodes), or None to skip it."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float, str)):
        return v
    if isinstance(v, list) and v and all(isinstance(x, bool) or isinstance(x, int) for x in v):
        return [int(x) for x in v]
    if isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v):
        return [float(x) for x in v]
    if v is None or isinstance(v, (list, dict)):
        return str(v) if v not in (None, [], {}) else None
    return str(v)


def _vi(v: Value) -> onnx.ValueInfoProto:
    shape = None if v.shape is None else [d if isinstance(d, int) else (d if isinstance(d, str) else None)
                                          for d in v.shape]
    return helper.make_tensor_value_info(v.name, _DTYPES.get(v.dtype or "", TensorProto.FLOAT), shape)


class _Exporter:
    def __init__(self, graph: Graph, depth: int | None, weights: dict[str, Any] | None) -> None:
        self.g = graph
        self.depth = depth
        self.weights = weights
        self.modules = graph.meta.get("modules", {})
        self.functions: list[onnx.FunctionProto] = []
        self.outputs = set(graph.outputs)
        self.fn_names: set[str] = set()

    def scope_of(self, n: Node) -> tuple[str, ...]:
        return n.scope if self.depth is None else n.scope[: self.depth]

    def node_proto(self, n: Node) -> onnx.NodeProto:
        ins = [v.name if v is not None else "" for v in n.inputs]
        outs = [v.name for v in n.outputs]
        op, domain = n.op_type, n.domain
        spec = TORCH_TO_ONNX.get(n.op_type) if n.domain == "torch" else None
        converted = spec[1](n.attrs, n) if spec else None
        if converted is not None and not _arity_ok(spec[0], len(spec[2] or ins)):
            converted = None  # e.g. x * 2: the scalar is an attribute, Mul needs two inputs
        if spec and converted is not None:
            op, domain, attrs = spec[0], "", converted
            if spec[2] is not None:
                ins = [ins[i] for i in spec[2]]
        else:
            # a torch op with no ONNX form, or a netspec op (no domain): their names in the custom domain
            if n.domain == "torch" or (n.domain == "" and self.g.meta.get("source", {}).get("format") != "onnx"):
                domain = TORCH_DOMAIN
            attrs = {k: a for k, a in ((k, _attr_value(v)) for k, v in n.attrs.items()) if a is not None}
        proto = helper.make_node(op, ins, outs, name=n.name.rsplit("/", 1)[-1], domain=domain, **attrs)
        self.annotate(proto, n.scope, n.params, n.meta.get("flops"), f"{n.op_type}" +
                      (f" in {'/'.join(n.scope)}" if n.scope else ""))
        if n.meta.get("source"):
            proto.metadata_props.append(onnx.StringStringEntryProto(key="source", value=str(n.meta["source"])))
        return proto

    def annotate(self, proto: Any, scope: tuple[str, ...], params: int, flops: Any, doc: str,
                 mtype: str | None = None) -> None:
        props = {"module": "/".join(scope)} if scope else {}
        if mtype:
            props["module_type"] = mtype
        if params:
            props["parameters"] = str(params)
        if flops:
            props["macs"] = str(flops)
        for k, v in props.items():
            proto.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
        proto.doc_string = doc

    def body(self, prefix: tuple[str, ...], nodes: list[Node]) -> list[onnx.NodeProto]:
        """The ONNX nodes of the module at ``prefix``: its own ops, and a call per child module."""
        out: list[onnx.NodeProto] = []
        i = 0
        while i < len(nodes):
            n = nodes[i]
            s = self.scope_of(n)
            if s == prefix:
                out.append(self.node_proto(n))
                i += 1
                continue
            child = s[: len(prefix) + 1]
            j = i
            while j < len(nodes) and self.scope_of(nodes[j])[: len(child)] == child:
                j += 1
            out.append(self.call(child, nodes[i:j]))
            i = j
        return out

    def call(self, scope: tuple[str, ...], members: list[Node]) -> onnx.NodeProto:
        mset = set(members)
        produced = {v for m in members for v in m.outputs}
        ins = list(dict.fromkeys(v for m in members for v in m.inputs if v is not None and v not in produced))
        outs = [v for m in members for v in m.outputs
                if v in self.outputs or any(u not in mset for u in v.users)]
        info = self.modules.get(scope_key(scope), {})
        mtype = str(info.get("type", "")).rsplit(".", 1)[-1] or "Module"
        fname = self.unique("/".join(scope) or "module")
        fn = onnx.FunctionProto()
        fn.name, fn.domain = fname, MODULE_DOMAIN
        fn.input.extend(v.name for v in ins)
        fn.output.extend(v.name for v in outs)
        fn.node.extend(self.body(scope, members))
        fn.opset_import.extend(self.opsets())
        seen = {v.name for v in ins} | {v.name for v in outs}
        for m in members:
            for v in m.outputs:
                if v.name in seen or v.shape is None:
                    continue
                fn.value_info.append(_vi(v))
        fn.value_info.extend(_vi(v) for v in ins + outs if v.shape is not None)
        fn.doc_string = f"{'/'.join(scope)} ({mtype})"
        params = sum(m.params for m in members)
        flops = sum(m.meta.get("flops") or 0 for m in members)
        self.annotate(fn, scope, params, flops, fn.doc_string, mtype)
        self.functions.append(fn)
        node = helper.make_node(fname, [v.name for v in ins], [v.name for v in outs], name=scope[-1],
                                domain=MODULE_DOMAIN)
        self.annotate(node, scope, params, flops, f"{mtype} {'/'.join(scope)}: {len(members)} ops", mtype)
        return node

    def unique(self, name: str) -> str:
        base, i = name, 1
        while name in self.fn_names:
            i += 1
            name = f"{base}#{i}"
        self.fn_names.add(name)
        return name

    def opsets(self) -> list[onnx.OperatorSetIdProto]:
        return [helper.make_opsetid("", OPSET), helper.make_opsetid(TORCH_DOMAIN, 1),
                helper.make_opsetid(MODULE_DOMAIN, 1)]

    def initializers(self) -> tuple[list[TensorProto], list[onnx.SparseTensorProto]]:
        """Dense initializers for the weights given, and for the others a sparse initializer of
        the parameter's shape with no stored values, marked :data:`OMITTED` (ONNX needs a value
        for every initializer; this one costs a few bytes, and netdraw reads its size back)."""
        import numpy as np

        dense, sparse = [], []
        used = {id(v) for n in self.g.nodes for v in n.inputs if v is not None}
        for v in self.g.values:
            if v.kind != "param" or id(v) not in used:
                continue
            if self.weights is not None and v.name in self.weights:
                arr = self.weights[v.name]
                arr = arr.detach().cpu().numpy() if hasattr(arr, "detach") else np.asarray(arr)
                dense.append(onnx.numpy_helper.from_array(arr, v.name))
                continue
            values = TensorProto(name=v.name, data_type=_DTYPES.get(v.dtype or "", TensorProto.FLOAT))
            values.dims.append(0)
            values.raw_data = b""
            values.doc_string = OMITTED + ("; buffer" if v.meta.get("buffer") else "")
            indices = onnx.numpy_helper.from_array(np.zeros((0,), np.int64), v.name + ".indices")
            sparse.append(helper.make_sparse_tensor(values, indices,
                                                    [int(d) if isinstance(d, int) else 0 for d in (v.shape or ())]))
        return dense, sparse

    def model(self) -> onnx.ModelProto:
        if any(n.subgraphs for n in self.g.nodes):
            raise NetdrawError("graphs with subgraphs are exported only from ONNX sources")
        nodes = self.body((), list(self.g.nodes))
        dense, sparse = self.initializers()
        gp = helper.make_graph(nodes, self.g.name, [_vi(v) for v in self.g.inputs],
                               [_vi(v) for v in self.g.outputs], initializer=dense, sparse_initializer=sparse)
        inner = {v.name for v in self.g.inputs} | {v.name for v in self.g.outputs}
        top = {o for p in nodes for o in p.output}
        gp.value_info.extend(_vi(v) for n in self.g.nodes for v in n.outputs
                             if v.name not in inner and v.name in top and v.shape is not None)
        opsets = self.opsets()
        known = {o.domain for o in opsets}
        used = {n.domain for n in nodes} | {n.domain for f in self.functions for n in f.node}
        extra = [helper.make_opsetid(d, 1) for d in sorted(used - known)]  # caffe, custom ONNX domains...
        opsets += extra
        for f in self.functions:
            f.opset_import.extend(extra)
        m = helper.make_model(gp, opset_imports=opsets, producer_name="netdraw", functions=self.functions)
        m.ir_version = 9
        return m


def _metadata(model: onnx.ModelProto, graph: Graph) -> None:
    from netdraw.version import __version__

    total = sum(n.params for n in graph.walk()) + int(graph.meta.get("params_unattributed", 0))
    src = graph.meta.get("source", {})
    props = {"producer": f"netdraw {__version__}", "parameters": str(total),
             "source": str(src.get("path") or graph.name), "source_format": str(src.get("format", "")),
             "model_type": str(graph.meta.get("model_type", graph.name))}
    keep = [p for p in model.metadata_props if p.key not in props]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for k, v in props.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=f"netdraw.{k}", value=v))


def to_onnx(graph: Graph, *, depth: int | None = None, weights: dict[str, Any] | None = None,
            source: str | Path | None = None) -> onnx.ModelProto:
    """The ONNX model of ``graph`` (see the module docstring); ``source``: the ONNX file an ONNX
    graph came from (passed through with metadata added)."""
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise NetdrawError(f"invalid depth {depth!r}; valid: an integer >= 0 (0: no functions) or None (all)")
    if graph.meta.get("source", {}).get("format") == "onnx":
        if source is None:
            raise NetdrawError("exporting an ONNX graph needs its file (source=)")
        model = onnx.load(str(source), load_external_data=False)
        _metadata(model, graph)
        return model
    from netdraw.passes.flops import count_flops

    counted = graph.copy()
    count_flops(counted)  # MACs into each node's metadata, where known
    model = _Exporter(counted, depth, weights).model()
    _metadata(model, graph)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise NetdrawError(f"the exported model fails onnx.checker: {first_line(exc)}") from None
    return model


def export(graph: Graph, path: str | Path, *, depth: int | None = None, weights: dict[str, Any] | None = None,
           source: str | Path | None = None) -> Path:
    """Write :func:`to_onnx` to ``path`` (weights past 2 GB go to ``<path>.data``); returns it."""
    from netdraw._io import write_atomic

    if "thumbnails" in graph.meta:
        import warnings

        warnings.warn("activation thumbnails are not exported: Netron shows no images in nodes", stacklevel=2)
    model = to_onnx(graph, depth=depth, weights=weights, source=source)
    path = Path(path)
    if model.ByteSize() > 2**31 - 1 - 2**20:
        onnx.save(model, str(path), save_as_external_data=True, location=path.name + ".data")
        return path
    write_atomic(path, model.SerializeToString())
    return path
