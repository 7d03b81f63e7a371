"""Which modules did fine-tuning change most: the relative weight change ‖ΔW‖/‖W‖ per module between
two checkpoints of one architecture.

Tensors are read one at a time (safetensors by name, state_dicts memory-mapped), so two checkpoints
of any size fit in memory.  Each module's squared norms are summed over its tensors
(``dw2`` = Σ‖W_b − W_a‖², ``w2`` = Σ‖W_a‖²) and written on the ops that own them; those sums add up
when a diagram collapses modules, so every box shows its own ‖ΔW‖/‖W‖, never an average of ratios.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterator

from netdraw.errors import NetdrawError, first_line
from netdraw.ir import Graph, scope_key

__all__ = ["read_weights", "weight_changes", "attach_changes", "TITLE"]

TITLE = "relative weight change ‖ΔW‖/‖W‖"


def read_weights(path: str | Path, *, trust: bool = False) -> Iterator[tuple[str, Any]]:
    """``(name, float64 numpy array)`` for every floating-point tensor of a checkpoint."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".safetensors"):
        try:
            from safetensors import safe_open
        except ImportError:
            raise NetdrawError("comparing safetensors weights needs the package safetensors") from None
        try:
            with safe_open(str(path), framework="pt") as f:
                for key in f.keys():
                    t = f.get_tensor(key)
                    if t.is_floating_point():
                        yield key, t.double().numpy()
        except NetdrawError:
            raise
        except Exception as exc:
            raise NetdrawError(f"{path}: cannot read its tensors ({first_line(exc)})") from None
        return
    import zipfile

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=not trust, mmap=zipfile.is_zipfile(path))
    except Exception as exc:
        hint = "" if trust else "; a file that needs full unpickling needs --trust"
        raise NetdrawError(f"{path}: cannot be read as tensors ({first_line(exc)}){hint}") from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise NetdrawError(f"{path}: holds a {type(obj).__name__}, not a state_dict")
    for key, t in obj.items():
        if isinstance(t, torch.Tensor) and t.is_floating_point():
            yield str(key), t.double().numpy()


def weight_changes(a: str | Path, b: str | Path, *, trust: bool = False) -> dict[str, tuple[float, float]]:
    """``{tensor name: (‖W_b − W_a‖², ‖W_a‖²)}`` for the tensors both hold with one shape."""
    import numpy as np

    first = dict(read_weights(a, trust=trust))
    out: dict[str, tuple[float, float]] = {}
    for key, wb in read_weights(b, trust=trust):
        wa = first.pop(key, None)
        if wa is None or wa.shape != wb.shape:
            continue
        out[key] = (float(np.sum((wb - wa) ** 2)), float(np.sum(wa ** 2)))
    if not out:
        raise NetdrawError(f"{Path(a).name} and {Path(b).name} share no tensor of one name and shape: "
                           "not two checkpoints of one architecture")
    return out


def attach_changes(graph: Graph, changes: dict[str, tuple[float, float]], *, top: int = 5) -> list[dict[str, Any]]:
    """Write ``dw2``/``w2`` on the ops owning each tensor's module and return the modules ranked by
    ‖ΔW‖/‖W‖ (largest first, ``top`` of them)."""
    from netdraw.passes.collapse import is_hidden

    paths = {}
    for key, info in graph.meta.get("modules", {}).items():
        paths[info.get("path") or key.replace("/", ".")] = key
    owners: dict[str, Any] = {}
    for n in graph.nodes:
        if is_hidden(n):
            continue
        owners.setdefault(scope_key(n.scope), n)
    per_module: dict[str, list[float]] = {}
    for name, (dw2, w2) in changes.items():
        module = name.rsplit(".", 1)[0] if "." in name else ""
        sums = per_module.setdefault(module, [0.0, 0.0])
        sums[0] += dw2
        sums[1] += w2
    for n in graph.nodes:
        n.meta.pop("dw2", None)
        n.meta.pop("w2", None)
    placed = 0
    for module, (dw2, w2) in per_module.items():
        node = owners.get(paths.get(module, module.replace(".", "/")))
        if node is None:
            continue
        node.meta["dw2"] = node.meta.get("dw2", 0.0) + dw2
        node.meta["w2"] = node.meta.get("w2", 0.0) + w2
        placed += 1
    if not placed:
        raise NetdrawError("no tensor of the checkpoints belongs to a module of the model")
    graph.meta["overlay"] = {"metric": "weights", "unit": "", "title": TITLE}
    ranked = sorted(((m, math.sqrt(d) / math.sqrt(w) if w else 0.0) for m, (d, w) in per_module.items()),
                    key=lambda kv: -kv[1])
    return [{"module": m, "change": r} for m, r in ranked[:top]]
