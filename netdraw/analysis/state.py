"""Run a model in eval mode and leave it as it was: the one place the analyses do that."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch import nn

__all__ = ["evaluating"]


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """``model.eval()`` inside the block (BatchNorm statistics frozen, Dropout off); every
    module's training flag is restored afterwards, also after an error."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, f in flags:
            if m.training != f:
                m.training = f
