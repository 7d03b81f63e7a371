"""Thumbnail records (``Value.meta["activation"]``, ``Node.meta["thumbnail"]``): numpy only, no torch.

A *raw* record, as the hook or onnxruntime path made it (:mod:`netdraw.analysis.reduce`)::

    {"shape": [1, 64, 56, 56], "dtype": "float32", "layout": "maps"|"strip"|"matrix"|"grid"|"rgb",
     "rank": "max", "channels": [12, 3, 40, 7], "scores": [...], "tile": [h, w],
     "raw": base64 float16 (or float32) maps (count, h, w), "raw_dtype": "float16"}

:func:`finish` turns it into the record a diagram draws: ``raw`` replaced by ``data`` (uint8 maps,
base64) and ``scale`` (``[lo, hi]`` per map: the 1st and 99th percentiles mapped to 0 and 255;
``lo == hi`` for a constant map, drawn as 0).  An ``rgb`` record (an image input) is normalised
jointly over its three channels.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

__all__ = ["finish", "decode", "normalise", "num"]


def num(x: float) -> float:
    """A float rounded to 6 significant digits (stable JSON, no ``nan``)."""
    if not math.isfinite(x):
        return 0.0
    return float(f"{x:.6g}")


def normalise(maps: np.ndarray) -> tuple[np.ndarray, list[list[float]]]:
    """(k, h, w) float32 -> uint8 maps, each scaled by its own 1st/99th percentile (linear
    interpolation, as ``numpy.percentile``; computed from one sort, which is several times
    faster on these small arrays), and the ``[lo, hi]`` scales."""
    k = maps.shape[0]
    flat = np.sort(maps.reshape(k, -1), axis=1)
    n = flat.shape[1]

    def pct(q: float) -> np.ndarray:
        pos = q * (n - 1)
        i = int(math.floor(pos))
        j = min(i + 1, n - 1)
        return flat[:, i] + (flat[:, j] - flat[:, i]) * np.float32(pos - i)

    lo, hi = pct(0.01), pct(0.99)
    span = hi - lo
    const = span <= np.float32(1e-12) * np.maximum(np.abs(hi), 1)
    safe = np.where(const, 1, span)
    scaled = (maps.reshape(k, -1) - lo[:, None]) / safe[:, None]
    scaled[const] = 0
    u8 = np.rint(np.clip(scaled, 0, 1) * 255).astype(np.uint8).reshape(maps.shape)
    scales = [[num(float(a)), num(float(a if c else b))] for a, b, c in zip(lo, hi, const)]
    return u8, scales


def finish(record: dict[str, Any]) -> dict[str, Any]:
    """A raw record made into a picture's: ``raw`` replaced by ``data``, the maps as uint8
    (base64), each normalised by its own percentiles recorded in ``scale`` (an ``rgb`` record:
    its three channels together)."""
    if "data" in record:
        return record
    h, w = record["tile"]
    maps = np.frombuffer(base64.b64decode(record["raw"]), dtype=record["raw_dtype"]).astype(np.float32)
    maps = np.nan_to_num(maps.reshape(-1, h, w), nan=0.0, posinf=65504.0, neginf=-65504.0)
    if record.get("layout") == "rgb":
        u8, scales = normalise(maps.reshape(1, -1, w))
        u8 = u8.reshape(maps.shape)
    else:
        u8, scales = normalise(maps)
    out = {k: v for k, v in record.items() if k not in ("raw", "raw_dtype")}
    out["scores"] = [num(x) for x in record.get("scores", [])]
    out["scale"] = scales
    out["data"] = base64.b64encode(u8.tobytes()).decode("ascii")
    return out


def decode(record: dict[str, Any]) -> np.ndarray:
    """The uint8 maps of a record as a numpy array (count, h, w)."""
    record = finish(record)
    h, w = record["tile"]
    data = np.frombuffer(base64.b64decode(record["data"]), dtype=np.uint8)
    return data.reshape(-1, h, w)
