"""ONNX frontend: any opset, subgraphs, symbolic shapes, parameters counted but never copied."""

from __future__ import annotations

import ast
import faulthandler
import functools
import math
import os
import select
import signal
import time
from pathlib import Path
from typing import Any, Iterable

import onnx
from google.protobuf.message import DecodeError
from onnx import AttributeProto, TensorProto

from netdraw._io import note_read
from netdraw.errors import NetdrawError, first_line
from netdraw.frontends import register
from netdraw.ir import Graph, Value
from netdraw.progress import step

__all__ = ["match", "load", "read_model", "load_external_data", "from_model", "infer_shapes",
           "SHAPE_INFERENCE_TIMEOUT"]

_SMALL_TENSOR = 16  # Constant/tensor attributes up to this many elements keep their values
#: module paths from node names or metadata are cut at this depth (real models nest a dozen levels;
#: a file with thousands would make every pass and the layout crawl)
MAX_SCOPE_DEPTH = 32
#: seconds onnx's shape inference may run before netdraw goes on with the file's own shapes
SHAPE_INFERENCE_TIMEOUT = 20.0


def match(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".onnx"


def read_model(path: Path) -> onnx.ModelProto:
    """The ``ModelProto`` in an ONNX file (external data not read); a bad file is one line."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise NetdrawError(f"{path}: cannot read ({exc.strerror or exc})") from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(raw)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise NetdrawError(f"{path}: not a valid ONNX file (truncated or corrupt: {exc})") from None
    if model.ir_version <= 0 or not model.HasField("graph"):
        raise NetdrawError(f"{path}: not a valid ONNX model (no IR version or no graph)")
    return model


def load(path: Path, *, shape_inference: bool = True) -> Graph:
    """Read an ONNX file without touching external weight files.  (Activation thumbnails of it,
    a run in onnxruntime, are :func:`netdraw.load`'s: see :mod:`netdraw.analysis.activations`.)"""
    g = from_model(read_model(path), shape_inference=shape_inference)
    g.meta["source"] = {"format": "onnx", "path": Path(path).name}
    return g


def load_external_data(model: onnx.ModelProto, path: Path) -> None:
    """Read the weights stored beside the file (for a run in onnxruntime), each file noted as
    read; onnx refuses locations outside the model's folder (absolute, ``..``, symlinks)."""
    base = path.resolve().parent
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            where = next((_s(e.value) for e in t.external_data if e.key == "location"), "")
            if where:
                note_read(base / where)
    try:
        onnx.load_external_data_for_model(model, str(base))
    except Exception as exc:  # onnx's checker: ValidationError, OSError, ValueError...
        raise NetdrawError(f"{path}: cannot read its external data ({first_line(exc, limit=200)})") from None


def from_model(model: onnx.ModelProto, *, shape_inference: bool = True) -> Graph:
    """Build the IR from an in-memory ``ModelProto`` (external data is never read)."""
    warnings: list[str] = []
    if shape_inference:
        # Data propagation resolves shapes computed at run time (Shape -> Gather -> Reshape), but
        # only to concrete numbers when the inputs are static; with symbolic inputs it builds
        # expressions such as floor(h/2 - 1/2) + 1 at several times the cost.  So: static only.
        step(f"onnx shape inference ({len(model.graph.node):,} nodes)")
        inferred, problem = infer_shapes(model, data_prop=_static_inputs(model.graph))
        if inferred is not None:
            model = inferred
        else:  # go on with the shapes the file has
            warnings.append(f"shape inference failed: {problem}")
    g = Graph(_s(model.graph.name) or "graph")
    g.meta["producer"] = " ".join(_s(p) for p in (model.producer_name, model.producer_version) if p)
    g.meta["opsets"] = {(_s(o.domain) or "ai.onnx"): o.version for o in model.opset_import}
    g.meta["ir_version"] = model.ir_version
    if model.functions:
        g.meta["functions"] = sorted(f"{_s(f.domain)}::{_s(f.name)}" if f.domain else _s(f.name)
                                     for f in model.functions)
    step(f"reading {len(model.graph.node):,} nodes")
    loader = _Loader(g, warnings)
    loader.functions = {(f.domain, f.name): f for f in model.functions}
    loader.netdraw = any(p.key == "netdraw.producer" for p in model.metadata_props)
    loader.graph(model.graph, g, {})
    if loader.modules:
        g.meta["modules"] = dict(sorted(loader.modules.items()))
    if warnings:
        g.meta["warnings"] = warnings
    return g


def infer_shapes(model: onnx.ModelProto, *, data_prop: bool,
                 timeout: float = SHAPE_INFERENCE_TIMEOUT) -> tuple[onnx.ModelProto | None, str]:
    """onnx's shape inference, where its failures cannot hurt netdraw: ``(model, "")``, or
    ``(None, why)`` when it raised, crashed or ran longer than ``timeout`` seconds.

    onnx's C++ can abort the whole process on a malformed file (a failed ``std::clamp`` assertion
    on a negative dimension, say), and a huge model can keep it busy for minutes, so on POSIX it
    runs in a forked child that shares the parsed model and sends back the inferred one."""
    def run() -> onnx.ModelProto:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=data_prop)

    if not hasattr(os, "fork"):
        try:
            return run(), ""
        except Exception as exc:  # onnx raises many types here
            return None, first_line(exc)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: infer, send, and leave without running any of the parent's cleanup
        code = 0
        try:
            os.close(read_end)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)  # an assertion's message is the parent's to tell, in one line
            faulthandler.disable()  # (pytest's would print the abort on a copy of stderr)
            try:
                payload = b"ok" + run().SerializeToString()
            except Exception as exc:
                payload, code = b"error" + first_line(exc, limit=300).encode("utf-8", "replace"), 1
            with os.fdopen(write_end, "wb") as fh:
                fh.write(payload)
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    timed_out = False
    with os.fdopen(read_end, "rb", buffering=0) as fh:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fh], [], [], left)[0]:
                timed_out = True
                break
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    if timed_out:
        return None, f"it ran longer than {timeout:g} s (shapes are the file's own)"
    if data.startswith(b"ok") and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        inferred = onnx.ModelProto()
        try:
            inferred.ParseFromString(data[2:])
        except (DecodeError, RuntimeError, ValueError) as exc:
            return None, first_line(exc)
        return inferred, ""
    if data.startswith(b"error"):
        return None, data[5:].decode("utf-8", "replace")
    how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.WEXITSTATUS(status)}"
    return None, f"onnx's shape inference crashed ({how})"


