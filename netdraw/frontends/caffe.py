"""Caffe network definitions (``.prototxt``), read with netdraw's own protobuf text-format parser.

No Caffe install: the text format is parsed here and each layer's output shape is inferred for the
common layer types (Input, Convolution, Deconvolution, Pooling with Caffe's ceil rounding,
InnerProduct, LRN, Concat, Eltwise, Softmax, BatchNorm, Scale, Flatten, Reshape, ReLU and other
element-wise layers, Dropout, Split, Slice); other layers keep unknown shapes, with a warning.
Both the current ``layer {}`` format and the old ``layers {}`` (V1, enum types such as
``CONVOLUTION``) are read, with the input given by ``input``/``input_dim``, ``input_shape`` or an
Input layer.  In-place layers (a ReLU or Dropout writing its bottom blob) are merged into the layer
that produced the blob, as Netscope draws them: ``conv1`` becomes one ``Convolution-ReLU`` node.

Parameters are the learnable ones (weights and biases of Convolution, Deconvolution,
InnerProduct, Scale, PReLU, Normalize); BatchNorm's statistics are stored but not learned, like PyTorch's
buffers, so they are not counted.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.frontends import register
from netdraw.ir import Graph, Value

__all__ = ["parse_text", "load", "match"]

_TOKEN = re.compile(r'\s+|#[^\n]*|(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<punct>[{}:\[\],;<>])'
                    r'|(?P<word>[^\s{}:\[\],;<>"\'#]+)')

# V1 enum layer types -> current names
_V1 = {"CONVOLUTION": "Convolution", "POOLING": "Pooling", "INNER_PRODUCT": "InnerProduct", "RELU": "ReLU",
       "LRN": "LRN", "DROPOUT": "Dropout", "SOFTMAX": "Softmax", "SOFTMAX_LOSS": "SoftmaxWithLoss",
       "CONCAT": "Concat", "ELTWISE": "Eltwise", "SIGMOID": "Sigmoid", "TANH": "TanH", "FLATTEN": "Flatten",
       "SPLIT": "Split", "DECONVOLUTION": "Deconvolution", "DATA": "Data", "ACCURACY": "Accuracy",
       "POWER": "Power", "SLICE": "Slice", "BNLL": "BNLL", "ABSVAL": "AbsVal", "THRESHOLD": "Threshold",
       "EUCLIDEAN_LOSS": "EuclideanLoss", "MEMORY_DATA": "MemoryData", "IMAGE_DATA": "ImageData",
       "HDF5_DATA": "HDF5Data", "WINDOW_DATA": "WindowData", "INFOGAIN_LOSS": "InfogainLoss",
       "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss", "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss",
       "ARGMAX": "ArgMax", "SILENCE": "Silence", "MVN": "MVN", "IM2COL": "Im2col"}
_IN_PLACE_OK = {"ReLU", "Dropout", "Sigmoid", "TanH", "PReLU", "ELU", "BatchNorm", "Scale", "Power", "AbsVal",
                "BNLL", "Threshold", "ReLU6", "Swish", "Bias"}
_SAME_SHAPE = _IN_PLACE_OK | {"LRN", "Softmax", "Eltwise", "MVN", "Normalize", "Bias", "Clip"}
_SKIP = {"Data", "ImageData", "HDF5Data", "WindowData", "MemoryData", "DummyData", "Accuracy", "Silence",
         "SoftmaxWithLoss", "EuclideanLoss", "InfogainLoss", "MultinomialLogisticLoss",
         "SigmoidCrossEntropyLoss", "HingeLoss", "ContrastiveLoss"}


class _Msg(dict):
    """A parsed message: field -> list of values (scalars or _Msg)."""

    def one(self, key: str, default: Any = None) -> Any:
        v = self.get(key)
        return v[-1] if v else default

    def all(self, key: str) -> list[Any]:
        return list(self.get(key, []))


def parse_text(text: str, name: str = "<prototxt>") -> _Msg:
    """Protobuf text format -> nested :class:`_Msg`; errors name the line."""
    tokens: list[tuple[str, str, int]] = []
    line = 1
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise NetdrawError(f"{name}:{line}: unexpected character {text[pos]!r}")
        if m.lastgroup:
            tokens.append((m.lastgroup, m.group(m.lastgroup), line))
        line += m.group(0).count("\n")
        pos = m.end()
    i = 0

    def value(tok: tuple[str, str, int]) -> Any:
        kind, text_, _ = tok
        if kind == "str":
            return bytes(text_[1:-1], "utf-8").decode("unicode_escape")
        low = text_.lower()
        if low in ("true", "false"):
            return low == "true"
        try:
            return int(text_)
        except ValueError:
            pass
        try:
            return float(text_)
        except ValueError:
            return text_  # an enum name

    def message(end: str | None) -> _Msg:
        nonlocal i
        msg = _Msg()
        while i < len(tokens):
            kind, tok, ln = tokens[i]
            if kind == "punct" and tok in ("}", ">"):
                if end is None:
                    raise NetdrawError(f"{name}:{ln}: unmatched {tok!r}")
                i += 1
                return msg
            if kind == "punct" and tok in (",", ";"):
                i += 1
                continue
            if kind != "word":
                raise NetdrawError(f"{name}:{ln}: expected a field name, got {tok!r}")
            key = tok
            i += 1
            if i < len(tokens) and tokens[i][1] == ":":
                i += 1
            if i >= len(tokens):
                raise NetdrawError(f"{name}:{ln}: field {key!r} has no value")
            kind2, tok2, ln2 = tokens[i]
            if kind2 == "punct" and tok2 in ("{", "<"):
                i += 1
                msg.setdefault(key, []).append(message("}" if tok2 == "{" else ">"))
            elif kind2 == "punct" and tok2 == "[":
                i += 1
                while i < len(tokens) and tokens[i][1] != "]":
                    if tokens[i][1] != ",":
                        msg.setdefault(key, []).append(value(tokens[i]))
                    i += 1
                i += 1
            elif kind2 == "punct":
                raise NetdrawError(f"{name}:{ln2}: field {key!r} has no value")
            else:
                msg.setdefault(key, []).append(value(tokens[i]))
                i += 1
        if end is not None:
            raise NetdrawError(f"{name}:{line}: a message is not closed (missing '}}')")
        return msg

    return message(None)


def match(path: Path, head: bytes) -> bool:
    # ONNX's own text format also uses .pbtxt; it starts with ir_version
    return path.suffix.lower() in (".prototxt", ".pbtxt") and not head.startswith(b"ir_version")


def _pair(p: _Msg, key: str, default: int) -> tuple[int, int]:
    """Caffe's kernel/stride/pad: ``key_size`` (repeated), or ``key_h``/``key_w``."""
    base = {"kernel": "kernel_size", "stride": "stride", "pad": "pad", "dilation": "dilation"}[key]
    vals = p.all(base)
    h = p.one(f"{key}_h")
    w = p.one(f"{key}_w")
    if h is not None or w is not None:
        return int(h if h is not None else default), int(w if w is not None else default)
    if not vals:
        return default, default
    return (int(vals[0]), int(vals[1] if len(vals) > 1 else vals[0]))


