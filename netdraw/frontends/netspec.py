"""A network described in a few lines of text (``.netspec``), for a figure of a network that exists only on paper.

    # LeNet-5 as people write it today
    input 1x28x28
    conv 6 k5 p2 relu
    pool 2
    conv 16 k5 relu
    pool 2
    flatten
    dense 120 relu
    dense 84 relu
    dense 10
    softmax

One layer a line, applied to the line before; ``#`` starts a comment.  ``input C[xH[xW]]`` (a
batch of 1 is added).  Layers, with their options as words:

* ``conv C k3 [s1] [p1|same] [g1] [nobias]``, ``deconv C k2 [s2] [p0]`` (transposed);
* ``pool K [sK] [pP] [max|avg]``, ``gap`` (global average pooling), ``upsample F``;
* ``dense N [nobias]``, ``flatten``, ``bn``, ``ln``, ``dropout``, ``softmax``;
* an activation word (``relu``, ``gelu``, ``tanh``, ``sigmoid``, ``silu``) alone, or after a conv
  or dense layer;
* ``name: layer ...`` names a result; ``add @a [@b]`` and ``concat @a [@b]`` join the line before
  with named results (U-Net skips, residuals); ``@a`` alone continues from a named result.

Shapes are inferred (PyTorch's conventions: floor rounding, ``same`` padding for odd kernels) and
parameters counted; every problem is one error naming the file, the line and the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from netdraw.errors import NetdrawError
from netdraw.frontends import register
from netdraw.ir import Graph, Value

__all__ = ["match", "load", "parse"]

_ACTS = {"relu": "Relu", "gelu": "Gelu", "tanh": "Tanh", "sigmoid": "Sigmoid", "silu": "SiLU"}
_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*):\s*(.*)$")
_OPTION = re.compile(r"([a-z]+)([0-9]+)")
#: the largest number a line may hold: channel counts, sizes and windows of real networks are far below
_MAX_INT = 2 ** 31 - 1
_QUOTE = 60  # characters of the user's text quoted in an error


class _Error(Exception):
    pass


def match(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".netspec"


def load(path: Path, *, inputs: list[str] | tuple[str, ...] = ()) -> Graph:
    """A ``.netspec`` file; ``inputs``: one shape ``C[xH[xW]]`` that replaces the ``input`` line's."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NetdrawError(f"{path}: not a text file") from None
    if len(inputs) > 1:
        raise NetdrawError(f"{path}: a .netspec network has one input; {len(inputs)} --input given")
    return parse(text, name=path.stem, origin=str(path), input_shape=str(inputs[0]) if inputs else None)


def _opts(words: list[str], allowed: set[str]) -> dict[str, str | int | bool]:
    """``k5 s2 p1 same nobias relu max`` -> {"k": 5, "s": 2, "p": 1, "same": True, ...}."""
    out: dict[str, str | int | bool] = {}
    for w in words:
        m = _OPTION.fullmatch(w)
        if m and m.group(1) in allowed:
            what = _OPTION_NAMES.get(m.group(1), m.group(1))
            out[m.group(1)] = _int(m.group(2), what, minimum=0 if m.group(1) == "p" else 1)
        elif w in allowed or w in _ACTS:
            out[w] = True
        else:
            raise _Error(f"unknown option {_quote(w)}; valid: {', '.join(sorted(allowed | set(_ACTS)))}")
    return out


_OPTION_NAMES = {"k": "the kernel size (k)", "s": "the stride (s)", "p": "the padding (p)", "g": "the groups (g)"}


def _quote(text: str) -> str:
    """``repr(text)``, cut to a few dozen characters: an error line never echoes a long input."""
    return repr(text if len(text) <= _QUOTE else text[:_QUOTE] + "…")


def _int(word: str, what: str, *, minimum: int = 1) -> int:
    """A decimal integer of ASCII digits from ``minimum`` to :data:`_MAX_INT`.

    >>> _int("64", "the channel count")
    64
    """
    kind = "a positive integer" if minimum == 1 else "an integer >= 0"
    if not (word.isascii() and word.isdigit()) or len(word) > 10 or not minimum <= int(word) <= _MAX_INT:
        raise _Error(f"{what} must be {kind} up to {_MAX_INT:,}, got {_quote(word)}")
    return int(word)


