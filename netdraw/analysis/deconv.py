"""Deconvnet projections (Zeiler & Fergus 2014) and guided backpropagation.

One activation of a layer is kept, everything else in that layer zeroed, and the signal is passed
back down to the pixels: max pooling is undone with the switches recorded on the forward pass
(autograd's max-pool backward routes to the argmax), convolutions with their transposed filters
(conv backward; biases play no part), and each ReLU is replaced by

* ``deconvnet``: a ReLU on the reconstruction (the forward pass's sign is ignored);
* ``guided``: a ReLU on the reconstruction *and* the forward pass's mask (guided backprop).

Nothing is learned.  The projection is linear in the kept activation, so it is that activation's
value times the gradient under these rules: equal to the value × captum's ``NeuronDeconvolution``
(resp. ``NeuronGuidedBackprop``) attribution of that neuron (tested, in-place ReLUs included).

Like captum, the rules apply to ``nn.ReLU`` modules (``F.relu`` calls in a ``forward`` are
differentiated normally).  BatchNorm in eval mode is a per-channel affine map: the projection
passes it scaled by ``weight / sqrt(running_var + eps)`` (its shift drops out, like a bias);
average pooling spreads the signal evenly over its window instead of routing it to one switch,
so projections through it are blurrier.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from typing import Any

import numpy as np
import torch
from torch import nn

from netdraw.analysis.state import evaluating, running
from netdraw.errors import NetdrawError, check_choice

__all__ = ["Projection", "project", "top_activations", "attach_projections", "RULES"]

RULES = ("deconvnet", "guided")


@dataclasses.dataclass
class Projection:
    pixels: np.ndarray      # (C, H, W) float32: the projection in input space
    value: float            # the kept activation
    channel: int
    position: tuple[int, ...]  # its (h, w) in the layer's map


class _Rule(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, guided: bool) -> torch.Tensor:  # type: ignore[override]
        out = torch.relu(x)
        ctx.guided = guided
        ctx.save_for_backward(x)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        g = torch.relu(grad)
        if ctx.guided:
            g = g * (x > 0).to(g.dtype)
        return g, None


def project(model: nn.Module, x: torch.Tensor, layer: str, channel: int | None = None,
            position: tuple[int, ...] | None = None, *, rule: str = "deconvnet") -> Projection:
    """Project one activation of ``layer`` back to the pixels of ``x`` (1, C, H, W).

    ``channel`` defaults to the layer's strongest map (largest maximum), ``position`` to that
    map's argmax.  The model runs in eval mode and is left as it was."""
    check_choice("rule", rule, RULES)
    modules = dict(model.named_modules())
    if layer not in modules:
        raise NetdrawError(f"the model has no module {layer!r}")
    x = torch.as_tensor(x).detach().float().clone().requires_grad_(True)
    if x.dim() != 4 or x.shape[0] != 1:
        raise NetdrawError(f"a projection needs one image as a (1, C, H, W) tensor, got shape {tuple(x.shape)}")
    guided = rule == "guided"
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    inplace = [(m, m.inplace) for m in relus]
    requires = [(p, p.requires_grad) for p in model.parameters()]
    captured: list[torch.Tensor] = []
    handles = [m.register_forward_hook(lambda m, a, out: _Rule.apply(a[0], guided)) for m in relus]
    handles.append(modules[layer].register_forward_hook(lambda m, a, out: captured.append(out)))
    stack = ExitStack()
    try:
        stack.enter_context(evaluating(model))
        for m in relus:
            m.inplace = False  # the rule needs the ReLU's input, and autograd an unmodified graph
        for p, _ in requires:
            p.requires_grad_(False)
        with torch.enable_grad():
            with running():
                model(x)
            if not captured:
                raise NetdrawError(f"{layer!r} was not called by the model's forward")
            act = captured[0]
            if not isinstance(act, torch.Tensor) or act.dim() < 2:
                raise NetdrawError(f"{layer!r} does not output a feature map")
            fmap = act[0]
            if channel is None:
                channel = int(torch.argmax(fmap.reshape(fmap.shape[0], -1).amax(dim=1)))
            if not 0 <= channel < fmap.shape[0]:
                raise NetdrawError(f"channel {channel} is not in {layer!r}'s {fmap.shape[0]} channels")
            m = fmap[channel]
            if position is None:
                flat = int(torch.argmax(m))
                position = tuple(int(i) for i in np.unravel_index(flat, tuple(m.shape)))
            value = m[position]
            (grad,) = torch.autograd.grad(value, x)
    finally:
        for h in handles:
            h.remove()
        for mod, f in inplace:
            mod.inplace = f
        for p, r in requires:
            p.requires_grad_(r)
        stack.close()
    v = float(value.detach())
    return Projection((grad[0] * v).numpy().astype(np.float32), v, int(channel), tuple(position))


