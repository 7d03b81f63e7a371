"""Image files as model inputs, through one documented preprocessing.

1. The file is decoded with Pillow and converted to RGB (or to greyscale ``L`` when the model
   takes one channel).
2. ``resize="crop"`` (default): the shorter side is resized to the target and the centre is cropped
   to ``size``; ``"stretch"``: resized to ``size`` exactly.  Bilinear filtering.
3. Pixels are divided by 255 (``pixel_range=1``, default) or kept in 0..255 (``pixel_range=255``),
   then normalised per channel: ``(x - mean) / std`` (ImageNet's mean and std by default; give
   ``mean=(0,), std=(1,)`` to skip it).
4. Channel order RGB, or BGR (``bgr=True``, for models trained on OpenCV-decoded images); one
   grey channel with ``grayscale=True`` or when the model's input has one channel.
5. Layout NCHW with a batch of one, or NHWC (``nhwc=True``); float32.

``size`` defaults to the model's input height and width when they are fixed (ONNX), else 224×224.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Sequence

from netdraw.errors import NetdrawError, check_choice

__all__ = ["ImagePrep", "IMAGE_SUFFIXES", "is_image", "load_image", "parse_size", "parse_floats"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def is_image(text: str) -> bool:
    return Path(text).suffix.lower() in IMAGE_SUFFIXES


@dataclasses.dataclass(frozen=True)
class ImagePrep:
    """How an image file becomes an input tensor (see the module docstring)."""

    size: tuple[int, int] | None = None
    resize: str = "crop"
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    pixel_range: int = 1
    bgr: bool = False
    nhwc: bool = False
    grayscale: bool = False

    def __post_init__(self) -> None:
        check_choice("resize", self.resize, ("crop", "stretch"))
        check_choice("pixel range", self.pixel_range, (1, 255))
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1):
            raise NetdrawError(f"invalid image size {self.size!r}; valid: (height, width) >= 1")
        for name in ("mean", "std"):
            val = getattr(self, name)
            if len(val) not in (1, 3):
                raise NetdrawError(f"invalid {name} {val!r}; valid: one value or three (one per channel)")
        if any(s == 0 for s in self.std):
            raise NetdrawError("invalid std: a value is 0")


def parse_size(text: str) -> tuple[int, int]:
    """``224`` or ``224x320`` (height x width)."""
    parts = text.lower().split("x")
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        dims = []
    if len(dims) == 1:
        dims = dims * 2
    if len(dims) != 2 or min(dims) < 1:
        raise NetdrawError(f"invalid image size {text!r}; expected N or HxW such as 224 or 224x320")
    return dims[0], dims[1]


def parse_floats(name: str, text: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise NetdrawError(f"invalid {name} {text!r}; expected numbers separated by commas") from None
    return vals


def _target(prep: ImagePrep, shape: Sequence[Any] | None) -> tuple[tuple[int, int], int, bool]:
    """(height, width), channels and NHWC-ness from the model's input shape where it is fixed."""
    nhwc = prep.nhwc
    size, channels = prep.size, 1 if prep.grayscale else 3
    if shape is not None and len(shape) == 4:
        c_axis, hw = (3, (1, 2)) if nhwc else (1, (2, 3))
        if not nhwc and isinstance(shape[3], int) and shape[3] in (1, 3) and not (isinstance(shape[1], int)
                                                                                    and shape[1] in (1, 3)):
            c_axis, hw, nhwc = 3, (1, 2), True  # a channels-last model (TensorFlow exports)
        if isinstance(shape[c_axis], int):
            channels = shape[c_axis]
        if size is None and all(isinstance(shape[i], int) and shape[i] > 0 for i in hw):
            size = (shape[hw[0]], shape[hw[1]])
    if channels not in (1, 3):
        raise NetdrawError(f"the model takes {channels} channels; an image gives 1 or 3")
    return size or (224, 224), channels, nhwc


def load_image(path: str | Path, prep: ImagePrep | None = None, *, shape: Sequence[Any] | None = None) -> Any:
    """The image at ``path`` as a float32 numpy array (1, C, H, W) (or NHWC), preprocessed."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    prep = prep or ImagePrep()
    (h, w), channels, nhwc = _target(prep, shape)
    try:
        with Image.open(path) as im:
            im = im.convert("L" if channels == 1 else "RGB")
    except FileNotFoundError:
        raise NetdrawError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise NetdrawError(f"{path}: not an image Pillow can read ({exc})") from None
    if prep.resize == "crop":
        scale = max(h / im.height, w / im.width)
        rw, rh = max(w, round(im.width * scale)), max(h, round(im.height * scale))
        im = im.resize((rw, rh), Image.BILINEAR)
        left, top = (rw - w) // 2, (rh - h) // 2
        im = im.crop((left, top, left + w, top + h))
    else:
        im = im.resize((w, h), Image.BILINEAR)
    a = np.asarray(im, dtype=np.float32)
    if a.ndim == 2:
        a = a[:, :, None]
    if prep.bgr and a.shape[2] == 3:
        a = a[:, :, ::-1]
    if prep.pixel_range == 1:
        a = a / 255.0
    mean = np.asarray(prep.mean[: a.shape[2]] if len(prep.mean) == 3 else prep.mean * a.shape[2], np.float32)
    std = np.asarray(prep.std[: a.shape[2]] if len(prep.std) == 3 else prep.std * a.shape[2], np.float32)
    if prep.bgr and len(prep.mean) == 3 and a.shape[2] == 3:  # mean/std are given in RGB order
        mean, std = mean[::-1], std[::-1]
    a = (a - mean) / std
    a = a[None] if nhwc else a.transpose(2, 0, 1)[None]
    return np.ascontiguousarray(a, dtype=np.float32)
