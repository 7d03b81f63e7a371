"""Feature evolution over training (Zeiler & Fergus 2014, Fig. 4).

For each checkpoint (columns) and each chosen feature map of a layer (rows), the strongest
activation of that map over a set of images is projected to pixels with the deconvnet
(:mod:`netdraw.analysis.deconv`).  The same channels are used in every column: by default the
``n`` maps that respond most (largest maximum over the images) in the last checkpoint.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from netdraw.analysis.deconv import project, top_activations
from netdraw.analysis.state import evaluating, running
from netdraw.errors import NetdrawError, first_line

__all__ = ["Evolution", "evolution", "load_checkpoint"]


@dataclasses.dataclass
class Evolution:
    cells: np.ndarray          # (features, checkpoints, C, H, W) float32 projections
    channels: list[int]        # the feature maps (rows)
    labels: list[str]          # the checkpoints (columns)
    images: list[list[int]]    # [row][column]: index of the image holding the strongest activation
    values: np.ndarray         # (features, checkpoints): that activation


def load_checkpoint(make: Callable[[], nn.Module], path: str) -> nn.Module:
    """``make()`` with the state_dict at ``path`` (loaded with ``weights_only=True``: no code runs)."""
    model = make()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise NetdrawError(f"{path}: not a state_dict file ({first_line(exc, limit=120)})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise NetdrawError(f"{path}: holds a {type(state).__name__}, not a state_dict")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise NetdrawError(f"{path}: does not fit the model ({first_line(exc, limit=160)})") from None
    return model


def evolution(models: Sequence[nn.Module], images: torch.Tensor, layer: str, *,
              channels: Sequence[int] | None = None, n: int = 8, labels: Sequence[str] | None = None,
              rule: str = "deconvnet", progress: Any = None) -> Evolution:
    """Project, for every model (checkpoint) and every channel, the strongest activation over
    ``images`` (N, C, H, W)."""
    from netdraw.progress import Bar

    if not models:
        raise NetdrawError("evolution needs at least one checkpoint")
    images = torch.as_tensor(images).float()
    if channels is None:
        last = models[-1]
        modules = dict(last.named_modules())
        if layer not in modules:
            raise NetdrawError(f"the model has no module {layer!r}")
        got: list[torch.Tensor] = []
        h = modules[layer].register_forward_hook(lambda m, a, out: got.append(out.detach()))
        try:
            with evaluating(last), torch.no_grad():
                for s in range(0, images.shape[0], 256):
                    with running():
                        last(images[s:s + 256])
        finally:
            h.remove()
        maxima = torch.cat([g.reshape(g.shape[0], g.shape[1], -1).amax(dim=2) for g in got]).amax(dim=0)
        channels = torch.sort(maxima, descending=True, stable=True).indices[:n].tolist()
    channels = [int(c) for c in channels]
    labels = list(labels) if labels is not None else [str(i + 1) for i in range(len(models))]
    cells = np.zeros((len(channels), len(models), *images.shape[1:]), np.float32)
    values = np.zeros((len(channels), len(models)), np.float32)
    which = [[0] * len(models) for _ in channels]
    bar = Bar("evolution", len(channels) * len(models), "projection", progress)
    try:
        for j, model in enumerate(models):
            for i, c in enumerate(channels):
                idx, value, pos = top_activations(model, images, layer, c, k=1)[0]
                p = project(model, images[idx:idx + 1], layer, c, pos, rule=rule)
                cells[i, j] = p.pixels
                values[i, j] = value
                which[i][j] = idx
                bar.update()
    finally:
        bar.close()
    return Evolution(cells, channels, labels, which, values)