def top_activations(model: nn.Module, images: torch.Tensor, layer: str, channel: int, k: int = 9,
                    batch_size: int = 64) -> list[tuple[int, float, tuple[int, ...]]]:
    """The ``k`` images of the batch ``images`` (N, C, H, W) where ``layer``'s map ``channel``
    responds most: ``[(image index, value, (h, w)), ...]``, strongest first (one per image)."""
    modules = dict(model.named_modules())
    if layer not in modules:
        raise NetdrawError(f"the model has no module {layer!r}")
    best: list[tuple[int, float, tuple[int, ...]]] = []
    captured: list[torch.Tensor] = []
    handle = modules[layer].register_forward_hook(lambda m, a, out: captured.append(out.detach()[:, channel]))
    try:
        with evaluating(model), torch.no_grad():
            for start in range(0, images.shape[0], batch_size):
                with running():
                    model(images[start:start + batch_size])
                maps = captured.pop()
                flat = maps.reshape(maps.shape[0], -1)
                vals, idx = flat.max(dim=1)
                for i, (v, j) in enumerate(zip(vals.tolist(), idx.tolist())):
                    pos = tuple(int(p) for p in np.unravel_index(j, tuple(maps.shape[1:])))
                    best.append((start + i, v, pos))
    finally:
        handle.remove()
    best.sort(key=lambda b: (-b[1], b[0]))
    return best[:k]


def attach_projections(graph: Any, model: nn.Module, x: torch.Tensor, *, k: int = 4, rule: str = "deconvnet",
                       types: tuple[str, ...] = ("Conv",), size: int = 32) -> int:
    """Put on ``graph`` (a capture of ``model``) thumbnails of deconvnet projections: for every
    module whose class name contains one of ``types``, its ``k`` strongest maps on ``x``, each
    projected from its strongest activation to pixels (grey = 0), on the value the module's last
    op returns.  Shown where those values are node outputs: ``--fold none``, or a depth where the
    convolution modules are nodes (a folded Conv-BN-ReLU shows its ReLU's output).  Returns how
    many modules got one."""
    import base64

    from netdraw.analysis.activations import ACTIVATION_KEY, layer_activations
    from netdraw.analysis.reduce import downsample

    names = [n for n, m in model.named_modules() if n and any(t in type(m).__name__ for t in types)]
    if not names:
        raise NetdrawError(f"no module of type {', '.join(types)} in the model")
    acts = layer_activations(model, x, layers=names)
    count = 0
    for name in names:
        outs = acts.get(name)
        if not outs or outs[0].dim() != 4:
            continue
        fmap = outs[0][0]
        order = torch.sort(fmap.reshape(fmap.shape[0], -1).amax(dim=1), descending=True, stable=True).indices[:k]
        tiles, scales, values = [], [], []
        for c in order.tolist():
            p = project(model, x, name, c, rule=rule)
            t = downsample(torch.from_numpy(p.pixels), 2 * size)
            s = float(t.abs().max())
            u8 = torch.round((t / (2 * s) + 0.5).clamp(0, 1) * 255) if s > 0 else torch.full_like(t, 128.0)
            tiles.append(u8.to(torch.uint8))
            scales.append([-s, s])
            values.append(p.value)
        data = torch.cat(tiles).numpy()
        record = {"shape": list(outs[0].shape), "dtype": "float32", "layout": "projection", "rule": rule,
                  "layer": name, "colors": int(tiles[0].shape[0]), "channels": order.tolist(), "scores": values,
                  "tile": [int(data.shape[1]), int(data.shape[2])], "scale": scales,
                  "data": base64.b64encode(data.tobytes()).decode("ascii")}
        scope = tuple(name.split("."))
        produced = [n for n in graph.nodes if n.scope == scope and n.outputs]
        if not produced:
            continue
        produced[-1].outputs[0].meta[ACTIVATION_KEY] = record
        count += 1
    graph.meta.setdefault("thumbnails", {"runner": "deconv"})
    return count