def _out(size: int, k: int, s: int, p: int) -> int:
    n = (size + 2 * p - k) // s + 1
    if n < 1:
        raise _Error(f"a window of {k} with stride {s} and padding {p} does not fit a size of {size}")
    return n


def parse(text: str, *, name: str = "netspec", origin: str = "<text>", input_shape: str | None = None) -> Graph:
    """The IR of a ``.netspec`` description (see the module docstring); ``input_shape``
    (``C[xH[xW]]``) replaces what the ``input`` line says."""
    if input_shape is not None and not re.fullmatch(r"[0-9]{1,9}(x[0-9]{1,9}){0,2}", input_shape):
        raise NetdrawError(f"invalid --input {input_shape[:60]!r} for a .netspec network; write it as the input "
                           "line does: C, CxL or CxHxW, e.g. 3x224x224")
    g = Graph(name)
    g.meta["source"] = {"format": "netspec", "path": origin}
    named: dict[str, Value] = {}
    cur: Value | None = None
    counts: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            label = None
            m = _NAME.match(line)
            if m:
                label, line = m.group(1), m.group(2).strip()
                if label in named:
                    raise _Error(f"the name {_quote(label)} is used twice")
            words = line.split()
            if not words:
                raise _Error(f"the name {_quote(label)} needs a layer after it, e.g. 'skip: conv 64 k3'")
            op, args = words[0].lower(), words[1:]
            if op == "input":
                if cur is not None:
                    raise _Error("'input' must come first, once")
                if len(args) != 1 or not re.fullmatch(r"[0-9]+(x[0-9]+){0,2}", args[0]):
                    raise _Error("write the input as C, CxL or CxHxW, e.g. 'input 3x224x224'")
                dims = [_int(d, "an input size") for d in (input_shape or args[0]).split("x")]
                cur = g.add_input(label or "input", [1, *dims], "float32")
            elif op.startswith("@"):
                if args:
                    raise _Error(f"'{_quote(op)[1:-1]}' takes no options")
                cur = _ref(named, op)
            else:
                if cur is None:
                    raise _Error("the first line must be 'input C[xH[xW]]'")
                scope = (label,) if label else ()
                cur = _layer(g, op, args, cur, named, counts, scope)
            if label:
                named[label] = cur
        except _Error as exc:
            raise NetdrawError(f"{origin}:{lineno}: {exc}") from None
    if cur is None:
        raise NetdrawError(f"{origin}: no layers; the first line must be 'input C[xH[xW]]'")
    g.outputs = [cur]
    g.lint()
    return g


def _ref(named: dict[str, Value], word: str) -> Value:
    key = word[1:]
    if key not in named:
        name = key if len(key) <= _QUOTE else "skip"
        raise _Error(f"no layer is named {_quote(key)} above this line (name one as '{name}: conv 64 k3')")
    return named[key]


