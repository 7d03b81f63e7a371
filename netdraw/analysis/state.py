"""Run a model in eval mode and leave it as it was: the one place the analyses do that."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch import nn

from netdraw.capture import training
from netdraw.errors import NetdrawError, first_line

__all__ = ["evaluating", "running"]


@contextmanager
def running(what: str = "the model failed to run on the input") -> Iterator[None]:
    """A model's own error (a shape mismatch with the input, say) as one line: ``what: error``."""
    try:
        yield
    except NetdrawError:
        raise
    except Exception as exc:
        raise NetdrawError(f"{what}: {first_line(exc, kind=True)}") from None


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """``model.eval()`` inside the block (BatchNorm statistics frozen, Dropout off); every
    module's training flag is restored afterwards, also after an error
    (:func:`netdraw.capture.training`, the one place a mode is changed)."""
    with training(model, False):
        yield model
