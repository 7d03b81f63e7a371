"""Occlusion sensitivity (Zeiler & Fergus 2014, Fig. 7): slide a grey square over the image.

For each position of a ``window`` × ``window`` occluder moved by ``stride`` (windows start at 0;
``ceil((D - window) / stride) + 1`` positions per axis, the last one cropped at the border, as
captum's ``Occlusion`` does), the occluded pixels are set to ``fill`` in every channel (a value in
the model's input space: 0 is the mean after ImageNet normalisation) and the model runs on a batch
of such images.  The result holds:

* ``probability_map`` -- the target class's probability at each occluder position (Fig. 7d);
* ``label_map`` -- the most probable class at each position (Fig. 7e);
* ``activation_map`` -- with ``layer``: the summed activation of that layer's strongest map in the
  unoccluded image (the channel with the largest maximum), at each position (Fig. 7b);
* ``attribution`` -- per pixel, the mean over the windows covering it of (unoccluded probability -
  occluded probability): positive where hiding the pixel lowers the target's probability.  Equal
  to ``captum.attr.Occlusion(lambda z: softmax(model(z), 1)).attribute(x, sliding_window_shapes=(C,
  w, w), strides=(C, s, s), baselines=fill, target=t)`` (tested).

The model runs in eval mode under ``no_grad`` and is left as it was.
"""

from __future__ import annotations

import dataclasses
import math
from contextlib import ExitStack
from typing import Any, Callable

import numpy as np
import torch

from netdraw.analysis.state import evaluating
from netdraw.errors import NetdrawError, first_line

__all__ = ["OcclusionResult", "occlusion", "positions"]


@dataclasses.dataclass
class OcclusionResult:
    probability_map: np.ndarray        # (rows, cols) float32
    label_map: np.ndarray              # (rows, cols) int64
    attribution: np.ndarray            # (H, W) float32
    activation_map: np.ndarray | None  # (rows, cols) float32, with a layer
    target: int
    probability: float                 # the target's probability in the unoccluded image
    label: int                         # the unoccluded image's most probable class
    window: int
    stride: int
    fill: float
    rows: list[int]                    # window starts, top to bottom
    cols: list[int]                    # window starts, left to right
    layer: str | None = None
    channel: int | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"probability_map": self.probability_map, "label_map": self.label_map,
               "attribution": self.attribution}
        if self.activation_map is not None:
            out["activation_map"] = self.activation_map
        return out


def positions(size: int, window: int, stride: int) -> list[int]:
    """Window starts along one axis: ``ceil((size - window) / stride) + 1`` of them from 0."""
    if size <= window:
        return [0]
    return [i * stride for i in range(math.ceil((size - window) / stride) + 1)]