def _infer(kind: str, lp: _Msg, ins: list[tuple | None], warn: list[str], lname: str
           ) -> tuple[list[tuple | None], int, dict[str, Any]]:
    """Output shapes, learnable parameter count and attributes of one layer."""
    x = ins[0] if ins else None
    attrs: dict[str, Any] = {}
    if kind in ("Convolution", "Deconvolution"):
        p = lp.one("convolution_param", _Msg())
        out_c = int(p.one("num_output", 0))
        kh, kw = _pair(p, "kernel", 1)
        sh, sw = _pair(p, "stride", 1)
        ph, pw = _pair(p, "pad", 0)
        dh, dw = _pair(p, "dilation", 1)
        group = int(p.one("group", 1))
        bias = bool(p.one("bias_term", True))
        attrs = {"kernel_size": [kh, kw], "stride": [sh, sw], "padding": [ph, pw], "groups": group,
                 "out_channels": out_c}
        if dh != 1 or dw != 1:
            attrs["dilation"] = [dh, dw]
        if x is None or len(x) != 4:
            return [None], 0, attrs
        n, c, h, w = x
        params = (c * out_c // group) * kh * kw + (out_c if bias else 0)
        if kind == "Convolution":
            oh = (h + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
            ow = (w + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
        else:
            oh = sh * (h - 1) + dh * (kh - 1) + 1 - 2 * ph
            ow = sw * (w - 1) + dw * (kw - 1) + 1 - 2 * pw
        return [(n, out_c, oh, ow)], params, attrs
    if kind == "Pooling":
        p = lp.one("pooling_param", _Msg())
        pool = str(p.one("pool", "MAX"))
        attrs = {"pool": {0: "MAX", 1: "AVE", 2: "STOCHASTIC"}.get(pool, pool) if isinstance(pool, int) else pool}
        if x is None or len(x) != 4:
            return [None], 0, attrs
        n, c, h, w = x
        if p.one("global_pooling", False):
            attrs["global"] = True
            return [(n, c, 1, 1)], 0, attrs
        kh, kw = _pair(p, "kernel", 1)
        sh, sw = _pair(p, "stride", 1)
        ph, pw = _pair(p, "pad", 0)
        attrs.update(kernel_size=[kh, kw], stride=[sh, sw], padding=[ph, pw])

        def size(d: int, k: int, s: int, pad: int) -> int:
            out = int(math.ceil((d + 2 * pad - k) / s)) + 1  # Caffe rounds up
            if pad and (out - 1) * s >= d + pad:
                out -= 1  # the last window must start inside the image
            return out

        return [(n, c, size(h, kh, sh, ph), size(w, kw, sw, pw))], 0, attrs
    if kind == "InnerProduct":
        p = lp.one("inner_product_param", _Msg())
        out_f = int(p.one("num_output", 0))
        bias = bool(p.one("bias_term", True))
        attrs = {"out_features": out_f}
        if x is None:
            return [None], 0, attrs
        axis = int(p.one("axis", 1))
        fan_in = math.prod(x[axis:])
        return [(*x[:axis], out_f)], fan_in * out_f + (out_f if bias else 0), attrs
    if kind == "Concat":
        p = lp.one("concat_param", _Msg())
        axis = int(p.one("axis", p.one("concat_dim", 1)))
        if any(s is None for s in ins) or not ins:
            return [None], 0, {"axis": axis}
        out = list(ins[0])
        out[axis] = sum(s[axis] for s in ins)  # type: ignore[index]
        return [tuple(out)], 0, {"axis": axis}
    if kind == "Flatten":
        if x is None:
            return [None], 0, {}
        return [(x[0], math.prod(x[1:]))], 0, {}
    if kind == "Reshape":
        p = lp.one("reshape_param", _Msg())
        dims = [int(d) for d in p.one("shape", _Msg()).all("dim")]
        if x is None:
            return [None], 0, {"shape": dims}
        out = [x[i] if d == 0 else d for i, d in enumerate(dims)]
        if -1 in out:
            known = math.prod(d for d in out if d != -1)
            out[out.index(-1)] = math.prod(x) // known if known else -1
        return [tuple(out)], 0, {"shape": dims}
    if kind == "Split":
        return [x] * max(1, len(lp.all("top"))), 0, {}
    if kind == "Slice":
        p = lp.one("slice_param", _Msg())
        axis = int(p.one("axis", p.one("slice_dim", 1)))
        tops = len(lp.all("top"))
        points = [int(v) for v in p.all("slice_point")]
        if x is None:
            return [None] * tops, 0, {"axis": axis}
        bounds = [0, *points, x[axis]] if points else [x[axis] * i // tops for i in range(tops + 1)]
        outs = []
        for a, b in zip(bounds, bounds[1:]):
            s = list(x)
            s[axis] = b - a
            outs.append(tuple(s))
        return outs, 0, {"axis": axis}
    if kind == "Scale":
        p = lp.one("scale_param", _Msg())
        c = x[1] if x is not None and len(x) > 1 else 0
        return [x], c + (c if p.one("bias_term", False) else 0), {}
    if kind == "PReLU":
        c = x[1] if x is not None and len(x) > 1 else 0
        return [x], 1 if lp.one("prelu_param", _Msg()).one("channel_shared", False) else c, {}
    if kind == "BatchNorm":
        p = lp.one("batch_norm_param", _Msg())
        return [x], 0, {"eps": float(p.one("eps", 1e-5))}
    if kind == "Permute":
        order = [int(o) for o in lp.one("permute_param", _Msg()).all("order")]
        if x is None or not order:
            return [x], 0, {"order": order}
        order = order + [i for i in range(len(x)) if i not in order]
        return [tuple(x[i] for i in order)], 0, {"order": order}
    if kind == "Normalize":
        p = lp.one("norm_param", _Msg())
        c = x[1] if x is not None and len(x) > 1 else 0
        return [x], 1 if p.one("channel_shared", False) else c, {}
    if kind == "Eltwise":
        op = lp.one("eltwise_param", _Msg()).one("operation", "SUM")
        return [x], 0, {"operation": str(op)}
    if kind in _SAME_SHAPE:
        return [x], 0, {}
    warn.append(f"layer {lname!r}: no shape inference for type {kind!r}")
    return [None] * max(1, len(lp.all("top"))), 0, {}


def _input_shapes(net: _Msg) -> dict[str, tuple]:
    names = [str(n) for n in net.all("input")]
    shapes: list[tuple] = [tuple(int(d) for d in s.all("dim")) for s in net.all("input_shape")]
    dims = [int(d) for d in net.all("input_dim")]
    if dims and not shapes:
        shapes = [tuple(dims[i:i + 4]) for i in range(0, len(dims), 4)]
    return {n: (shapes[i] if i < len(shapes) else None) for i, n in enumerate(names)}  # type: ignore[misc]


def from_text(text: str, name: str = "<prototxt>") -> Graph:
    net = parse_text(text, name)
    layers = net.all("layer") or net.all("layers")
    if not layers and not net.all("input"):
        raise NetdrawError(f"{name}: no layer {{}} or layers {{}} blocks: not a Caffe network definition")
    g = Graph(str(net.one("name", Path(name).stem)))
    warn: list[str] = []
    blobs: dict[str, Value] = {}
    modules: dict[str, dict[str, Any]] = {}
    for bname, shape in _input_shapes(net).items():
        blobs[bname] = g.add_input(bname, shape, "float32", rename=True)
    for lp in layers:
        if not isinstance(lp, _Msg):
            continue
        kind = lp.one("type", "")
        kind = _V1.get(str(kind), str(kind))
        lname = str(lp.one("name", kind))
        phases = [str(r.one("phase", "")) for r in lp.all("include")]
        if kind in _SKIP or "TRAIN" in phases or "0" in phases:
            continue
        tops = [str(t) for t in lp.all("top")]
        bottoms = [str(b) for b in lp.all("bottom")]
        if kind == "Input":
            shapes = [tuple(int(d) for d in s.all("dim")) for s in lp.one("input_param", _Msg()).all("shape")]
            for i, t in enumerate(tops):
                blobs[t] = g.add_input(t, shapes[min(i, len(shapes) - 1)] if shapes else None, "float32", rename=True)
            continue
        missing = [b for b in bottoms if b not in blobs]
        if missing:
            raise NetdrawError(f"{name}: layer {lname!r} reads blob {missing[0]!r}, which no earlier layer writes")
        ins = [blobs[b] for b in bottoms]
        shapes, params, attrs = _infer(kind, lp, [v.shape for v in ins], warn, lname)
        if tops and tops == bottoms[:len(tops)] and len(tops) == 1 and kind in _IN_PLACE_OK and \
                ins[0].producer is not None:
            # in place (relu1 writes conv1's blob): merged into the producer, as Netscope shows it
            node = ins[0].producer
            node.op_type = f"{node.op_type}-{kind}"
            node.params += params
            fold = node.meta.setdefault("fold", {"rule": "in-place", "ops": [node.op_type.split("-")[0]],
                                                 "nodes": 1})
            fold["ops"].append(kind)
            fold["nodes"] += 1
            if node.scope and node.scope[0] in modules:
                modules[node.scope[0]]["type"] = node.op_type
            continue
        outs = [(t, s, "float32") for t, s in zip(tops, shapes + [None] * (len(tops) - len(shapes)))]
        # each layer is its own one-op "module", so the diagram titles it with the layer's name
        node = g.add_node(kind, ins, outs, name=lname, domain="caffe", attrs=attrs, params=params, scope=(lname,))
        modules[lname] = {"type": kind, "path": lname, "leaf": True}
        for t, v in zip(tops, node.outputs):
            blobs[t] = v
    used = {id(v) for n in g.nodes for v in n.inputs if v is not None}
    g.outputs = [v for n in g.nodes for v in n.outputs if id(v) not in used]
    g.meta["source"] = {"format": "caffe", "path": Path(name).name}
    g.meta["modules"] = modules
    if warn:
        g.meta["warnings"] = warn
    return g


def load(path: Path) -> Graph:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetdrawError(f"{path}: cannot read as text ({exc})") from None
    return from_text(text, str(path))


register("caffe", match=match, load=load, description=".prototxt (Caffe network definition)")
