"""The PyTorch frontend: capture ``model(*args, **kwargs)`` eagerly (:mod:`netdraw.capture`,
on meta tensors first, then fake, then real, each only if the one before failed) or through
``torch.export`` (:mod:`netdraw.frontends.pytorch_export`)."""

from __future__ import annotations

from typing import Any

from torch import nn

from netdraw.capture import InputSpec, quiet_loggers, record
from netdraw.errors import NetdrawError, check_choice, first_line
from netdraw.ir import Graph
from netdraw.options import CAPTURES, MODES
from netdraw.progress import step

__all__ = ["trace", "CAPTURES", "MODES", "InputSpec", "quiet_loggers"]



def trace(model: nn.Module, args: Any = (), kwargs: dict[str, Any] | None = None, *,
          capture: str = "eager", mode: str = "auto", train: bool = False, grad: bool = False,
          locations: bool = False) -> Graph:
    """Capture ``model(*args, **kwargs)`` as a netdraw :class:`~netdraw.ir.Graph`.

    ``args``/``kwargs`` hold tensors, :class:`InputSpec` shapes, or any nest of them;
    ``capture`` is ``"eager"`` (default) or ``"export"``.  ``mode``:

    * ``"meta"`` -- parameters and inputs swapped for meta tensors during the call
      (``torch.func.functional_call``): shapes only, no arithmetic, no memory;
    * ``"fake"`` -- ``FakeTensorMode``: like meta, but tolerates tensors the model makes on the CPU;
    * ``"real"`` -- the model runs for real (needed for data-dependent control flow);
    * ``"auto"`` (default) -- meta, then fake, then real, each only if the one before failed.

    Activation thumbnails are :func:`netdraw.trace`'s (``thumbnails=``): it composes this capture
    with :mod:`netdraw.analysis.activations`.

    ``locations=True`` records in each node's ``meta["source"]`` the line of the model's code that
    called the op (``models.py:129 in forward``; it costs a walk up the Python stack per op).

    The model is left as it was: training flags, parameters, buffers, ``requires_grad``, hooks.
    """
    check_choice("capture", capture, CAPTURES)
    check_choice("mode", mode, MODES)
    if not isinstance(model, nn.Module):
        raise NetdrawError(f"trace() needs a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    kwargs = dict(kwargs or {})
    if capture == "export":
        from netdraw.frontends.pytorch_export import trace_export

        return trace_export(model, args, kwargs, train=train)
    on_meta = any(t.is_meta for t in (*model.parameters(), *model.buffers()))
    kinds = {"auto": ("meta", "fake", "real"), "meta": ("meta",), "fake": ("fake",), "real": ("real",)}[mode]
    failures: list[str] = []
    for kind in kinds:
        step(f"running the model on {kind} tensors")
        if kind == "real" and on_meta:
            raise NetdrawError("the model needs real values to run (" + "; ".join(failures) + "), but it "
                               "was built on the meta device; build it on the CPU instead")
        try:
            return record(model, args, kwargs, kind=kind, train=train, grad=grad, failures=failures,
                          locations=locations)
        except NetdrawError:
            raise
        except Exception as exc:
            failures.append(f"{kind}: {first_line(exc, kind=True)}")
            if kind == kinds[-1]:
                what = "the model failed to run on the example inputs" if kind == "real" else \
                    f"{kind}-tensor capture failed"
                raise NetdrawError(f"{what}: {first_line(exc, kind=True)}") from None
    raise AssertionError("unreachable")
