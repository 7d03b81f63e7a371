"""Reduce one activation tensor to a small thumbnail record, inside the hook that sees it.

A record is what ``Value.meta["activation"]`` holds: JSON-able, a few kilobytes, independent of
the tensor's size, so a whole forward pass can be summarised at about the memory of the pass.

* ``maps`` -- a (C, H, W) feature map (first sample of the batch): the top-``k`` channels ranked by
  their maximum (or mean) activation over the full map, each downsampled (area average) so its
  longer side is at most ``size`` pixels;
* ``strip`` -- a vector (F,): averaged into at most ``2 * size`` bins;
* ``matrix`` -- tokens (T, D): a T×D image averaged down to at most ``size`` × ``2 * size``;
* ``grid`` -- tokens (T, D) whose count (without a leading CLS token) is a square: each of the
  top-``k`` feature channels as a √T×√T map, like a convolution's.

Each map is normalised on its own: its 1st and 99th percentiles become 0 and 255 (values outside
are clipped); a constant map has ``lo == hi`` and is all zeros.  The record keeps the channel
indices, their scores and the ``[lo, hi]`` scale of every map, so the picture can be read back
into activation values.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from netdraw.analysis.records import num as _num
from netdraw.errors import NetdrawError, check_choice

__all__ = ["ThumbnailOptions", "RANKS", "TOKENS", "LAYOUTS", "reduce_tensor"]

RANKS = ("max", "mean")
TOKENS = ("auto", "matrix", "grid")
LAYOUTS = ("maps", "strip", "matrix", "grid")


@dataclasses.dataclass(frozen=True)
class ThumbnailOptions:
    """How activations are reduced: ``k`` channels ranked by ``rank``, tiles of at most ``size``
    pixels, token sequences drawn as ``tokens``."""

    k: int = 4
    rank: str = "max"
    size: int = 32
    tokens: str = "auto"

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
                raise NetdrawError(f"unknown thumbnail option {unknown[0]!r}; valid: k, rank, size, tokens")
            return cls(**value)
        raise NetdrawError(f"invalid thumbnails {value!r}; valid: True, a dict of options or ThumbnailOptions")


_DTYPES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16",
           torch.float64: "float64"}


def _fit(h: int, w: int, size: int) -> tuple[int, int]:
    if max(h, w) <= size:
        return h, w
    s = size / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def _square(n: int) -> int:
    r = math.isqrt(n)
    return r if r * r == n else 0


def _top(x: torch.Tensor, k: int, rank: str) -> tuple[torch.Tensor, list[float]]:
    """Indices and scores of the ``k`` strongest channels of (C, H, W) ``x``, strongest first;
    ties go to the lower index (``topk`` alone does not promise that, so a tie at the cut, or a
    NaN, falls back to a stable sort)."""
    scores = x.amax(dim=(1, 2)) if rank == "max" else x.mean(dim=(1, 2))
    n = scores.shape[0]
    if n > k:
        vals, idx = torch.topk(scores, k + 1)
        v = vals.tolist()
        if all(a > b for a, b in zip(v, v[1:])):  # strictly decreasing: no tie, no NaN
            return idx[:k], v[:k]
    scores = torch.nan_to_num(scores, nan=-math.inf)
    order = torch.sort(scores, descending=True, stable=True).indices[:k]
    return order, scores[order].tolist()


def reduce_tensor(t: torch.Tensor, opts: ThumbnailOptions, *, rgb: bool = False) -> dict[str, Any] | None:
    """The raw record of one activation: what the hook takes from the full tensor (scores,
    top-k channels, downsampled maps as float16 in ``raw``), before any later op can change
    it; None for what has no picture (integers, booleans, scalars, empty tensors).
    :func:`~netdraw.analysis.records.finish` normalises it into the picture's uint8 maps, for the
    values a diagram shows.  ``rgb``: a 3-channel image (a model input) is kept as a colour image."""
    if not isinstance(t, torch.Tensor) or t.is_meta or t.numel() == 0 or t.dim() == 0:
        return None
    if not t.is_floating_point():
        return None
    record: dict[str, Any] = {"shape": list(t.shape), "dtype": _DTYPES.get(t.dtype) or str(t.dtype)[6:]}
    if True:  # detached: nothing here is recorded by autograd
        x = t.detach()
        if x.dim() >= 2:
            x = x[0]  # the first sample of the batch
        if x.dtype != torch.float32:
            x = x.float()
        if not x.is_cpu and x.numel() * 4 <= 1 << 16:
            x = x.cpu()
        if rgb and x.dim() == 3 and 3 in (x.shape[0], x.shape[2]) and min(x.shape) >= 1:
            if x.shape[0] != 3:
                x = x.permute(2, 0, 1)  # channels-last input
            h, w = _fit(x.shape[1], x.shape[2], 2 * opts.size)
            maps = F.adaptive_avg_pool2d(x, (h, w)) if (h, w) != tuple(x.shape[1:]) else x
            record["layout"] = "rgb"
            return _raw(record, maps, torch.arange(3), None)
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
        record["rank"] = opts.rank
        order, scores = _top(x, opts.k, opts.rank)
        maps = torch.index_select(x, 0, order)
        h, w = _fit(maps.shape[1], maps.shape[2], opts.size)
        if (h, w) != tuple(maps.shape[1:]):
            maps = F.adaptive_avg_pool2d(maps, (h, w))
        return _raw(record, maps, order, scores)


def _raw(record: dict[str, Any], maps: torch.Tensor, order: torch.Tensor | None,
         scores: list[float] | None) -> dict[str, Any]:
    maps = maps if maps.is_cpu else maps.cpu()
    lo, hi = torch.aminmax(maps)
    if -65000.0 < float(lo) and float(hi) < 65000.0:  # float16 holds it (NaN fails, stays float32)
        a, dtype = maps.half().numpy(), "float16"
    else:
        a, dtype = maps.numpy(), "float32"
    record["channels"] = [] if order is None else order.tolist()
    record["scores"] = [] if scores is None else [_num(s) for s in scores]
    record["tile"] = [int(a.shape[1]), int(a.shape[2])]
    record["raw"] = base64.b64encode(a.tobytes()).decode("ascii")
    record["raw_dtype"] = dtype
    return record
