"""Multiply-accumulate counts (MACs) per node, from shapes alone.

Convention: one MAC is one multiplication and one addition, so FLOPs ~= 2 x MACs.  Counted:
convolutions and transposed convolutions, linear/Gemm, matmul/bmm/MatMul (also addmm/baddbmm)
and scaled-dot-product attention (the two matrix products; the softmax is not counted).  Biases,
normalisation, activations, pooling and elementwise ops count 0, as in most papers' tables.  A named
(symbolic) dim such as ``batch`` counts as 1, so ONNX files with a dynamic batch give per-sample
counts; a node with an unknown dim gets no count.  Results go to ``node.meta["flops"]`` (MACs, an int);
collapsed and folded nodes carry their members' sum.
"""

from __future__ import annotations

from math import prod
from typing import Callable

from netdraw.ir import Graph, Node, Value
from netdraw.ops import norm_op

__all__ = ["count_flops", "node_macs"]


def _shape(v: Value | None) -> tuple[int, ...] | None:
    """The shape with named (symbolic) dims counted as 1; None when a dim is unknown."""
    if v is None or v.shape is None or any(d is None for d in v.shape):
        return None
    return tuple(1 if isinstance(d, str) else d for d in v.shape)


def _conv(n: Node) -> int | None:
    out = _shape(n.outputs[0]) if n.outputs else None
    w = _shape(n.inputs[1]) if len(n.inputs) > 1 else None
    if out is None or w is None:
        return None
    # weight [C_out, C_in/groups, k...]: every output element sums C_in/groups * k... products
    return prod(out) * prod(w[1:])


def _conv_transpose(n: Node) -> int | None:
    x = _shape(n.inputs[0]) if n.inputs else None
    w = _shape(n.inputs[1]) if len(n.inputs) > 1 else None
    if x is None or w is None:
        return None
    # weight [C_in, C_out/groups, k...]: every input element is spread over C_out/groups * k... outputs
    return prod(x) * prod(w[1:])


def _linear(n: Node) -> int | None:
    out = _shape(n.outputs[0]) if n.outputs else None
    w = _shape(n.inputs[1]) if len(n.inputs) > 1 else None
    if out is None or w is None or len(w) != 2:
        return None
    return prod(out) * w[1]  # torch weight [out, in]


def _gemm(n: Node) -> int | None:
    out = _shape(n.outputs[0]) if n.outputs else None
    a = _shape(n.inputs[0]) if n.inputs else None
    if out is None or a is None or len(a) != 2:
        return None
    k = a[0] if n.attrs.get("transA") else a[1]
    return prod(out) * k


def _matmul(n: Node, first: int = 0) -> int | None:
    out = _shape(n.outputs[0]) if n.outputs else None
    a = _shape(n.inputs[first]) if len(n.inputs) > first else None
    if out is None or a is None or not a:
        return None
    return prod(out) * a[-1]


def _attention(n: Node) -> int | None:
    q, k, v = (_shape(n.inputs[i]) if len(n.inputs) > i else None for i in range(3))
    if q is None or k is None or v is None or len(q) < 2 or len(k) < 2:
        return None
    # scores = q @ k^T: prod(q[:-1]) * S * E;  out = p @ v: prod(q[:-1]) * S * Ev
    return prod(q[:-1]) * k[-2] * (q[-1] + v[-1])


_RULES: dict[str, Callable[[Node], int | None]] = {
    "conv": _conv, "convolution": _conv, "_convolution": _conv, "convinteger": _conv, "deformconv": _conv,
    "convtranspose": _conv_transpose, "conv_transpose": _conv_transpose,
    "linear": _linear,
    "gemm": _gemm,
    "matmul": _matmul, "mm": _matmul, "bmm": _matmul, "matmulinteger": _matmul,
    "addmm": lambda n: _matmul(n, 1), "baddbmm": lambda n: _matmul(n, 1),
    "scaled_dot_product_attention": _attention,
}


def node_macs(node: Node) -> int | None:
    """The MACs of one op node (0 for ops that are not counted, None when shapes are missing)."""
    rule = _RULES.get(norm_op(node.op_type))
    if rule is None:
        return 0
    return rule(node)


def count_flops(graph: Graph) -> int:
    """Write ``meta["flops"]`` (MACs) on every op node that has a count; returns the total.

    Nodes inside subgraphs count towards the node that owns them.  Nodes that already carry
    ``meta["flops"]`` (a collapsed or folded node) keep it.
    """
    total = 0
    for n in graph.nodes:
        if "flops" in n.meta:
            total += n.meta["flops"] or 0
            continue
        macs = node_macs(n)
        for sub in n.subgraphs.values():
            inner = count_flops(sub)
            macs = (macs or 0) + inner
        if macs is not None:
            n.meta["flops"] = macs
            total += macs
    return total