def _static_inputs(gp: onnx.GraphProto) -> bool:
    inits = {t.name for t in gp.initializer}
    for vi in gp.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") or not tt.HasField("shape"):
            return False
        if any(d.WhichOneof("value") != "dim_value" for d in tt.shape.dim):
            return False
    return True


# ------------------------------------------------------------------- types
def _s(text: str | bytes) -> str:
    """A string field as text: protobuf hands back bytes where the file's UTF-8 is invalid."""
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _int_text(text: str | bytes | int) -> int:
    """A count written as text in metadata (0 when it is not one)."""
    text = _s(text) if not isinstance(text, int) else str(text)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0



@functools.lru_cache(maxsize=None)
def _dtype(elem_type: int) -> str | None:
    if elem_type == 0:
        return None
    try:
        return onnx.helper.tensor_dtype_to_np_dtype(elem_type).name
    except Exception:
        pass
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:  # a value no ONNX version defines
        return f"dtype{elem_type}"


def _type(tp: onnx.TypeProto) -> tuple[tuple | None, str | None]:
    kind = tp.WhichOneof("value")
    if kind == "tensor_type" or kind == "sparse_tensor_type":
        tt = tp.tensor_type if kind == "tensor_type" else tp.sparse_tensor_type
        dtype = _dtype(tt.elem_type)
        if not tt.HasField("shape"):
            return None, dtype
        dims: list[int | str | None] = []
        for d in tt.shape.dim:
            which = d.WhichOneof("value")
            # a negative size is no size: drawn as unknown
            dims.append((d.dim_value if d.dim_value >= 0 else None) if which == "dim_value"
                        else _s(d.dim_param) if which == "dim_param" else None)
        return tuple(dims), dtype
    if kind == "sequence_type":
        _, inner = _type(tp.sequence_type.elem_type)
        return None, f"seq({inner or '?'})"
    if kind == "optional_type":
        shape, inner = _type(tp.optional_type.elem_type)
        return shape, f"optional({inner or '?'})"
    if kind == "map_type":
        return None, "map"
    return None, None


