"""Run a model once on a real input and keep a thumbnail of every activation.

PyTorch models run under netdraw's eager recorder (:mod:`netdraw.frontends.pytorch`): right
after each op, and before any later in-place op (``ReLU(inplace=True)``) can change its result,
the output is reduced to a small record (:mod:`netdraw.analysis.reduce`) stored in
``Value.meta["activation"]``; the full tensor is never kept, so peak memory stays that of the
forward pass.  A module called twice gives two values, each with its own record.  The model runs
in eval mode under ``no_grad`` and is left as it was (mode, parameters, buffers, grad state).

ONNX models run in onnxruntime with the wanted intermediate values added as graph outputs.

:func:`layer_activations` returns full activations of chosen modules (one tensor per call, cloned
when the module returns, as captum's ``LayerActivation`` does); the tests hold both paths to it.
"""

from __future__ import annotations

import fnmatch
import gc
from typing import Any, Iterable

import torch

from netdraw.analysis.reduce import MONOTONE, Pending, ThumbnailOptions, complete, derive, start
from netdraw.errors import NetdrawError, first_line
from netdraw.ir import Graph, Value
from netdraw.progress import Bar

__all__ = ["trace_activations", "layer_activations", "onnx_activations", "onnx_feeds", "ACTIVATION_KEY"]

#: where a value's thumbnail record lives
ACTIVATION_KEY = "activation"


def _record_meta(graph: Graph, opts: ThumbnailOptions, runner: str) -> None:
    graph.meta["thumbnails"] = {"k": opts.k, "rank": opts.rank, "size": opts.size, "tokens": opts.tokens,
                                "runner": runner}


def trace_activations(model: torch.nn.Module, args: tuple, kwargs: dict[str, Any] | None = None,
                      thumbnails: Any = True, *, train: bool = False, progress: bool | None = None) -> Graph:
    """Capture ``model(*args, **kwargs)`` for real, with a thumbnail record on every activation."""
    from netdraw.capture import record

    opts = ThumbnailOptions.of(thumbnails)
    bar = Bar("thumbnails", None, "op", progress)

    # The hook takes what it must from each tensor before later ops change it (scores, the top-k
    # maps copied out); downsampling and encoding are done afterwards, for many values at once
    taken: list[tuple[Value, Any]] = []
    pending: dict[int, Pending] = {}  # id(Value) -> its pending record, for derive()

    def observe(v: Value, t: torch.Tensor) -> None:
        part = None
        node = v.producer
        if node is not None and node.op_type in MONOTONE and node.inputs and node.outputs[0] is v:
            # relu(y) after conv/bn: y's channels and maps, through relu, without reading relu(y)
            src = pending.get(id(node.inputs[0]))
            if src is not None and list(t.shape) == src.record["shape"]:
                part = derive(src, node.op_type)
        if part is None:
            part = start(t, opts, rgb=v.kind == "input")
        if part is not None:
            taken.append((v, part))
            if isinstance(part, Pending):
                pending[id(v)] = part
        bar.update()

    if not isinstance(args, tuple):
        args = (args,)
    first = next(model.parameters(), None)
    if first is not None and first.is_meta:
        raise NetdrawError("thumbnails need the model's real weights, but it was built on the meta device")
    paused = gc.isenabled()
    gc.disable()  # as _run does, also over the encoding of the records after the run
    try:
        # inference mode (no version counters, no view tracking) makes the run cheaper than no_grad;
        # not for lazy modules, whose parameters would be made as inference tensors
        lazy = any(isinstance(m, torch.nn.modules.lazy.LazyModuleMixin) for m in model.modules())
        graph = record(model, args, dict(kwargs or {}), kind="real", train=train, grad=False, failures=[],
                     observe=observe, inference=not lazy)
        for (v, _), rec in zip(taken, complete([p for _, p in taken])):
            v.meta[ACTIVATION_KEY] = rec
    except NetdrawError:
        raise
    except Exception as exc:
        raise NetdrawError(f"the model failed to run on the input: {first_line(exc, kind=True)}") from None
    finally:
        bar.close()
        if paused:
            gc.enable()
    _record_meta(graph, opts, "torch")
    return graph


def layer_activations(model: torch.nn.Module, args: Any, kwargs: dict[str, Any] | None = None, *,
                      layers: Iterable[str]) -> dict[str, list[torch.Tensor]]:
    """Full outputs of the modules whose dotted path matches one of ``layers`` (globs allowed):
    ``{path: [output of call 1, call 2, ...]}``, each cloned when the call returns."""
    from netdraw.capture import record

    patterns = list(layers)
    names = {name for name, _ in model.named_modules()}
    for p in patterns:
        if not any(fnmatch.fnmatchcase(n, p) for n in names):
            raise NetdrawError(f"no module matches {p!r}")
    out: dict[str, list[torch.Tensor]] = {}

    def on_output(path: str, scope: tuple[str, ...], output: Any) -> None:
        if any(fnmatch.fnmatchcase(path, p) for p in patterns) and isinstance(output, torch.Tensor):
            out.setdefault(path, []).append(output.detach().clone())

    if not isinstance(args, tuple):
        args = (args,)
    try:
        record(model, args, dict(kwargs or {}), kind="real", train=False, grad=False, failures=[],
             on_output=on_output)
    except NetdrawError:
        raise
    except Exception as exc:
        raise NetdrawError(f"the model failed to run on the input: {first_line(exc, kind=True)}") from None
    return out


