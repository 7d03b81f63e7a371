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
from typing import Any, Callable, Sequence

from netdraw.errors import NetdrawError, check_choice
from netdraw.frontends import register
from netdraw.ir import Graph, Value, scope_key
from netdraw.options import PHASES

__all__ = ["parse_text", "load", "match", "scope_of", "RULES"]

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


class _Bad(Exception):
    """A parameter Caffe would refuse; the caller names the file and the layer."""


_QUOTE = 60  # characters of the file's text quoted in an error


def _quote(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= _QUOTE else text[:_QUOTE] + "…")


class _Msg(dict):
    """A parsed message: field -> list of values (scalars or _Msg)."""

    def one(self, key: str, default: Any = None) -> Any:
        v = self.get(key)
        return v[-1] if v else default

    def all(self, key: str) -> list[Any]:
        return list(self.get(key, []))

    def msg(self, key: str) -> "_Msg":
        """A sub-message (empty when absent); a scalar where a message belongs is refused."""
        v = self.one(key, _Msg())
        if not isinstance(v, _Msg):
            raise _Bad(f"{key} must be a message {{ ... }}, got {_quote(v)}")
        return v

    def int(self, key: str, default: int, *, minimum: int | None = None) -> int:
        return _to_int(key, self.one(key, default), minimum)

    def ints(self, key: str, *, minimum: int | None = None) -> list[int]:
        return [_to_int(key, v, minimum) for v in self.all(key)]


#: the largest number a shape or count may hold (a real network's are far below it)
_MAX_INT = 2 ** 40