def _numel(dims: Iterable[int]) -> int:
    return math.prod(int(d) for d in dims)


def _tensor_summary(t: TensorProto) -> dict[str, Any]:
    out: dict[str, Any] = {"dtype": _dtype(t.data_type), "shape": list(t.dims)}
    n = _numel(t.dims)
    if n <= _SMALL_TENSOR and t.data_location != TensorProto.EXTERNAL:
        try:
            arr = onnx.numpy_helper.to_array(t)
            vals = arr.reshape(-1).tolist()
            if all(isinstance(v, (int, float, bool)) for v in vals):
                out["value"] = [_clean_float(v) for v in vals]
        except Exception:
            pass
    return out


def _clean_float(v: Any) -> Any:
    if isinstance(v, float) and math.isfinite(v):
        return float(f"{v:.7g}")
    return v


def _constant_numel(node: onnx.NodeProto) -> int:
    """Stored tensor elements of a Constant node's value attribute."""
    total = 0
    for a in node.attribute:
        if a.name == "value":
            total += _numel(a.t.dims)
        elif a.name == "sparse_value":
            total += _numel(a.sparse_tensor.values.dims)
        elif a.name in ("value_float", "value_int", "value_string"):
            total += 1
        elif a.name == "value_floats":
            total += len(a.floats)
        elif a.name == "value_ints":
            total += len(a.ints)
        elif a.name == "value_strings":
            total += len(a.strings)
    return total


# ------------------------------------------------------------------- scopes
def _literal_list(text: str) -> list[str] | None:
    if not text:
        return None
    try:
        val = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(val, (list, tuple)) and all(isinstance(x, str) for x in val):
        return list(val)
    return None


def _scope(node: onnx.NodeProto) -> tuple[tuple[str, ...], dict[tuple[str, ...], str]]:
    """The module path of a node and the types of its modules, where the exporter recorded them."""
    props = {_s(p.key): _s(p.value) for p in node.metadata_props}
    names = _literal_list(props.get("pkg.torch.onnx.name_scopes", ""))
    if names:
        types = _literal_list(props.get("pkg.torch.onnx.class_hierarchy", "")) or []
        if len(types) != len(names):
            types = []
        if names[0] == "":
            names, types = names[1:], types[1:]
        scope = tuple(names[:-1])[:MAX_SCOPE_DEPTH]
        return scope, {scope[: i + 1]: types[i] for i in range(len(scope)) if i < len(types)}
    name = _s(node.name)
    if "/" in name:
        parts = [p for p in name.split("/", MAX_SCOPE_DEPTH + 1) if p]
        return tuple(parts[:-1])[:MAX_SCOPE_DEPTH], {}
    return (), {}