def _check(x: torch.Tensor, window: int, stride: int, batch_size: int) -> None:
    if x.dim() != 4 or x.shape[0] != 1:
        raise NetdrawError(f"occlusion needs one image as a (1, C, H, W) tensor, got shape {tuple(x.shape)}")
    for name, v in (("window", window), ("stride", stride), ("batch size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise NetdrawError(f"invalid {name} {v!r}; valid: an integer >= 1")
    if stride > window:
        raise NetdrawError(f"the stride ({stride}) must not exceed the window ({window}): pixels would be skipped")


def occlusion(model: Any, x: torch.Tensor, *, target: int | None = None, window: int = 16, stride: int = 8,
              fill: float = 0.0, layer: str | None = None, batch_size: int = 64,
              probabilities: str = "softmax", progress: bool | None = None) -> OcclusionResult:
    """Occlusion maps of ``model`` (an ``nn.Module``, or any callable from a batch to logits) on
    the image ``x`` (1, C, H, W); ``target`` defaults to the unoccluded image's top class.
    ``probabilities``: ``"softmax"`` of the outputs, or ``"identity"`` when they already are."""
    from netdraw.progress import Bar

    if probabilities not in ("softmax", "identity"):
        raise NetdrawError(f"invalid probabilities {probabilities!r}; valid: softmax, identity")
    x = torch.as_tensor(x)
    _check(x, window, stride, batch_size)
    x = x.detach().float()
    is_module = isinstance(model, torch.nn.Module)
    if layer is not None and not is_module:
        raise NetdrawError("an activation map needs a PyTorch model (a layer to hook)")
    hook = None
    captured: list[torch.Tensor] = []
    if layer is not None:
        modules = dict(model.named_modules())
        if layer not in modules:
            raise NetdrawError(f"the model has no module {layer!r}")
        hook = modules[layer].register_forward_hook(lambda m, a, out: captured.append(out.detach()))

    def probs(batch: torch.Tensor) -> torch.Tensor:
        out = model(batch)
        if isinstance(out, (tuple, list)):
            out = out[0]
        out = torch.as_tensor(out).float()
        return torch.softmax(out, dim=1) if probabilities == "softmax" else out

    _, c, h, w = x.shape
    rows, cols = positions(h, window, stride), positions(w, window, stride)
    boxes = [(r, q) for r in rows for q in cols]
    bar = Bar("occlusion", len(boxes), "position", progress)
    stack = ExitStack()
    try:
        if is_module:
            stack.enter_context(evaluating(model))
        with torch.inference_mode():  # no autograd bookkeeping at all (a little faster than no_grad)
            p0 = probs(x)[0]
            label = int(torch.argmax(p0))
            t = label if target is None else int(target)
            if not 0 <= t < p0.shape[0]:
                raise NetdrawError(f"target {t} is not a class of the model's {p0.shape[0]} outputs")
            channel = None
            if layer is not None:
                act0 = captured.pop()[0]
                channel = int(torch.argmax(act0.reshape(act0.shape[0], -1).amax(dim=1)))
                captured.clear()
            prob = np.empty(len(boxes), np.float32)
            labels = np.empty(len(boxes), np.int64)
            acts = np.empty(len(boxes), np.float32) if layer is not None else None
            for start in range(0, len(boxes), batch_size):
                chunk = boxes[start:start + batch_size]
                batch = x.repeat(len(chunk), 1, 1, 1)
                for i, (r, q) in enumerate(chunk):
                    batch[i, :, r:r + window, q:q + window] = fill
                pb = probs(batch)
                prob[start:start + len(chunk)] = pb[:, t].numpy()
                labels[start:start + len(chunk)] = torch.argmax(pb, dim=1).numpy()
                if acts is not None:
                    out = captured.pop()
                    acts[start:start + len(chunk)] = out[:, channel].reshape(len(chunk), -1).sum(dim=1).numpy()
                    captured.clear()
                bar.update(len(chunk))
    except NetdrawError:
        raise
    except Exception as exc:
        raise NetdrawError(f"the model failed on the occluded images: {first_line(exc, kind=True)}") from None
    finally:
        bar.close()
        if hook is not None:
            hook.remove()
        stack.close()
    # attribution: each window's drop in probability, spread over its pixels, averaged per pixel
    drop = (p0[t].clone() - torch.from_numpy(prob)).double()
    total = torch.zeros(h, w, dtype=torch.float64)
    count = torch.zeros(h, w, dtype=torch.float64)
    for (r, q), d in zip(boxes, drop.tolist()):
        total[r:r + window, q:q + window] += d
        count[r:r + window, q:q + window] += 1
    attribution = (total / count).float().numpy()
    shape = (len(rows), len(cols))
    return OcclusionResult(prob.reshape(shape), labels.reshape(shape), attribution,
                           None if acts is None else acts.reshape(shape), t, float(p0[t]), label, window,
                           stride, float(fill), rows, cols, layer, channel)


def onnx_predictor(path: str, input_name: str | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """A batch -> outputs callable running an ONNX file in onnxruntime (for :func:`occlusion`)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise NetdrawError("occlusion of ONNX models needs onnxruntime (pip install onnxruntime)") from None
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = input_name or sess.get_inputs()[0].name

    def run(batch: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(sess.run(None, {name: batch.numpy()})[0])

    return run
