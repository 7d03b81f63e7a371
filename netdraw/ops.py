"""Op knowledge as data: the category of every op type netdraw knows, in one table."""

from __future__ import annotations

import functools
import re

__all__ = ["CATEGORIES", "category", "is_constant", "label_fields", "op_aliases", "norm_op", "short_name"]

#: category -> op types (ONNX names, torch module class names and torch function names).
#: Lookup ignores case, a ``Nd``/``_`` suffix and a leading ``aten::``.
_TABLE: dict[str, tuple[str, ...]] = {
    "conv": ("Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "Conv1d", "Conv2d",
             "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "convolution",
             "conv_transpose", "LazyConv2d", "Deconvolution"),
    "linear": ("Gemm", "MatMul", "MatMulInteger", "QLinearMatMul", "Linear", "Bilinear", "linear",
               "addmm", "mm", "bmm", "matmul", "einsum", "baddbmm", "Conv1D", "Einsum", "InnerProduct"),
    "norm": ("BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization",
             "LpNormalization", "LRN", "MeanVarianceNormalization", "RMSNormalization",
             "SkipLayerNormalization", "SimplifiedLayerNormalization", "BatchNorm", "BatchNorm1d",
             "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm2d", "RMSNorm",
             "LocalResponseNorm", "batch_norm", "layer_norm", "group_norm", "rms_norm", "native_batch_norm",
             "native_layer_norm"),
    "activation": ("Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu",
                   "Selu", "Celu", "Gelu", "FastGelu", "BiasGelu", "Mish", "Softplus", "Softsign",
                   "ThresholdedRelu", "Clip", "Relu6", "SiLU", "Swish", "GELU", "ReLU", "ReLU6",
                   "LeakyReLU", "PReLU", "ELU", "SELU", "Hardtanh", "Hardswish", "Hardsigmoid",
                   "QuickGELUActivation", "NewGELUActivation", "GELUActivation", "relu", "gelu", "silu",
                   "sigmoid", "tanh", "softplus", "hardtanh", "leaky_relu", "elu", "clamp"),
    "softmax": ("Softmax", "LogSoftmax", "Hardmax", "softmax", "log_softmax"),
    "pool": ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "GlobalLpPool",
             "MaxRoiPool", "RoiAlign", "MaxUnpool", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d",
             "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
             "AdaptiveMaxPool2d", "max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool",
             "max_pool2d_with_indices", "Pooling"),
    "resize": ("Resize", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "interpolate",
               "upsample_nearest", "upsample_bilinear", "PixelShuffle", "DepthToSpace", "SpaceToDepth"),
    "attention": ("Attention", "MultiHeadAttention", "MultiheadAttention", "GroupQueryAttention",
                  "scaled_dot_product_attention", "RotaryEmbedding"),
    "embedding": ("Gather", "GatherElements", "GatherND", "Embedding", "EmbeddingBag", "embedding",
                  "EmbedLayerNormalization"),
    "recurrent": ("LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "lstm", "gru"),
    "dropout": ("Dropout", "Dropout1d", "Dropout2d", "AlphaDropout", "dropout"),
    "merge": ("Add", "Sum", "Concat", "Mean", "Max", "Min", "add", "cat", "concat", "stack", "iadd", "Eltwise"),
    "elementwise": ("Mul", "Sub", "Div", "Pow", "Sqrt", "Reciprocal", "Exp", "Log", "Abs", "Neg", "Erf",
                    "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Where", "Equal", "Less", "Greater",
                    "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "Mod", "IsNaN", "IsInf",
                    "BitShift", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
                    "ReduceL2", "ReduceL1", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin",
                    "CumSum", "TopK", "NonMaxSuppression", "mul", "sub", "div", "pow", "sqrt", "rsqrt",
                    "exp", "log", "mean", "sum", "where", "masked_fill", "abs", "neg", "erf", "cos", "sin", "Scale",
                    "Power"),
    "reshape": ("Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Split", "Expand",
                "Tile", "Pad", "Shape", "Size", "Cast", "CastLike", "Identity", "ScatterND",
                "ScatterElements", "Scatter", "Trilu", "Range", "OneHot", "NonZero", "Compress",
                "view", "reshape", "flatten", "permute", "transpose", "contiguous", "squeeze", "unsqueeze",
                "expand", "split", "chunk", "getitem", "slice", "select", "to", "type_as", "repeat",
                "Flatten", "Unflatten", "Identity", "pad", "narrow", "index_select", "unbind"),
    "constant": ("Constant", "ConstantOfShape", "RandomNormal", "RandomUniform", "RandomNormalLike",
                 "RandomUniformLike", "EyeLike", "arange", "zeros", "ones", "full", "tensor"),
    "control": ("If", "Loop", "Scan", "SequenceMap", "cond", "while_loop"),
    "quantize": ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"),
}

#: Every category, in legend order.
CATEGORIES: tuple[str, ...] = ("input", "output", "module", *_TABLE, "other")


@functools.lru_cache(maxsize=4096)
def _norm(op_type: str) -> str:
    s = op_type.rsplit("::", 1)[-1].lower()
    s = s.rstrip("_")
    return re.sub(r"[123]d$", "", s)


_LOOKUP: dict[str, str] = {}
for _cat, _ops in _TABLE.items():
    for _op in _ops:
        _LOOKUP.setdefault(_norm(_op), _cat)