# ------------------------------------------------------------------- loader
class _Loader:
    def __init__(self, root: Graph, warnings: list[str]) -> None:
        self.root = root
        self.warnings = warnings
        self.modules: dict[str, dict[str, str]] = {}
        self.attributed: set[int] = set()
        #: the model's local functions, inlined where they are called: each call is a module whose
        #: scope is the calling node's name (nested calls nest), as netdraw's export writes them
        self.functions: dict[tuple[str, str], onnx.FunctionProto] = {}
        self.prefix: tuple[str, ...] = ()
        self.depth = 0
        #: a file netdraw exported: node metadata "module" holds each op's module path
        self.netdraw = False

    def graph(self, gp: onnx.GraphProto, g: Graph, outer: dict[str, Value]) -> None:
        env: dict[str, Value] = dict(outer)
        types: dict[str, onnx.TypeProto] = {}
        for vi in list(gp.value_info) + list(gp.output) + list(gp.input):
            types[vi.name] = vi.type
        inits = {t.name: t for t in gp.initializer}
        for t in gp.initializer:
            v = g.add_param(_s(t.name), list(t.dims), _dtype(t.data_type), rename=True)
            if t.data_location == TensorProto.EXTERNAL:
                v.meta["external"] = True
            env[t.name] = v
        for t in gp.sparse_initializer:
            name = t.values.name
            v = g.add_param(_s(name), list(t.dims), _dtype(t.values.data_type), rename=True)
            if _s(t.values.doc_string).startswith("netdraw: weights omitted"):  # netdraw's export: its shape counts
                v.meta["omitted"] = True
                if _s(t.values.doc_string).endswith("; buffer"):
                    v.meta["buffer"] = True
            else:
                v.meta["sparse_values"] = _numel(t.values.dims)
            env[name] = v
        for vi in gp.input:
            if vi.name in inits:
                continue  # IR < 4 lists initializers as inputs too
            shape, dtype = _type(vi.type)
            env[vi.name] = g.add_input(_s(vi.name), shape, dtype, rename=True)

        for np_ in _toposort(gp.node, set(env)):
            self.node(np_, g, env, types)

        outs = []
        for vi in gp.output:
            v = env.get(vi.name)
            if v is None:
                self.warnings.append(f"graph output {_s(vi.name)!r} is never produced")
                shape, dtype = _type(vi.type)
                v = g.add_input(_s(vi.name), shape, dtype, rename=True)
                env[vi.name] = v
            outs.append(v)
        g.outputs = outs
        unused = 0
        for v in g.values:
            if v.kind == "param" and id(v) not in self.attributed and not v.meta.get("buffer"):
                unused += v.meta.get("sparse_values", v.numel or 0)
        if unused:
            g.meta["params_unattributed"] = unused

    def call(self, np_: onnx.NodeProto, fn: onnx.FunctionProto, g: Graph, env: dict[str, Value]) -> None:
        """Inline a call of a local function (a module of netdraw's ONNX export)."""
        if self.depth > 64:
            raise NetdrawError(f"local function {_s(fn.name)[:60]!r} nests more than 64 levels (recursive?)")
        local: dict[str, Value] = {}
        for formal, actual in zip(fn.input, np_.input):
            if actual and actual in env:
                local[formal] = env[actual]
        types = {vi.name: vi.type for vi in fn.value_info}
        props = {_s(p.key): _s(p.value) for p in fn.metadata_props}
        saved = self.prefix
        self.prefix = saved + (_s(np_.name) or _s(fn.name),)
        self.modules.setdefault("/".join(self.prefix), {"type": props.get("module_type", _s(fn.name))})
        self.depth += 1
        try:
            for body in _toposort(fn.node, set(local)):
                self.node(body, g, local, types)
        finally:
            self.prefix = saved
            self.depth -= 1
        for formal, actual in zip(fn.output, np_.output):
            if actual and formal in local:
                env[actual] = local[formal]

    def node(self, np_: onnx.NodeProto, g: Graph, env: dict[str, Value], types: dict[str, onnx.TypeProto]) -> None:
        fn = self.functions.get((np_.domain, np_.op_type)) if g is self.root else None
        if fn is not None:
            self.call(np_, fn, g, env)
            return
        ins: list[Value | None] = []
        for name in np_.input:
            if not name:
                ins.append(None)
                continue
            v = env.get(name)
            if v is None:
                self.warnings.append(f"node {_s(np_.name) or _s(np_.op_type)!r} uses {_s(name)!r}, "
                                     "which nothing defines")
                v = g.add_input(_s(name), None, None, rename=True)
                env[name] = v
            ins.append(v)
        outs = []
        for i, name in enumerate(np_.output):
            shape, dtype = _type(types[name]) if name in types else (None, None)
            outs.append((_s(name) or f"{_s(np_.name) or _s(np_.op_type)}:unused{i}", shape, dtype))
        scope, mods = _scope(np_)
        if self.netdraw and not np_.domain == "netdraw.module":
            module = next((_s(p.value) for p in np_.metadata_props if p.key == "module"), None)
            scope, mods = (tuple(module.split("/")) if module else ()), {}
        elif self.prefix:
            scope = self.prefix + scope
            mods = {self.prefix + k: t for k, t in mods.items()}
        for path, typ in mods.items():
            self.modules.setdefault("/".join(path), {"type": typ})
        attrs: dict[str, Any] = {}
        graphs: list[tuple[str, onnx.GraphProto]] = []
        for a in np_.attribute:
            attrs[_s(a.name)] = _attr(a)
            if a.type == AttributeProto.GRAPH:
                graphs.append((_s(a.name), a.g))
            elif a.type == AttributeProto.GRAPHS:
                graphs.extend((f"{_s(a.name)}[{i}]", sg) for i, sg in enumerate(a.graphs))
        params = _constant_numel(np_) if np_.op_type == "Constant" and np_.domain in ("", "ai.onnx") else 0
        for v in ins:
            params += self._attribute(v)
        if self.netdraw and not params:
            # a netdraw export of a graph whose parameters have no tensors (.netspec, Caffe)
            params = _int_text(next((p.value for p in np_.metadata_props if p.key == "parameters"), 0))
        node = g.add_node(_s(np_.op_type), ins, outs, name=_s(np_.name) or _s(np_.op_type), domain=_s(np_.domain),
                          attrs=attrs, scope=scope, params=params)
        doc = _s(np_.doc_string).strip()
        if doc:
            node.meta["doc"] = doc.splitlines()[0][:200]
        for name, v in zip(np_.output, node.outputs):
            if name:
                env[name] = v
        for attr, sgp in graphs:
            sub = g.add_subgraph(node, attr, name=_s(sgp.name) or f"{node.name}.{attr}")
            self.graph(sgp, sub, env)

    def _attribute(self, v: Value | None) -> int:
        """Count a parameter the first time a node uses it."""
        if v is None or v.kind != "param" or id(v) in self.attributed or v.meta.get("buffer"):
            return 0
        self.attributed.add(id(v))
        return int(v.meta.get("sparse_values", v.numel or 0))


