"""Reduce one activation tensor to a small thumbnail record, inside the hook that sees it.

A record is what ``Value.meta["activation"]`` holds: JSON-able, a few kilobytes, independent of
the tensor's size, so a whole forward pass can be summarised at about the memory of the pass.

* ``maps`` -- a (C, H, W) feature map (first sample of the batch): the top-``k`` channels ranked by
  their maximum (or mean) activation over the full map, each downsampled (area average) so its
  longer side is at most ``size`` pixels;
* ``strip`` -- a vector (F,): averaged into at most ``2 * size`` bins;
* ``matrix`` -- tokens (T, D): a T×D image averaged down to at most ``size`` × ``2 * size``;
* ``grid`` -- tokens (T, D) whose count (without a leading CLS token) is a square: each of the
  top-``k`` feature channels as a √T×√T map, like a convolution's;
* ``rgb`` -- a 3-channel model input, kept whole as a colour image.

The maps are stored as float16 (float32 beyond its range) in ``raw``, with the channel indices
and their scores; :func:`netdraw.records.finish` normalises them into the picture's
uint8 maps, for the values a diagram shows.  :func:`start` is what the hook runs (it reads the full
tensor), :func:`complete` finishes many values at once; :func:`reduce_tensor` does both for one.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

from netdraw.errors import NetdrawError, check_choice

__all__ = ["ThumbnailOptions", "RANKS", "TOKENS", "LAYOUTS", "reduce_tensor", "start", "complete", "derive", "Pending",
           "MONOTONE", "downsample"]

from netdraw.options import RANKS, TOKENS  # noqa: E402  (declared with every option)
#: what a record's ``layout`` can be (``projection`` comes from :mod:`netdraw.analysis.deconv`)
LAYOUTS = ("maps", "strip", "matrix", "grid", "rgb", "projection")


@dataclasses.dataclass(frozen=True)
class ThumbnailOptions:
    """How activations are reduced: ``k`` channels ranked by ``rank``, tiles of at most ``size``
    pixels, token sequences drawn as ``tokens``."""

    k: int = 4
    rank: str = "max"
    size: int = 64
    tokens: str = "auto"
    #: the input image's channels are in BGR order (``--bgr``): drawn swapped, in its true colours
    bgr: bool = False

    def __post_init__(self) -> None:
        for name, lo, hi in (("k", 1, 64), ("size", 2, 256)):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, int) or not lo <= val <= hi:
                raise NetdrawError(f"invalid thumbnail {name} {val!r}; valid: an integer from {lo} to {hi}")
        check_choice("thumbnail rank", self.rank, RANKS)
        check_choice("thumbnail tokens", self.tokens, TOKENS)

    @classmethod
    def of(cls, value: "ThumbnailOptions | dict[str, Any] | bool") -> "ThumbnailOptions":
        if isinstance(value, cls):
            return value
        if value is True:
            return cls()
        if isinstance(value, dict):
            unknown = sorted(set(value) - {f.name for f in dataclasses.fields(cls)})
            if unknown:
                raise NetdrawError(f"unknown thumbnail option {unknown[0]!r}; valid: k, rank, size, tokens, bgr")
            return cls(**value)
        raise NetdrawError(f"invalid thumbnails {value!r}; valid: True, a dict of options or ThumbnailOptions")


_DTYPES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16",
           torch.float64: "float64"}


def _fit(h: int, w: int, size: int) -> tuple[int, int]:
    if max(h, w) <= size:
        return h, w
    s = size / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def downsample(maps: torch.Tensor, size: int) -> torch.Tensor:
    """(k, H, W) -> area averages with the longer side at most ``size``: with a whole factor when
    the smallest that fits divides both sides (224 -> 56, 112 -> 56 at 64: the usual CNN sizes;
    several times cheaper than the general kernel on these small tensors), else adaptive (no
    smaller than it need be).  An even factor is taken as
    halvings (:func:`_halve`), what is left of it by ``avg_pool2d``."""
    h, w = maps.shape[1], maps.shape[2]
    big = max(h, w)
    if big <= size:
        return maps
    f = -(-big // size)
    if h % f == 0 and w % f == 0:  # the smallest whole factor that fits divides both sides
        while f % 2 == 0:
            maps, f = _halve(maps), f // 2
        return maps if f == 1 else F.avg_pool2d(maps, f)
    return F.adaptive_avg_pool2d(maps, _fit(h, w, size))


def _halve(maps: torch.Tensor) -> torch.Tensor:
    """(k, H, W) with even sides -> the means of its 2x2 blocks: strided sums of rows, then of
    columns (a third of ``avg_pool2d``'s time on CNN-sized maps)."""
    rows = maps[:, 0::2] + maps[:, 1::2]
    return (rows[:, :, 0::2] + rows[:, :, 1::2]).mul_(0.25)


def _square(n: int) -> int:
    r = math.isqrt(n)
    return r if r * r == n else 0


def _top(x: torch.Tensor, k: int, rank: str, axis: int) -> tuple[torch.Tensor, list[float], float | None]:
    """Indices of the ``k`` strongest channels of ``x`` (on ``axis``: 0 of (C, H, W), 1 of a
    (1, C, H, W) batch of one, read whole: no view of its sample), strongest first, and their
    scores and the next one's (None when there is none, or on the slow path).  The fast path
    returns k+1 indices (no slice: one tensor call fewer; the (k+1)-th is dropped when the record
    is completed).  Ties go to the lower index (``topk`` alone does not promise that, so a tie at
    the cut, or a NaN, falls back to a stable sort)."""
    dims = (1, 2) if axis == 0 else (0, 2, 3)
    scores = x.amax(dim=dims) if rank == "max" else x.mean(dim=dims)
    if x.shape[axis] > k:
        vals, idx = torch.topk(scores, k + 1)
        v = vals.tolist()
        for i in range(k):
            if not v[i] > v[i + 1]:  # a tie or a NaN
                break
        else:  # strictly decreasing
            return idx, v[:k], v[k]
    scores = torch.nan_to_num(scores, nan=-math.inf)
    order = torch.sort(scores, descending=True, stable=True).indices[:k]
    return order, scores[order].tolist(), None


#: elementwise ops that never reverse an order (f(a) >= f(b) when a >= b): the top-k channels by
#: max of f(y) are those of y, and its maps are f of y's, as long as f keeps the scores apart
MONOTONE: dict[str, Callable[..., torch.Tensor]] = {
    "relu": torch.relu, "relu_": torch.relu, "sigmoid": torch.sigmoid, "sigmoid_": torch.sigmoid,
    "tanh": torch.tanh, "tanh_": torch.tanh, "relu6": F.relu6, "hardsigmoid": F.hardsigmoid,
}


def derive(p: "Pending", op: str) -> "Pending | None":
    """The pending record of ``op(y)`` from ``y``'s, without reading ``op(y)``: for a monotone
    elementwise op (:data:`MONOTONE`) with ``rank="max"``, amax commutes with it, so the same
    channels are the strongest unless the op makes two of the scores equal (then None: the caller
    reduces the output itself).  Equal, bit for bit, to reducing ``op(y)`` directly."""
    f = MONOTONE.get(op)
    if f is None or p.record.get("rank") != "max" or not p.scores:
        return None
    full = p.scores if p.next is None else [*p.scores, p.next]
    if p.next is None and len(p.scores) < p.channels:
        return None  # came from the stable-sort path: a tie or a NaN somewhere
    if f is torch.relu:  # the scores are float32 values: relu's result, exactly, without a tensor
        new = [0.0 if v < 0 else v for v in full]
    else:
        new = f(torch.tensor(full, dtype=torch.float32)).tolist()
    if not all(a > b for a, b in zip(new, new[1:])):
        return None
    return Pending(dict(p.record), f(p.maps), p.order, new[:len(p.scores)], p.size,
                   new[-1] if p.next is not None else None, p.channels)


def start(t: torch.Tensor, opts: ThumbnailOptions, *, rgb: bool = False) -> dict[str, Any] | Pending | None:
    """What the hook must take from ``t`` before a later op can change it: a finished raw record,
    or a :class:`Pending` one for :func:`complete`; None for what has no picture (integers,
    booleans, scalars, empty tensors).  ``rgb``: a 3-channel image (a model input) is kept as a
    colour image.  It runs once per op of a forward pass, so the common case (a float32
    (N, C, H, W) map on the CPU) takes a short path of a few tensor calls."""
    if not isinstance(t, torch.Tensor):
        return None
    shape = list(t.shape)
    nd = len(shape)
    if t.dtype is torch.float32 and nd == 4 and not rgb and t.is_cpu and shape[2] * shape[3] > 1 \
            and shape[0] and shape[1]:
        # the common case: a float32 (N, C, H, W) map on the CPU
        x = t.detach() if t.requires_grad else t
        record = {"shape": shape, "dtype": "float32", "layout": "maps"}
        return _maps(x, opts, record, axis=1) if shape[0] == 1 else _maps(x[0], opts, record)
    if t.is_meta or not t.is_floating_point() or nd == 0 or t.numel() == 0:
        return None
    x = t.detach() if t.requires_grad else t
    if nd >= 2:
        x = x[0]  # the first sample of the batch
    record: dict[str, Any] = {"shape": shape, "dtype": _DTYPES.get(t.dtype) or str(t.dtype)[6:]}
    if x.dtype != torch.float32:
        x = x.float()
    if not x.is_cpu and x.numel() * 4 <= 1 << 16:
        x = x.cpu()
    if rgb and x.dim() == 3 and 3 in (x.shape[0], x.shape[2]):
        if x.shape[0] != 3:
            x = x.permute(2, 0, 1)  # channels-last input
        order = torch.tensor([2, 1, 0]) if opts.bgr else torch.arange(3)
        maps = downsample(x[order] if opts.bgr else x, 2 * opts.size)
        record["layout"] = "rgb"
        return _raw(record, maps, order, None)
    if x.dim() == 4:  # (C, D, H, W): the maps averaged over depth
        x = x.mean(dim=1)
    if x.dim() == 3 and x.shape[1] * x.shape[2] == 1:  # (C, 1, 1) after global pooling: a vector
        x = x.reshape(-1)
    if x.dim() == 1:
        n = min(x.shape[0], 2 * opts.size)
        record["layout"] = "strip"
        maps = F.adaptive_avg_pool1d(x[None, None], n)[0][:, None, :]  # (1, 1, n)
        return _raw(record, maps, None, None)
    if x.dim() == 2:
        t_count, d = x.shape
        side, skip = _square(t_count), 0
        if not side and t_count > 1:
            side, skip = _square(t_count - 1), 1
        grid = opts.tokens == "grid" or (opts.tokens == "auto" and side >= 4 and (skip or side >= 7))
        if not (grid and side >= 2):
            h, w = min(t_count, opts.size), min(d, 2 * opts.size)
            record["layout"] = "matrix"
            maps = F.adaptive_avg_pool2d(x[None, None], (h, w))[0]  # (1, h, w)
            return _raw(record, maps, None, None)
        x = x[skip:].T.reshape(d, side, side)  # channels over a √T×√T grid of tokens
        record.update(layout="grid", skipped_tokens=skip)
    elif x.dim() == 3:
        record["layout"] = "maps"
    else:
        return None
    return _maps(x, opts, record)


class Pending:
    """The top-k maps :func:`start` copied out of an activation, at full resolution: downsampling
    and encoding wait for :func:`complete`, which does them for many values at once.  ``maps`` is
    (m, H, W) or (1, m, H, W), in the order of ``order``; its first ``len(scores)`` are the
    record's (the fast path of :func:`_top` also gives the (k+1)-th, which :func:`complete` drops)."""

    __slots__ = ("record", "maps", "order", "scores", "size", "next", "channels")

    def __init__(self, record: dict[str, Any], maps: torch.Tensor, order: torch.Tensor, scores: list[float],
                 size: int, next_score: float | None, channels: int) -> None:
        self.record, self.maps, self.order, self.scores, self.size = record, maps, order, scores, size
        self.next = next_score  # the (k+1)-th score, when the fast path knew it
        self.channels = channels  # how many channels the activation has


def _maps(x: torch.Tensor, opts: ThumbnailOptions, record: dict[str, Any], axis: int = 0) -> Pending:
    """The top-k maps of ``x``, channels on ``axis`` (see :func:`_top`), copied: later in-place
    ops do not reach them."""
    record["rank"] = opts.rank
    order, scores, nxt = _top(x, opts.k, opts.rank, axis)
    return Pending(record, torch.index_select(x, axis, order), order, scores, opts.size, nxt, x.shape[axis])


def complete(items: list[dict[str, Any] | Pending | None]) -> list[dict[str, Any] | None]:
    """Finish what :func:`start` returned: maps of the same size are downsampled and converted
    together (one call per size instead of several per value)."""
    out: list[dict[str, Any] | None] = [None if isinstance(it, Pending) else it for it in items]
    groups: dict[tuple, list[int]] = {}
    for i, it in enumerate(items):
        if isinstance(it, Pending):
            key = (tuple(it.maps.shape), it.size, it.maps.device, it.record.get("rank"))
            groups.setdefault(key, []).append(i)
    for (shape, size, _, rank), idx in groups.items():
        m = shape[-3]  # maps per value
        stacked = torch.cat([items[i].maps for i in idx]) if len(idx) > 1 else items[idx[0]].maps
        small = downsample(stacked.reshape(-1, shape[-2], shape[-1]), size)
        # with rank="max" the maps hold nothing above the first score: float16 is safe below its range
        known = rank == "max" and all(items[i].scores and items[i].scores[0] < 65000.0 for i in idx)
        arr, dtype = _encode(small, fits=True if known else None)
        for j, i in enumerate(idx):
            it = items[i]
            k = len(it.scores)
            out[i] = _store(it.record, arr[j * m:j * m + k], it.order.tolist()[:k], it.scores, dtype)
    return out


def reduce_tensor(t: torch.Tensor, opts: ThumbnailOptions, *, rgb: bool = False) -> dict[str, Any] | None:
    """The raw record of one activation (:func:`start` and :func:`complete` for one tensor)."""
    return complete([start(t, opts, rgb=rgb)])[0]


def _encode(maps: torch.Tensor, fits: bool | None = None) -> tuple[Any, str]:
    """The maps as a numpy array: float16 when they fit its range (``fits``, or checked here;
    values below it become -inf, which :func:`~netdraw.records.finish` clips), else
    float32."""
    maps = maps if maps.is_cpu else maps.cpu()
    if fits is None:
        lo, hi = torch.aminmax(maps)
        fits = -65000.0 < float(lo) and float(hi) < 65000.0  # NaN fails: stays float32
    return (maps.half().numpy(), "float16") if fits else (maps.numpy(), "float32")


def _raw(record: dict[str, Any], maps: torch.Tensor, order: torch.Tensor | None,
         scores: list[float] | None) -> dict[str, Any]:
    arr, dtype = _encode(maps)
    return _store(record, arr, None if order is None else order.tolist(), scores, dtype)


def _store(record: dict[str, Any], a: Any, channels: list[int] | None, scores: list[float] | None,
           dtype: str) -> dict[str, Any]:
    record["channels"] = [] if channels is None else channels
    record["scores"] = [] if scores is None else scores  # rounded when finished
    record["tile"] = [int(a.shape[1]), int(a.shape[2])]
    record["raw"] = base64.b64encode(a.tobytes()).decode("ascii")
    record["raw_dtype"] = dtype
    return record