def onnx_activations(model: Any, graph: Graph, feeds: dict[str, Any], thumbnails: Any = True, *,
                     progress: bool | None = None) -> Graph:
    """Run the ONNX ``model`` (a path or ``ModelProto``) in onnxruntime on ``feeds`` (input name ->
    numpy array) and store a thumbnail record on each top-level value of ``graph`` (its IR, as
    :func:`netdraw.frontends.onnx.load` made it); returns ``graph``."""
    import numpy as np
    import onnx

    try:
        import onnxruntime as ort
    except ImportError:
        raise NetdrawError("thumbnails of ONNX models need onnxruntime (pip install onnxruntime)") from None
    opts = ThumbnailOptions.of(thumbnails)
    if not isinstance(model, onnx.ModelProto):
        try:
            model = onnx.load(str(model))
        except Exception as exc:
            raise NetdrawError(f"{model}: cannot load for onnxruntime ({first_line(exc, limit=200)})") from None
    live = graph.input_dependent()  # not weights reshaped or cast at run time
    produced = [o for n in model.graph.node for o in n.output if o]
    existing = {o.name for o in model.graph.output}
    wanted = [name for name in produced if graph.get_value(name) is not None and graph.get_value(name) in live]
    for name in wanted:
        if name not in existing:
            model.graph.output.append(onnx.ValueInfoProto(name=name))
    sess_opts = ort.SessionOptions()
    sess_opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(model.SerializeToString(), sess_opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise NetdrawError(f"onnxruntime cannot load the model: {first_line(exc, limit=200)}") from None
    inputs = {i.name: i for i in sess.get_inputs()}
    missing = sorted(set(inputs) - set(feeds))
    if missing:
        raise NetdrawError(f"no input given for {missing[0]!r}; inputs: {', '.join(inputs)}")
    unknown = sorted(set(feeds) - set(inputs))
    if unknown:
        raise NetdrawError(f"the model has no input {unknown[0]!r}; inputs: {', '.join(inputs)}")
    typed = {}
    for name, arr in feeds.items():
        want = inputs[name].type  # e.g. tensor(float)
        arr = np.asarray(arr)
        if want == "tensor(float)" and arr.dtype != np.float32:
            arr = arr.astype(np.float32)
        typed[name] = arr
    bar = Bar("thumbnails", len(wanted) + len(typed), "value", progress)
    try:
        results = sess.run(wanted, typed)
    except Exception as exc:
        raise NetdrawError(f"onnxruntime failed to run the model: {first_line(exc, limit=200)}") from None
    try:
        taken = []
        for name, arr in [*typed.items(), *zip(wanted, results)]:
            part = _take(graph, name, arr, opts)
            if part is not None:
                taken.append(part)
            bar.update()
        for (v, _), rec in zip(taken, complete([p for _, p in taken])):
            if rec is not None:
                v.meta[ACTIVATION_KEY] = rec
    finally:
        bar.close()
    _record_meta(graph, opts, "onnxruntime")
    return graph


def onnx_thumbnails(path: Any, graph: Graph, inputs: list[Any], image: Any = None, thumbnails: Any = True) -> Graph:
    """Run the ONNX file at ``path`` (its external data read from beside it) in onnxruntime on
    ``inputs`` (see :func:`onnx_feeds`) and store a thumbnail record on each value of ``graph``,
    the file's IR; returns ``graph``."""
    from pathlib import Path

    import onnx

    from netdraw.frontends.onnx import load_external_data, read_model

    model = read_model(Path(path))
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        load_external_data(model, Path(path))
    return onnx_activations(model, graph, onnx_feeds(graph, list(inputs), image), thumbnails)


def onnx_feeds(graph: Graph, inputs: list[Any], image: Any = None) -> dict[str, Any]:
    """Input arrays for the graph inputs of an ONNX graph, in order, from image files (preprocessed
    as ``image``, a :class:`~netdraw.frontends.images.ImagePrep`, says, at the input's own size when
    it is fixed), ``.npy``/``.pt`` files, arrays, or shapes (``1x3x224x224[:dtype]``: seeded noise)."""
    import numpy as np

    from netdraw.frontends.images import is_image, load_image

    if not inputs:
        raise NetdrawError("thumbnails need an input to run the model on: --input image.jpg (or a .npy file)")
    if len(inputs) != len(graph.inputs):
        raise NetdrawError(f"the model has {len(graph.inputs)} inputs ({', '.join(v.name for v in graph.inputs)}); "
                           f"{len(inputs)} given")
    from netdraw.frontends.pytorch_source import parse_input

    feeds = {}
    for v, x in zip(graph.inputs, inputs):
        if isinstance(x, str) and is_image(x):
            x = load_image(x, image, shape=v.shape)  # at the input's own size when it is fixed
        elif isinstance(x, str):
            x = parse_input(x)  # a .npy/.pt tensor file, or a shape (seeded noise)
            x = x.make() if hasattr(x, "make") else x
        if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
            x = x.numpy()
        feeds[v.name] = np.asarray(x)
    return feeds


def _take(graph: Graph, name: str, arr: Any, opts: ThumbnailOptions) -> tuple[Value, Any] | None:
    """The value ``name`` and what :func:`~netdraw.analysis.reduce.start` takes from its array
    (completed for all values at once, as in a PyTorch capture)."""
    import numpy as np

    v = graph.get_value(name)
    if v is None or not isinstance(arr, np.ndarray):
        return None
    if v.shape is None or (len(v.shape) == arr.ndim and not all(isinstance(d, int) for d in v.shape)):
        v.shape = tuple(int(d) for d in arr.shape)  # symbolic dims: the diagram shows the run's sizes
    if arr.dtype.kind != "f":
        return None
    part = start(torch.from_numpy(np.ascontiguousarray(arr)), opts, rgb=v.kind == "input")
    return None if part is None else (v, part)