def _attr(a: AttributeProto) -> Any:
    t = a.type
    if a.ref_attr_name:
        return {"ref": _s(a.ref_attr_name)}
    if t == AttributeProto.FLOAT:
        return _clean_float(float(a.f))
    if t == AttributeProto.INT:
        return int(a.i)
    if t == AttributeProto.STRING:
        return a.s.decode("utf-8", "replace")
    if t == AttributeProto.TENSOR:
        return {"tensor": _tensor_summary(a.t)}
    if t == AttributeProto.SPARSE_TENSOR:
        return {"sparse_tensor": {"shape": list(a.sparse_tensor.dims),
                                  "nnz": _numel(a.sparse_tensor.values.dims)}}
    if t == AttributeProto.GRAPH:
        return {"graph": _s(a.g.name)}
    if t == AttributeProto.FLOATS:
        return [_clean_float(float(x)) for x in a.floats]
    if t == AttributeProto.INTS:
        return [int(x) for x in a.ints]
    if t == AttributeProto.STRINGS:
        return [s.decode("utf-8", "replace") for s in a.strings]
    if t == AttributeProto.TENSORS:
        return [{"tensor": _tensor_summary(x)} for x in a.tensors]
    if t == AttributeProto.GRAPHS:
        return [{"graph": _s(x.name)} for x in a.graphs]
    if t == AttributeProto.TYPE_PROTO:
        return {"type": _type(a.tp)[1]}
    if t == AttributeProto.TYPE_PROTOS:
        return [{"type": _type(x)[1]} for x in a.type_protos]
    return None


def _free_names(np_: onnx.NodeProto) -> set[str]:
    """Names a node reads, including those its subgraphs read from enclosing scopes."""
    names = {n for n in np_.input if n}
    for a in np_.attribute:
        subs = [a.g] if a.type == AttributeProto.GRAPH else list(a.graphs)
        for sg in subs:
            defined = {i.name for i in sg.input} | {t.name for t in sg.initializer}
            used: set[str] = set()
            for inner in sg.node:
                used |= _free_names(inner)
                defined |= {o for o in inner.output if o}
            names |= used - defined
            names |= {o.name for o in sg.output} - defined
    return names


def _toposort(nodes: Iterable[onnx.NodeProto], available: set[str]) -> list[onnx.NodeProto]:
    """Stable topological order; already-sorted graphs pass through in one sweep."""
    pending = list(nodes)
    avail = set(available)
    ordered: list[onnx.NodeProto] = []
    needs = {id(n): _free_names(n) for n in pending}
    produced = {o for n in pending for o in n.output if o}
    while pending:
        rest = []
        for n in pending:
            if all(x in avail or x not in produced for x in needs[id(n)]):
                ordered.append(n)
                avail.update(o for o in n.output if o)
            else:
                rest.append(n)
        if len(rest) == len(pending):  # a cycle: keep the file's order for what is left
            ordered.extend(rest)
            break
        pending = rest
    return ordered


register("onnx", match=match, load=load, description=".onnx (ONNX)")