def category(op_type: str) -> str:
    """The category of an op type (``"other"`` when unknown); a merged chain such as Caffe's
    ``Convolution-ReLU`` takes its first op's."""
    cat = _LOOKUP.get(_norm(op_type))
    if cat is None and "-" in op_type:
        cat = _LOOKUP.get(_norm(op_type.split("-", 1)[0]))
    return cat or "other"


def is_constant(op_type: str) -> bool:
    """True for ops that only make a stored tensor (drawn folded into their users)."""
    return op_type == "Constant"


#: attributes shown under an op's name: op type -> (attribute, prefix, write equal values once,
#: hide when all ones).  Keys are normalised like the category table.
_LABEL_FIELDS: dict[str, tuple[tuple[str, str, bool, bool], ...]] = {
    "conv": (("kernel_shape", "", False, False), ("strides", "s", True, True),
             ("dilations", "d", True, True), ("group", "g", True, True),
             ("kernel_size", "", False, False), ("stride", "s", True, True), ("groups", "g", True, True)),
    "convtranspose": (("kernel_shape", "", False, False), ("strides", "s", True, True)),
    "maxpool": (("kernel_shape", "", False, False), ("strides", "s", True, True)),
    "max_pool": (("kernel_size", "", True, False), ("stride", "s", True, True)),
    "avg_pool": (("kernel_size", "", True, False), ("stride", "s", True, True)),
    "averagepool": (("kernel_shape", "", False, False), ("strides", "s", True, True)),
    "convolution": (("kernel_size", "", True, False), ("stride", "s", True, True), ("groups", "g", True, True)),
    "deconvolution": (("kernel_size", "", True, False), ("stride", "s", True, True)),
    "pooling": (("pool", "", True, False), ("kernel_size", "", True, False), ("stride", "s", True, True)),
    "concat": (("axis", "axis=", True, False),),
    "softmax": (("axis", "axis=", True, False),),
    "transpose": (("perm", "perm=", False, False),),
    "resize": (("mode", "", True, False),),
    "gather": (("axis", "axis=", True, False),),
}


def label_fields(op_type: str) -> tuple[tuple[str, str, bool, bool], ...]:
    """The attributes a diagram shows for this op type."""
    return _LABEL_FIELDS.get(_norm(op_type), ())


#: short names that fold rules and filters may use for a family of ops: name -> (how a folded
#: label writes it, the op types it stands for).  ``act`` stands for any activation.
_ALIASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "conv": ("Conv", ("Conv", "Conv1d", "Conv2d", "Conv3d", "convolution", "ConvInteger", "QLinearConv")),
    "convtranspose": ("ConvT", ("ConvTranspose", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
                                "conv_transpose")),
    "bn": ("BN", ("BatchNormalization", "BatchNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
                  "batch_norm", "native_batch_norm")),
    "ln": ("LN", ("LayerNormalization", "LayerNorm", "layer_norm", "native_layer_norm")),
    "gn": ("GN", ("GroupNormalization", "GroupNorm", "group_norm")),
    "linear": ("Linear", ("Linear", "linear", "Gemm", "addmm")),
    "matmul": ("MatMul", ("MatMul", "matmul", "bmm", "mm")),
    "add": ("Add", ("Add", "add", "iadd")),
    "dropout": ("Dropout", ("Dropout", "Dropout1d", "Dropout2d", "dropout", "AlphaDropout")),
    "softmax": ("Softmax", ("Softmax", "softmax")),
    "maxpool": ("MaxPool", ("MaxPool", "MaxPool1d", "MaxPool2d", "max_pool", "max_pool2d_with_indices")),
    "avgpool": ("AvgPool", ("AveragePool", "AvgPool1d", "AvgPool2d", "avg_pool")),
}
_ALIASES["batchnorm"] = _ALIASES["bn"]
_ALIASES["layernorm"] = _ALIASES["ln"]
_ALIASES["groupnorm"] = _ALIASES["gn"]

#: how a folded label writes an activation
_ACT_NAMES = {"relu": "ReLU", "relu6": "ReLU6", "gelu": "GELU", "silu": "SiLU", "swish": "SiLU",
              "sigmoid": "Sigmoid", "tanh": "Tanh", "leakyrelu": "LeakyReLU", "leaky_relu": "LeakyReLU",
              "hardswish": "HSwish", "hardtanh": "ReLU6", "clip": "Clip", "elu": "ELU", "mish": "Mish",
              "prelu": "PReLU", "newgeluactivation": "GELU", "geluactivation": "GELU",
              "quickgeluactivation": "GELU", "fastgelu": "GELU", "biasgelu": "GELU"}


def norm_op(op_type: str) -> str:
    """An op type as lookups compare it: lower case, no ``aten::``, no ``Nd``/``_`` suffix."""
    return _norm(op_type)


def op_aliases(name: str) -> tuple[str, frozenset[str]] | None:
    """``(label, normalised op types)`` for an alias such as ``conv``, ``bn`` or ``act``; else None."""
    key = _norm(name)
    if key in ("act", "activation"):
        return "Act", frozenset(k for k, c in _LOOKUP.items() if c == "activation")
    if key in _ALIASES:
        label, ops = _ALIASES[key]
        return label, frozenset(_norm(o) for o in ops)
    return None


def short_name(op_type: str) -> str:
    """How a folded label writes one op: ``Conv``, ``BN``, ``ReLU``, else the op type itself."""
    key = _norm(op_type)
    return _SHORT.get(key) or _ACT_NAMES.get(key) or op_type.rsplit("::", 1)[-1]


_SHORT: dict[str, str] = {_norm(o): label for label, ops in _ALIASES.values() for o in ops}