def _to_int(key: str, v: Any, minimum: int | None = None) -> int:
    """A field's value as an int: integers (and integral floats) only, within range."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
        raise _Bad(f"{key} must be an integer, got {_quote(v)}")
    n = int(v)
    if abs(n) > _MAX_INT:
        raise _Bad(f"{key} is out of range: {_quote(v)}")
    if minimum is not None and n < minimum:
        raise _Bad(f"{key} must be at least {minimum}, got {n}")
    return n


_MAX_NESTING = 100
_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v",
            "\\": b"\\", "'": b"'", '"': b'"', "?": b"?"}


def _unescape(body: str) -> str:
    r"""A quoted string's text: protobuf's C escapes (``\n``, ``\"``, octal ``\101``, hex ``\x41``)
    to bytes, then UTF-8 (characters outside ASCII are kept as written).

    >>> _unescape(r'inception_3a\/1x1 \x41\101 名前')
    'inception_3a/1x1 AA 名前'
    """
    if "\\" not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif nxt in "01234567" and nxt:
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            out.append(int(m.group(0), 8) & 0xFF)  # type: ignore[union-attr]
            i += 1 + len(m.group(0))  # type: ignore[union-attr]
        elif nxt in ("x", "X") and re.match(r"[0-9A-Fa-f]", body[i + 2:i + 3]):
            m = re.match(r"[0-9A-Fa-f]{1,2}", body[i + 2:])
            out.append(int(m.group(0), 16))  # type: ignore[union-attr]
            i += 2 + len(m.group(0))  # type: ignore[union-attr]
        else:  # protobuf rejects an unknown escape; keep the character, as a reader would
            out += nxt.encode("utf-8")
            i += 2
    return out.decode("utf-8", "replace")


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

    def value(tok: tuple[str, str, int]) -> Any:
        kind, text_, _ = tok
        if kind == "str":
            return _unescape(text_[1:-1])
        low = text_.lower()
        if low in ("true", "false"):
            return low == "true"
        if re.fullmatch(r"[-+]?[0-9]+", text_):
            return int(text_) if len(text_) <= 30 else float(text_)
        if re.fullmatch(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?[fF]?", text_):
            return float(text_.rstrip("fF"))
        return text_  # an enum name (or a word where a number belongs: the layer's rule says so)

    # an explicit stack instead of recursion: nesting is bounded by _MAX_NESTING, not by Python's stack
    root = _Msg()
    stack: list[tuple[_Msg, str, int]] = [(root, "", 0)]
    i = 0
    while i < len(tokens):
        kind, tok, ln = tokens[i]
        msg = stack[-1][0]
        if kind == "punct" and tok in ("}", ">"):
            if len(stack) == 1:
                raise NetdrawError(f"{name}:{ln}: unmatched {tok!r}")
            if tok != stack[-1][1]:
                raise NetdrawError(f"{name}:{ln}: {tok!r} closes a message opened on line {stack[-1][2]} "
                                   f"with {'{' if stack[-1][1] == '}' else '<'!r}")
            stack.pop()
            i += 1
            continue
        if kind == "punct" and tok in (",", ";"):
            i += 1
            continue
        if kind != "word":
            raise NetdrawError(f"{name}:{ln}: expected a field name, got {_quote(tok)}")
        key = tok
        i += 1
        if i < len(tokens) and tokens[i][1] == ":":
            i += 1
        if i >= len(tokens):
            raise NetdrawError(f"{name}:{ln}: field {_quote(key)} has no value")
        kind2, tok2, ln2 = tokens[i]
        if kind2 == "punct" and tok2 in ("{", "<"):
            if len(stack) > _MAX_NESTING:
                raise NetdrawError(f"{name}:{ln2}: messages nested more than {_MAX_NESTING} levels deep")
            sub = _Msg()
            msg.setdefault(key, []).append(sub)
            stack.append((sub, "}" if tok2 == "{" else ">", ln2))
            i += 1
        elif kind2 == "punct" and tok2 == "[":
            i += 1
            while i < len(tokens) and tokens[i][1] != "]":
                if tokens[i][0] == "punct" and tokens[i][1] != ",":
                    raise NetdrawError(f"{name}:{tokens[i][2]}: unexpected {tokens[i][1]!r} in a list")
                if tokens[i][1] != ",":
                    msg.setdefault(key, []).append(value(tokens[i]))
                i += 1
            if i >= len(tokens):
                raise NetdrawError(f"{name}:{ln2}: a list is not closed (missing ']')")
            i += 1
        elif kind2 == "punct":
            raise NetdrawError(f"{name}:{ln2}: field {_quote(key)} has no value")
        else:
            msg.setdefault(key, []).append(value(tokens[i]))
            i += 1
    if len(stack) > 1:
        raise NetdrawError(f"{name}:{stack[-1][2]}: a message is not closed (missing {stack[-1][1]!r})")
    return root


def match(path: Path, head: bytes) -> bool:
    # ONNX's own text format also uses .pbtxt; it starts with ir_version
    return path.suffix.lower() in (".prototxt", ".pbtxt") and not head.startswith(b"ir_version")


def _pair(p: _Msg, key: str, default: int, minimum: int) -> tuple[int, int]:
    """Caffe's kernel/stride/pad/dilation: ``key_size`` (repeated), or ``key_h``/``key_w``."""
    base = {"kernel": "kernel_size", "stride": "stride", "pad": "pad", "dilation": "dilation"}[key]
    h, w = p.one(f"{key}_h"), p.one(f"{key}_w")
    if h is not None or w is not None:
        return (_to_int(f"{key}_h", default if h is None else h, minimum),
                _to_int(f"{key}_w", default if w is None else w, minimum))
    vals = p.ints(base, minimum=minimum)
    if not vals:
        return default, default
    return vals[0], vals[1] if len(vals) > 1 else vals[0]


def _axis(axis: int, rank: int, key: str = "axis") -> int:
    """A Caffe axis (negative counts from the end) as an index into a shape of ``rank`` dims."""
    if not -rank <= axis < rank:
        raise _Bad(f"{key} {axis} is out of range for a {rank}-d input")
    return axis % rank


Shape = tuple | None
Rule = Callable[[_Msg, list[Shape], int], tuple[list[Shape], "int | list[int]", dict[str, Any]]]


def _convolution(kind: str) -> Rule:
    def rule(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int | list[int], dict[str, Any]]:
        p = lp.msg("convolution_param")
        out_c = p.int("num_output", 0, minimum=1)
        kh, kw = _pair(p, "kernel", 1, 1)
        sh, sw = _pair(p, "stride", 1, 1)
        ph, pw = _pair(p, "pad", 0, 0)
        dh, dw = _pair(p, "dilation", 1, 1)
        group = p.int("group", 1, minimum=1)
        bias = bool(p.one("bias_term", True))
        attrs: dict[str, Any] = {"kernel_size": [kh, kw], "stride": [sh, sw], "padding": [ph, pw],
                                 "groups": group, "out_channels": out_c}
        if dh != 1 or dw != 1:
            attrs["dilation"] = [dh, dw]
        if out_c % group:
            raise _Bad(f"group {group} does not divide num_output {out_c}")
        x = ins[0] if ins else None
        if x is None or len(x) != 4:
            return [None], ([out_c] if bias else []), attrs  # the bias does not depend on the input
        n, c, h, w = x
        if c % group:
            raise _Bad(f"group {group} does not divide the {c} input channels")
        params = [(c * out_c // group) * kh * kw] + ([out_c] if bias else [])
        if kind == "Convolution":
            oh = (h + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
            ow = (w + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
        else:
            oh = sh * (h - 1) + dh * (kh - 1) + 1 - 2 * ph
            ow = sw * (w - 1) + dw * (kw - 1) + 1 - 2 * pw
        if oh < 1 or ow < 1:
            raise _Bad(f"a {kh}×{kw} kernel (stride {sh}×{sw}, pad {ph}×{pw}) leaves nothing of {h}×{w}")
        return [(n, out_c, oh, ow)], params, attrs
    return rule


def _pooling(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    p = lp.msg("pooling_param")
    pool = p.one("pool", "MAX")
    attrs: dict[str, Any] = {"pool": {0: "MAX", 1: "AVE", 2: "STOCHASTIC"}.get(pool, str(pool))
                             if isinstance(pool, int) else str(pool)}
    x = ins[0] if ins else None
    if p.one("global_pooling", False):
        attrs["global"] = True
        return [None if x is None or len(x) != 4 else (x[0], x[1], 1, 1)], 0, attrs
    kh, kw = _pair(p, "kernel", 1, 1)
    sh, sw = _pair(p, "stride", 1, 1)
    ph, pw = _pair(p, "pad", 0, 0)
    attrs.update(kernel_size=[kh, kw], stride=[sh, sw], padding=[ph, pw])
    if x is None or len(x) != 4:
        return [None], 0, attrs
    n, c, h, w = x

    def size(d: int, k: int, s: int, pad: int) -> int:
        out = -((d + 2 * pad - k) // -s) + 1  # Caffe rounds up
        if pad and (out - 1) * s >= d + pad:
            out -= 1  # the last window must start inside the image
        if out < 1:
            raise _Bad(f"a {k}-wide window (stride {s}, pad {pad}) leaves nothing of {d}")
        return out

    return [(n, c, size(h, kh, sh, ph), size(w, kw, sw, pw))], 0, attrs


def _inner_product(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int | list[int], dict[str, Any]]:
    p = lp.msg("inner_product_param")
    out_f = p.int("num_output", 0, minimum=1)
    bias = bool(p.one("bias_term", True))
    attrs = {"out_features": out_f}
    x = ins[0] if ins else None
    if x is None:
        return [None], ([out_f] if bias else []), attrs  # the bias does not depend on the input
    axis = _axis(p.int("axis", 1), len(x))
    fan_in = math.prod(x[axis:])
    return [(*x[:axis], out_f)], [fan_in * out_f] + ([out_f] if bias else []), attrs


def _concat(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    p = lp.msg("concat_param")
    axis = p.int("axis", p.int("concat_dim", 1))
    if not ins or any(s is None for s in ins):
        return [None], 0, {"axis": axis}
    shapes: list[tuple] = ins  # type: ignore[assignment]
    rank = len(shapes[0])
    a = _axis(axis, rank)
    for s in shapes[1:]:
        if len(s) != rank or any(d != e for i, (d, e) in enumerate(zip(s, shapes[0])) if i != a):
            raise _Bad(f"cannot concatenate {'×'.join(map(str, shapes[0]))} and {'×'.join(map(str, s))} "
                       f"along axis {axis}")
    out = list(shapes[0])
    out[a] = sum(s[a] for s in shapes)
    return [tuple(out)], 0, {"axis": axis}


def _flatten(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    x = ins[0] if ins else None
    return [None if x is None else (x[0], math.prod(x[1:]))], 0, {}


def _reshape(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    dims = lp.msg("reshape_param").msg("shape").ints("dim", minimum=-1)
    x = ins[0] if ins else None
    if x is None:
        return [None], 0, {"shape": dims}
    if dims.count(-1) > 1:
        raise _Bad("reshape_param may infer one dim (-1), not several")
    if any(d == 0 and i >= len(x) for i, d in enumerate(dims)):
        raise _Bad(f"reshape dim 0 copies an input dim, but the input has only {len(x)}")
    out = [x[i] if d == 0 else d for i, d in enumerate(dims)]
    total = math.prod(x)
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if not known or total % known:
            raise _Bad(f"cannot reshape {'×'.join(map(str, x))} to {dims}")
        out[out.index(-1)] = total // known
    if math.prod(out) != total:
        raise _Bad(f"cannot reshape {'×'.join(map(str, x))} ({total:,} values) to {'×'.join(map(str, out))}")
    return [tuple(out)], 0, {"shape": dims}


def _split(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    return [ins[0] if ins else None] * max(1, tops), 0, {}


def _slice(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    p = lp.msg("slice_param")
    axis = p.int("axis", p.int("slice_dim", 1))
    points = p.ints("slice_point", minimum=0)
    x = ins[0] if ins else None
    if x is None:
        return [None] * max(1, tops), 0, {"axis": axis}
    a = _axis(axis, len(x))
    if points and len(points) != tops - 1:
        raise _Bad(f"{len(points)} slice points need {len(points) + 1} tops, not {tops}")
    bounds = [0, *points, x[a]] if points else [x[a] * i // max(tops, 1) for i in range(max(tops, 1) + 1)]
    if any(b < c for b, c in zip(bounds[1:], bounds)):
        raise _Bad(f"slice points {points} do not increase within 0..{x[a]}")
    outs = []
    for lo, hi in zip(bounds, bounds[1:]):
        s = list(x)
        s[a] = hi - lo
        outs.append(tuple(s))
    return outs, 0, {"axis": axis}


def _channels(ins: list[Shape]) -> int:
    x = ins[0] if ins else None
    return x[1] if x is not None and len(x) > 1 else 0


def _scale(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int | list[int], dict[str, Any]]:
    c = _channels(ins)
    return [ins[0] if ins else None], [c] + ([c] if lp.msg("scale_param").one("bias_term", False) else []), {}


def _prelu(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    shared = lp.msg("prelu_param").one("channel_shared", False)
    return [ins[0] if ins else None], 1 if shared else _channels(ins), {}


def _batch_norm(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    eps = lp.msg("batch_norm_param").one("eps", 1e-5)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)):
        raise _Bad(f"eps must be a number, got {_quote(eps)}")
    return [ins[0] if ins else None], 0, {"eps": float(eps)}


def _permute(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    order = lp.msg("permute_param").ints("order", minimum=0)
    x = ins[0] if ins else None
    if x is None or not order:
        return [x], 0, {"order": order}
    if len(set(order)) != len(order) or max(order) >= len(x):
        raise _Bad(f"permute order {order} is not a permutation of the {len(x)} axes")
    order = order + [i for i in range(len(x)) if i not in order]
    return [tuple(x[i] for i in order)], 0, {"order": order}


def _normalize(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    shared = lp.msg("norm_param").one("channel_shared", False)
    return [ins[0] if ins else None], 1 if shared else _channels(ins), {}


def _eltwise(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    op = lp.msg("eltwise_param").one("operation", "SUM")
    known = [s for s in ins if s is not None]
    if any(s != known[0] for s in known[1:]):
        raise _Bad(f"Eltwise inputs differ in shape: {'×'.join(map(str, known[0]))} and "
                   f"{'×'.join(map(str, next(s for s in known if s != known[0])))}")
    return [ins[0] if ins else None], 0, {"operation": str(op)}


def _same(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    return [ins[0] if ins else None], 0, {}


def _scalar(lp: _Msg, ins: list[Shape], tops: int) -> tuple[list[Shape], int, dict[str, Any]]:
    """A loss or an accuracy: one number per top."""
    return [()] * max(1, tops), 0, {}


#: each layer type's rule: (layer, input shapes, top count) -> (output shapes, learnable parameters,
#: attributes); a rule raises _Bad for a parameter Caffe would refuse
RULES: dict[str, Rule] = {
    "Convolution": _convolution("Convolution"),
    "Deconvolution": _convolution("Deconvolution"),
    "Pooling": _pooling,
    "InnerProduct": _inner_product,
    "Concat": _concat,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Split": _split,
    "Slice": _slice,
    "Scale": _scale,
    "PReLU": _prelu,
    "BatchNorm": _batch_norm,
    "Permute": _permute,
    "Normalize": _normalize,
    "Eltwise": _eltwise,
    **{kind: _same for kind in sorted(_SAME_SHAPE - {"Scale", "PReLU", "BatchNorm", "Normalize", "Eltwise"})},
    **{kind: _scalar for kind in ("SoftmaxWithLoss", "EuclideanLoss", "InfogainLoss", "MultinomialLogisticLoss",
                                  "SigmoidCrossEntropyLoss", "HingeLoss", "ContrastiveLoss", "Accuracy")},
}


def _infer(kind: str, lp: _Msg, ins: list[Shape], warn: list[str], lname: str, in_place: bool = False
           ) -> tuple[list[Shape], list[int], dict[str, Any]]:
    """Output shapes, the sizes of the learnable parameter blobs (Caffe's order: weights, then
    bias) and attributes of one layer (see :data:`RULES`).  A layer type netdraw does not know (a
    custom C++ layer) is drawn as it is, its outputs' shapes unknown unless it works in place."""
    tops = len(lp.all("top"))
    rule = RULES.get(kind)
    if rule is None:
        warn.append(f"layer {_quote(lname)}: no shape inference for type {_quote(kind)}")
        return ([ins[0] if ins else None] if in_place else [None] * max(1, tops)), [], {}
    shapes, params, attrs = rule(lp, ins, tops)
    return shapes, (params if isinstance(params, list) else [params] if params else []), attrs


def _input_shapes(net: _Msg) -> dict[str, tuple]:
    names = [str(n) for n in net.all("input")]
    shapes: list[tuple] = [tuple(_messages(net, "input_shape")[i].ints("dim", minimum=1))
                           for i in range(len(net.all("input_shape")))]
    dims = net.ints("input_dim", minimum=1)
    if dims and not shapes:
        shapes = [tuple(dims[i:i + 4]) for i in range(0, len(dims), 4)]
    return {n: (shapes[i] if i < len(shapes) else None) for i, n in enumerate(names)}  # type: ignore[misc]


def _messages(m: _Msg, key: str) -> list[_Msg]:
    """A repeated message field; a scalar among them is refused."""
    out = m.all(key)
    for v in out:
        if not isinstance(v, _Msg):
            raise _Bad(f"{key} must be a message {{ ... }}, got {_quote(v)}")
    return out


def from_text(text: str, name: str = "<prototxt>", *, phase: str = "test", stages: Sequence[str] = (),
              inputs: Sequence[str] = ()) -> Graph:
    """The IR of a Caffe network definition.  ``phase`` (``test`` or ``train``) and ``stages``
    choose the layers by their ``include``/``exclude`` rules, as Caffe does; ``inputs`` set data
    blobs' shapes (``1x3x227x227`` for the first, ``NAME=1x3x227x227`` for a named one), over what
    the file says."""
    check_choice("phase", phase, PHASES)
    net = parse_text(text, name)
    state = _State(phase.upper(), set(stages), _input_overrides(inputs))
    try:
        g = _build(net, name, state)
    except _Bad as exc:
        raise NetdrawError(f"{name}: {exc}") from None
    unused = sorted(set(state.overrides) - state.overridden - {""})
    if unused:
        raise NetdrawError(f"--input {unused[0]}=...: {Path(name).name} has no data blob named {unused[0]!r} "
                           f"(its inputs: {', '.join(v.name for v in g.inputs) or 'none'})")
    return g


_PHASE_NUMBERS = {"0": "TRAIN", "1": "TEST"}
#: layers that bring data in: their tops are the net's inputs
_DATA = {"Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData", "AnnotatedData", "VideoData"}
#: layers whose tops are values to read, not to draw on: drawn, and their tops are outputs
_LOSSES = {"SoftmaxWithLoss", "EuclideanLoss", "InfogainLoss", "MultinomialLogisticLoss", "SigmoidCrossEntropyLoss",
           "HingeLoss", "ContrastiveLoss", "Accuracy"}


class _State:
    """What a build needs besides the file: the phase and stages, ``--input`` shapes, the named
    parameter blobs seen so far, and the notices for the user."""

    def __init__(self, phase: str, stages: set[str], overrides: dict[str, tuple[int, ...]]) -> None:
        self.phase, self.stages, self.overrides = phase, stages, overrides
        self.overridden: set[str] = set()
        self.first_data = True
        self.shared: dict[str, str] = {}  # param name -> the layer that owns it
        self.notices: list[str] = []

    def given(self, blob: str, data: bool) -> tuple | None:
        """The ``--input`` shape for ``blob`` (or, for the first data blob, the unnamed one), if any."""
        if blob in self.overrides:
            return self.overrides[blob]
        return self.overrides.get("") if data and self.first_data else None

    def input_shape(self, blob: str, shape: tuple | None, data: bool) -> tuple | None:
        """``blob``'s shape: an ``--input`` for it (see :meth:`given`) wins over ``shape``."""
        override = self.given(blob, data)
        if blob in self.overrides:
            self.overridden.add(blob)
        elif data:
            self.first_data = False
        return shape if override is None else override


def _input_overrides(inputs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for item in inputs:
        blob, sep, spec = str(item).rpartition("=")
        if not re.fullmatch(r"[0-9]{1,9}(x[0-9]{1,9}){0,7}", spec) or (sep and not blob) or "0" in spec.split("x"):
            raise NetdrawError(f"invalid --input {str(item)[:60]!r} for a Caffe net; expected a shape such as "
                               "1x3x227x227, or BLOB=1x3x227x227 for a named data blob")
        if blob in out:
            raise NetdrawError(f"--input gives {blob or 'the first data blob'} twice")
        out[blob] = tuple(int(d) for d in spec.split("x"))
    return out


def _rule_matches(rule: _Msg, state: _State) -> bool:
    """Caffe's NetStateRule: phase, level 0 within min/max, stages all present, not_stages absent."""
    phase = rule.one("phase")
    if phase is not None and _PHASE_NUMBERS.get(str(phase), str(phase).upper()) != state.phase:
        return False
    if rule.int("min_level", 0) > 0 or rule.int("max_level", 0) < 0:
        return False
    if any(str(st) not in state.stages for st in rule.all("stage")):
        return False
    return not any(str(st) in state.stages for st in rule.all("not_stage"))


def _included(lp: _Msg, state: _State) -> bool:
    include, exclude = _messages(lp, "include"), _messages(lp, "exclude")
    if include:
        return any(_rule_matches(r, state) for r in include)
    return not any(_rule_matches(r, state) for r in exclude)


def _data_shapes(kind: str, lp: _Msg, tops: int, state: _State, lname: str) -> list[tuple | None]:
    """The shapes of a data layer's tops: data, then label (one per sample)."""
    batch = 1
    for section in ("data_param", "image_data_param", "hdf5_data_param", "window_data_param",
                    "memory_data_param", "video_data_param"):
        if section in lp:
            batch = lp.msg(section).int("batch_size", 1, minimum=1)
    if kind == "DummyData":
        p = lp.msg("dummy_data_param")
        shapes: list[tuple | None] = [tuple(m.ints("dim", minimum=1)) for m in _messages(p, "shape")]
        if not shapes and p.all("num"):
            cols = [p.ints(k, minimum=1) for k in ("num", "channels", "height", "width")]
            shapes = [tuple(c[min(i, len(c) - 1)] for c in cols if c) for i in range(tops)]
        return [shapes[min(i, len(shapes) - 1)] if shapes else None for i in range(tops)]
    if kind == "MemoryData":
        p = lp.msg("memory_data_param")
        data = (batch, p.int("channels", 1, minimum=1), p.int("height", 1, minimum=1), p.int("width", 1, minimum=1))
        return [data, (batch,)][:tops]
    tp = lp.msg("transform_param")
    size = tp.int("crop_size", 0, minimum=0)
    h = w = size
    if not size and kind == "ImageData":
        p = lp.msg("image_data_param")
        h, w = p.int("new_height", 0, minimum=0), p.int("new_width", 0, minimum=0)
    if not size and kind == "WindowData":
        h = w = lp.msg("window_data_param").int("crop_size", 0, minimum=0)
    means = tp.all("mean_value")
    if not (h and w):
        state.notices.append(f"layer {lname!r}: the data's size is not in the file (drawn as ?); give it with "
                             "--input 1x3x227x227")
        return [None, (batch,)][:tops]
    if means:
        channels = len(means) if len(means) in (1, 3) else 3
    else:
        channels = 3
        state.notices.append(f"layer {lname!r}: 3 channels assumed (the file gives no mean_value); --input sets "
                             "the shape")
    return [(batch, channels, h, w), (batch,)][:tops]


def _params(lp: _Msg, sizes: list[int], state: _State, lname: str) -> tuple[int, list[str]]:
    """Learnable parameters of a layer, a blob shared by name (``param { name: "w" }``) counted at
    its first layer only; and the names of the blobs this layer shares."""
    names = [m.one("name") for m in _messages(lp, "param")]
    total, shares = 0, []
    for i, size in enumerate(sizes):
        pname = str(names[i]) if i < len(names) and names[i] is not None else None
        if pname is not None and pname in state.shared:
            shares.append(pname)
            continue
        if pname is not None:
            state.shared[pname] = lname
        total += size
    return total, shares


#: ResNet's Caffe names: res2a_branch2a (and its bn2a_/scale2a_ twins), res2a_branch1, res2a, res2a_relu
_RESNET = re.compile(r"^(?:res|bn|scale)(\d+[a-z]\d*)_branch\w+$|^res(\d+[a-z]\d*)(?:_relu)?$")
_MAX_DEPTH = 32


def scope_of(name: str, *, resnet: bool = False) -> tuple[str, ...]:
    """The module path of a layer, from its name: each layer is a module of its own, inside the
    modules its ``/``-separated name gives (``inception_3a/1x1`` sits in ``inception_3a``, as ONNX
    exports name scopes); in a ResNet-style net (``resnet``: it has ``res2a_branch2a`` layers), a
    layer named for a block (``res2a_branch2a``, ``bn2a_branch2a``, ``scale2a_branch1``, ``res2a``,
    ``res2a_relu``) sits in the block ``res2a``.

    >>> scope_of("inception_3a/1x1"), scope_of("conv1"), scope_of("bn2a_branch2a", resnet=True)
    (('inception_3a', '1x1'), ('conv1',), ('res2a', 'bn2a_branch2a'))
    """
    parts = [p for p in name.split("/") if p]
    if len(parts) > 1:
        return tuple(parts[:_MAX_DEPTH])
    m = _RESNET.match(name) if resnet else None
    if m:
        block = "res" + (m.group(1) or m.group(2))
        return (block, name) if name != block else (block,)
    return (name,)


def _build(net: _Msg, name: str, state: _State) -> Graph:
    layers = net.all("layer") or net.all("layers")
    if not layers and not net.all("input"):
        raise NetdrawError(f"{name}: no layer {{}} or layers {{}} blocks: not a Caffe network definition")
    g = Graph(str(net.one("name", Path(name).stem)))
    warn: list[str] = []
    blobs: dict[str, Value] = {}
    modules: dict[str, dict[str, Any]] = {}
    for bname, shape in _input_shapes(net).items():
        blobs[bname] = g.add_input(bname, state.input_shape(bname, shape, True), "float32", rename=True)
    resnet = any(isinstance(lp, _Msg) and "_branch" in str(lp.one("name", "")) and _RESNET.match(str(lp.one("name", "")))
                 for lp in layers)
    for lp in layers:
        if not isinstance(lp, _Msg):
            continue
        kind = lp.one("type", "")
        kind = _V1.get(str(kind), str(kind))
        lname = str(lp.one("name", kind))
        try:
            if _included(lp, state):
                _layer(g, lp, kind, lname, blobs, modules, warn, resnet, state)
        except _Bad as exc:
            raise _Bad(f"layer {_quote(lname)}: {exc}") from None
    used = {id(v) for n in g.nodes for v in n.inputs if v is not None}
    g.outputs = [v for n in g.nodes for v in n.outputs if id(v) not in used]
    g.meta["source"] = {"format": "caffe", "path": Path(name).name, "phase": state.phase.lower()}
    g.meta["modules"] = modules
    if warn:
        g.meta["warnings"] = warn
    if state.notices:
        g.meta["notices"] = list(dict.fromkeys(state.notices))
    return g


def _layer(g: Graph, lp: _Msg, kind: str, lname: str, blobs: dict[str, Value], modules: dict[str, dict[str, Any]],
           warn: list[str], resnet: bool, state: _State) -> None:
    """Add one layer: a node, inputs (a data layer), or a merge into the layer whose blob it rewrites."""
    if kind == "Silence":
        return
    tops = [str(t) for t in lp.all("top")]
    bottoms = [str(b) for b in lp.all("bottom")]
    if kind == "Input":
        shapes = [tuple(s.ints("dim", minimum=1)) for s in _messages(lp.msg("input_param"), "shape")]
        for i, t in enumerate(tops):
            shape = shapes[min(i, len(shapes) - 1)] if shapes else None
            blobs[t] = g.add_input(t, state.input_shape(t, shape, True), "float32", rename=True)
        return
    if kind in _DATA or (kind == "Python" and not bottoms):
        first = state.given(tops[0], True) if tops else None
        if first is not None or kind == "Python":  # --input gives the data's shape: nothing to guess
            shapes = [first] + [(first[0],) if first else None] * (len(tops) - 1)  # a label per sample
        else:
            shapes = _data_shapes(kind, lp, len(tops), state, lname)
        for i, t in enumerate(tops):
            blobs[t] = g.add_input(t, state.input_shape(t, shapes[i] if i < len(shapes) else None, i == 0),
                                   "float32", rename=True)
        return
    for b in bottoms:
        if b not in blobs:  # made by a layer of another phase, or outside the file: an input of unknown shape
            state.notices.append(f"layer {lname!r} reads blob {b!r}, which no earlier layer writes: drawn as an input")
            blobs[b] = g.add_input(b, state.input_shape(b, None, False), "float32", rename=True)
    ins = [blobs[b] for b in bottoms]
    in_place = bool(tops) and tops == bottoms[:len(tops)]
    shapes, sizes, attrs = _infer(kind, lp, [v.shape for v in ins], warn, lname, in_place)
    params, shares = _params(lp, sizes, state, lname)
    if shares:
        attrs["shares"] = shares
    if in_place and len(tops) == 1 and kind in _IN_PLACE_OK and ins[0].producer is not None:
        # in place (relu1 writes conv1's blob): merged into the producer, as Netscope shows it
        node = ins[0].producer
        node.op_type = f"{node.op_type}-{kind}"
        node.params += params
        fold = node.meta.setdefault("fold", {"rule": "in-place", "ops": [node.op_type.split("-")[0]],
                                             "nodes": 1})
        fold["ops"].append(kind)
        fold["nodes"] += 1
        if node.scope and scope_key(node.scope) in modules:
            modules[scope_key(node.scope)]["type"] = node.op_type
        return
    outs = [(t, s, "float32") for t, s in zip(tops, shapes + [None] * (len(tops) - len(shapes)))]
    # each layer is its own one-op "module", so the diagram titles it with the layer's name
    scope = scope_of(lname, resnet=resnet)
    node = g.add_node(kind, ins, outs, name=lname, domain="caffe", attrs=attrs, params=params, scope=scope)
    modules[scope_key(scope)] = {"type": kind, "path": lname, "leaf": True}
    for t, v in zip(tops, node.outputs):
        blobs[t] = v


def load(path: Path, *, phase: str = "test", stages: Sequence[str] = (), inputs: Sequence[str] = ()) -> Graph:
    """A ``.prototxt`` file (see :func:`from_text` for the options)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetdrawError(f"{path}: cannot read as text ({exc})") from None
    return from_text(text, str(path), phase=phase, stages=stages, inputs=inputs)


register("caffe", match=match, load=load, description=".prototxt (Caffe network definition)",
         options=("phase", "stages", "inputs"))