def _layer(g: Graph, op: str, args: list[str], x: Value, named: dict[str, Value], counts: dict[str, int],
           scope: tuple[str, ...]) -> Value:
    shape = list(x.shape or ())
    spatial = shape[2:]

    def node(op_type: str, ins: list[Value], out_shape: list[int], params: int = 0, **attrs) -> Value:
        counts[op_type] = counts.get(op_type, 0) + 1
        n = g.add_node(op_type, ins, [(f"{op_type.lower()}{counts[op_type]}", out_shape, "float32")],
                       name=f"{op_type.lower()}{counts[op_type]}", attrs=attrs, scope=scope, params=params)
        return n.outputs[0]

    def act_after(v: Value, opts: dict) -> Value:
        for w in _ACTS:
            if opts.get(w):
                v = node(_ACTS[w], [v], list(v.shape or ()))
        return v

    if op in ("conv", "deconv"):
        if not args:
            raise _Error(f"'{op}' needs its output channels, e.g. '{op} 64 k3'")
        c_out = _int(args[0], "the channel count")
        o = _opts(args[1:], {"k", "s", "p", "g", "same", "nobias"})
        if len(shape) < 3:
            raise _Error(f"'{op}' needs a feature map (C, H[, W]); the line before gives {_shape(shape)}")
        k, s, grp = int(o.get("k", 3)), int(o.get("s", 1)), int(o.get("g", 1))
        p = (k - 1) // 2 if o.get("same") else int(o.get("p", 0))
        c_in = shape[1]
        if c_in % grp or c_out % grp:
            raise _Error(f"groups={grp} must divide the {c_in} input and {c_out} output channels")
        if op == "conv":
            out = [1, c_out, *(_out(d, k, s, p) for d in spatial)]
        else:
            out = [1, c_out, *((d - 1) * s - 2 * p + k for d in spatial)]
            if min(out[2:], default=1) < 1:
                raise _Error(f"a transposed window of {k} with stride {s} and padding {p} leaves nothing of "
                             f"{_shape(shape)}")
        params = c_out * (c_in // grp) * k ** len(spatial) + (0 if o.get("nobias") else c_out)
        kind = "Conv" if op == "conv" else "ConvTranspose"
        v = node(kind, [x], out, params, kernel_shape=[k] * len(spatial), strides=[s] * len(spatial),
                 pads=[p] * (2 * len(spatial)), group=grp)
        return act_after(v, o)
    if op == "pool":
        if not args:
            raise _Error("'pool' needs its window, e.g. 'pool 2'")
        k = _int(args[0], "the window")
        o = _opts(args[1:], {"s", "p", "max", "avg"})
        if len(shape) < 3:
            raise _Error(f"'pool' needs a feature map; the line before gives {_shape(shape)}")
        s, p = int(o.get("s", k)), int(o.get("p", 0))
        out = [1, shape[1], *(_out(d, k, s, p) for d in spatial)]
        return node("AveragePool" if o.get("avg") else "MaxPool", [x], out, kernel_shape=[k] * len(spatial),
                    strides=[s] * len(spatial))
    if op == "gap":
        _no_args(op, args)
        return node("GlobalAveragePool", [x], [1, shape[1], *([1] * len(spatial))])
    if op == "upsample":
        f = _int(args[0], "the factor") if args else 2
        return node("Resize", [x], [1, shape[1], *(d * f for d in spatial)], mode="nearest")
    if op == "flatten":
        _no_args(op, args)
        n = 1
        for d in shape[1:]:
            n *= d
        return node("Flatten", [x], [1, n])
    if op == "dense":
        if not args:
            raise _Error("'dense' needs its output size, e.g. 'dense 128'")
        n_out = _int(args[0], "the output size")
        o = _opts(args[1:], {"nobias"})
        n_in = shape[-1]
        v = node("Gemm", [x], [*shape[:-1], n_out], n_out * n_in + (0 if o.get("nobias") else n_out))
        return act_after(v, o)
    if op in ("bn", "ln", "dropout", "softmax") or op in _ACTS:
        _no_args(op, args)
        kind = {"bn": "BatchNormalization", "ln": "LayerNormalization", "dropout": "Dropout",
                "softmax": "Softmax"}.get(op) or _ACTS[op]
        params = 2 * shape[1] if op == "bn" else 2 * shape[-1] if op == "ln" else 0
        return node(kind, [x], shape, params)
    if op in ("add", "concat"):
        if not args:
            raise _Error(f"'{op}' needs the names it joins with, e.g. '{op} @skip'")
        others = [_ref(named, w) if w.startswith("@") else _bad(w) for w in args]
        ins = [x, *others]
        for v in others:
            a, b = list(v.shape or ()), shape
            same = a == b if op == "add" else (len(a) == len(b) and a[:1] + a[2:] == b[:1] + b[2:])
            if not same:
                raise _Error(f"cannot {op} {_shape(b)} and {_shape(a)}")
        out = shape if op == "add" else [shape[0], sum((v.shape or ())[1] for v in ins), *shape[2:]]
        return node("Add" if op == "add" else "Concat", ins, out, **({"axis": 1} if op == "concat" else {}))
    raise _Error(f"unknown layer {_quote(op)}; valid: input, conv, deconv, pool, gap, upsample, flatten, dense, bn, "
                 f"ln, dropout, softmax, {', '.join(_ACTS)}, add, concat, @name")


def _no_args(op: str, args: list[str]) -> None:
    if args:
        raise _Error(f"'{op}' takes no options, got {_quote(' '.join(args))}")


def _bad(word: str) -> Value:
    raise _Error(f"expected a name such as @skip, got {_quote(word)}")


def _shape(shape: list[int]) -> str:
    return "×".join(map(str, shape[1:])) or "nothing"


register("netspec", match=match, load=load, description=".netspec (a network in a few lines of text)",
         options=("inputs",))
