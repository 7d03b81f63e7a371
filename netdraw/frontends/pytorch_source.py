"""PyTorch sources for the CLI: ``file.py:factory``, ``package.module:factory``, TorchScript
``.pt``, ``torch.export`` ``.pt2``, and example inputs given as shapes or tensor files."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import zipfile
from pathlib import Path
from typing import Any, Sequence

from netdraw._io import note_read
from netdraw.errors import NetdrawError, check_choice, first_line
from netdraw.frontends import register
from netdraw.ir import Graph

__all__ = ["is_spec", "spec_file", "input_hint", "parse_input", "load_module", "load_model", "load_source",
           "load_traced", "DTYPES"]

#: ``--input 1x16:int64``: the dtype names accepted after the colon
DTYPES = ("float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")
_SHAPE = re.compile(r"^[0-9]+(x[0-9]+)*$")
_SPEC = re.compile(r"^(?P<target>[^:]+\.py|[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w.]*)$")
TORCH_SUFFIXES = (".pt", ".pth", ".pt2")


def is_spec(source: str) -> bool:
    """``file.py:factory`` or ``package.module:factory`` (not an existing file path)."""
    return bool(_SPEC.match(source)) and not Path(source).exists()


def spec_file(source: str) -> Path | None:
    """The ``.py`` file a ``file.py:factory`` source imports (None for anything else)."""
    m = _SPEC.match(source) if is_spec(source) else None
    return Path(m["target"]) if m and m["target"].endswith(".py") else None


def input_hint(model: Any) -> tuple | None:
    """``(1, C, None, None)`` where the model's first convolution takes C channels (None when it
    has none): an image for it is read with that many channels."""
    from torch import nn

    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)):
            return (1, m.in_channels, None, None)
    return None


def parse_input(text: str, image: Any = None, *, shape: tuple | None = None) -> Any:
    """``1x3x224x224``, ``1x16:int64``, a ``.pt``/``.npy`` tensor file, or an image file
    (preprocessed as ``image``, an :class:`~netdraw.frontends.images.ImagePrep`, says; ``shape``:
    the model's input shape where known, see :func:`input_hint`)."""
    import torch

    from netdraw.frontends.images import is_image, load_image
    from netdraw.capture import InputSpec

    text = text.strip()
    path = Path(text)
    if is_image(text):
        note_read(path)
        return torch.from_numpy(load_image(path, image, shape=shape))
    if path.suffix in (".pt", ".pth", ".npy") and not _SHAPE.match(text):
        if not path.is_file():
            raise NetdrawError(f"{text}: no such input tensor file")
        note_read(path)
        if path.suffix == ".npy":
            import numpy as np

            try:
                return torch.from_numpy(np.load(path, allow_pickle=False))
            except (ValueError, OSError) as exc:
                raise NetdrawError(f"{text}: not a numpy array file ({exc})") from None
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise NetdrawError(f"{text}: not a tensor file ({first_line(exc, limit=120)})") from None
    dims, _, dtype = text.partition(":")
    if not _SHAPE.match(dims) or len(dims) > 200:
        raise NetdrawError(f"invalid input {text[:60]!r}; expected a shape such as 1x3x224x224, optionally "
                           f"with :dtype ({', '.join(DTYPES)}), or a .pt/.npy tensor file")
    sizes = tuple(int(d) for d in dims.split("x"))
    if min(sizes) < 1 or max(sizes) > 2 ** 31:
        raise NetdrawError(f"invalid input {text[:60]!r}: every size must be from 1 to {2 ** 31:,}")
    dtype = dtype or "float32"
    check_choice("input dtype", dtype[:30], DTYPES)
    return InputSpec(sizes, getattr(torch, dtype))


def _import_target(target: str) -> Any:
    if target.endswith(".py"):
        path = Path(target).resolve()
        if not path.is_file():
            raise NetdrawError(f"{target}: no such file")
        note_read(path)
        # the module is named after the file (classes print as models.ResNet), never after hash(),
        # which changes from run to run; it sits in sys.modules only while it runs (dataclasses
        # look it up there), so it shadows nothing afterwards
        name = path.stem if path.stem.isidentifier() else "netdraw_user"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        previous = sys.modules.get(name)
        sys.path.insert(0, str(path.parent))  # so the file's own sibling imports work
        try:
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            raise NetdrawError(f"{target}: importing it failed ({first_line(exc, kind=True)})") from None
        finally:
            sys.path.remove(str(path.parent))
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
        return module
    try:
        module = importlib.import_module(target)
    except Exception as exc:
        raise NetdrawError(f"{target}: cannot import ({first_line(exc, kind=True)})") from None
    if getattr(module, "__file__", None):
        note_read(module.__file__)
    return module


def load_module(source: str, *, device: str = "cpu") -> Any:
    """Import ``file.py:factory`` or ``package.module:factory`` and build the model.

    ``device="meta"`` builds it on the meta device: no parameter memory is allocated.  The
    factory runs with torch's generator seeded to 0 (the caller's state restored afterwards), so
    a model with random weights is the same in every run: thumbnails and analyses of it too.
    """
    import torch
    from torch import nn

    check_choice("device", device, ("cpu", "meta"))
    m = _SPEC.match(source)
    if m is None:
        raise NetdrawError(f"invalid model source {source!r}; expected file.py:factory or package.module:factory")
    obj: Any = _import_target(m["target"])
    for part in m["attr"].split("."):
        if not hasattr(obj, part):
            raise NetdrawError(f"{source}: {m['target']} has no attribute {part!r}")
        obj = getattr(obj, part)
    if isinstance(obj, nn.Module):
        return obj
    if not callable(obj):
        raise NetdrawError(f"{source}: {m['attr']} is neither an nn.Module nor a factory")
    try:
        with torch.random.fork_rng(devices=[]), torch.device(device):
            torch.manual_seed(0)
            model = obj()
    except Exception as exc:
        raise NetdrawError(f"{source}: calling {m['attr']}() failed ({first_line(exc, kind=True)})") from None
    if not isinstance(model, nn.Module):
        raise NetdrawError(f"{source}: {m['attr']}() returned {type(model).__name__}, not an nn.Module")
    return model


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return []


def load_file_model(path: Path, *, trust: bool) -> Any:
    """A TorchScript archive, or (with ``trust``) a pickled ``nn.Module``."""
    import torch

    names = _zip_names(path)
    if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise NetdrawError(f"{path}: not a loadable TorchScript archive ({first_line(exc)})") from None
    if not names and path.read_bytes()[:2] != b"\x80\x02":
        raise NetdrawError(f"{path}: not a PyTorch file (neither a TorchScript nor a torch.save archive)")
    try:
        torch.load(path, map_location="cpu", weights_only=True)
        raise NetdrawError(f"{path}: holds tensors (a state_dict?), not a model; give the model as "
                           "file.py:factory and load the weights there")
    except NetdrawError:
        raise
    except Exception:
        pass
    if not trust:
        raise NetdrawError(f"{path}: is a pickled Python object, and unpickling runs arbitrary code; pass "
                           "--trust if you trust where it came from, or give the model as file.py:factory")
    try:
        model = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise NetdrawError(f"{path}: unpickling failed ({first_line(exc, kind=True)})") from None
    if not isinstance(model, torch.nn.Module):
        raise NetdrawError(f"{path}: holds a {type(model).__name__}, not an nn.Module")
    return model


def load_source(source: str, **options: Any) -> Graph:
    """Load and trace a PyTorch source as the CLI names it (options as :func:`load_traced`)."""
    return _load(source, **options)[0]


def load_traced(source: str, **options: Any) -> tuple[Graph, Any, tuple, dict[str, Any]]:
    """As :func:`load_source`, and the model and its example inputs, for what runs it again
    (weights for an export, deconvnet projections): ``(graph, model, args, kwargs)``.

    Options: ``inputs``, ``kwargs`` (specs or tensors), ``capture``, ``mode``, ``device``,
    ``trust``, ``image`` (how image inputs are preprocessed), ``locations`` (each op's calling
    line)."""
    graph, model, args, kw = _load(source, **options)
    if model is None:
        raise NetdrawError(f"{source}: this needs a Python model; give it as file.py:factory")
    return graph, model, args, kw


def load_model(source: str, *, inputs: Sequence[Any] = (), kwargs: dict[str, Any] | None = None,
               device: str = "cpu", trust: bool = False, image: Any = None) -> tuple[Any, tuple, dict[str, Any]]:
    """The Python model a source names and its example inputs, not yet run: ``(model, args,
    kwargs)``, for what runs it for real (activation thumbnails).  TorchScript and ``.pt2`` archives
    run outside Python's hooks and are refused."""
    import torch

    path = Path(source)
    if path.suffix == ".pt2" and path.is_file():
        raise NetdrawError(f"{path}: this needs a Python model (a .pt2 archive is not run here); give it as "
                           "file.py:factory")
    model, args, kw = _build(source, inputs=inputs, kwargs=kwargs, device=device, trust=trust, image=image)
    if isinstance(model, torch.jit.ScriptModule):
        raise NetdrawError(f"{path}: this needs a Python model (TorchScript runs outside netdraw's hooks); give "
                           "it as file.py:factory")
    return model, args, kw


def _build(source: str, *, inputs: Sequence[Any], kwargs: dict[str, Any] | None, device: str, trust: bool,
           image: Any) -> tuple[Any, tuple, dict[str, Any]]:
    """The model (an nn.Module, or a TorchScript module) and its parsed example inputs."""
    import torch

    from netdraw.frontends.images import is_image

    path = Path(source)

    # shapes and tensor files are checked before the model is built; images are read after it,
    # so a grey image for a one-channel model stays one channel (see input_hint)
    def early(x: Any) -> Any:
        return parse_input(x, image) if isinstance(x, str) and not is_image(x) else x

    args = tuple(early(x) for x in inputs)
    kw = {k: early(v) for k, v in (kwargs or {}).items()}
    if path.suffix in TORCH_SUFFIXES and path.is_file():
        model = load_file_model(path, trust=trust)
        if isinstance(model, torch.jit.ScriptModule):
            args = tuple(parse_input(x, image) if isinstance(x, str) else x for x in args)
            return model, args, kw
    else:
        model = load_module(source, device=device)
    hint = input_hint(model)
    args = tuple(parse_input(x, image, shape=hint) if isinstance(x, str) else x for x in args)
    kw = {k: parse_input(v, image, shape=hint) if isinstance(v, str) else v for k, v in kw.items()}
    if not args and not kw:
        raise NetdrawError("a PyTorch model needs example inputs: --input 1x3x224x224 (shape[:dtype]) or a "
                           ".pt/.npy tensor file, and --kwarg name=... for keyword inputs")
    return model, args, kw


def _load(source: str, *, inputs: Sequence[Any] = (), kwargs: dict[str, Any] | None = None,
          capture: str = "eager", mode: str = "auto", device: str = "cpu", trust: bool = False,
          image: Any = None, locations: bool = False) -> tuple[Graph, Any, tuple, dict]:
    import torch

    from netdraw.frontends.pytorch import trace

    path = Path(source)
    if path.suffix == ".pt2" and path.is_file():
        from netdraw.frontends.pt2 import load_exported
        from netdraw.frontends.pytorch_export import from_exported

        g = from_exported(load_exported(path, trust=trust), path.stem)
        g.meta["source"]["path"] = path.name
        return g, None, (), {}
    if path.suffix.lower() in (".pt", ".pth") and path.is_file():
        state = _state_dict_graph(path, inputs, kwargs, trust)
        if state is not None:
            return state, None, (), {}
    model, args, kw = _build(source, inputs=inputs, kwargs=kwargs, device=device, trust=trust, image=image)
    if isinstance(model, torch.jit.ScriptModule):
        return _script_graph(model, args, kw, path), None, args, kw
    g = trace(model, args, kw, capture=capture, mode=mode, locations=locations and capture == "eager")
    g.meta["source"]["path"] = source
    return g, model, args, kw


def _state_dict_graph(path: Path, inputs: Sequence[Any], kwargs: dict[str, Any] | None, trust: bool) -> Graph | None:
    """A ``.pt``/``.pth`` state_dict as a checkpoint (:mod:`netdraw.frontends.checkpoint`); None when
    the file is something else (TorchScript, a pickled module)."""
    from netdraw.frontends.checkpoint import load_checkpoint, read_state_dict

    if any(n.endswith("/constants.pkl") or "/code/" in n for n in _zip_names(path)):
        return None
    try:
        read_state_dict(path)
    except NetdrawError:
        return None
    if inputs:
        raise NetdrawError(f"{path}: holds tensors (a state_dict), not a model to run; --input does not apply "
                           "(with a config.json beside it, give inputs as --kwarg)")
    options: dict[str, Any] = {"trust": trust} if trust else {}
    if kwargs:
        options["kwargs"] = kwargs
    return load_checkpoint(path, **options)


def _script_graph(model: Any, args: tuple, kwargs: dict, path: Path) -> Graph:
    """TorchScript runs outside Python, so no hook sees it: go through torch's ONNX exporter."""
    import io
    import warnings

    import onnx
    import torch

    from netdraw.frontends.onnx import from_model
    from netdraw.capture import as_real, materialise

    if kwargs:
        raise NetdrawError(f"{path}: keyword inputs are not supported for TorchScript models")
    if not args:
        raise NetdrawError(f"{path}: a TorchScript model needs example inputs (--input 1x3x224x224)")
    real = materialise(args, as_real)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the model's own argument names (the exporter would say `x.1`), and `output`, not `22`
            names = [a.name for a in model.forward.schema.arguments[1:]][:len(real)]
            with torch.no_grad():
                out = model(*real)
            count = len(out) if isinstance(out, (tuple, list)) else 1
            outputs = ["output"] if count == 1 else [f"output_{i}" for i in range(count)]
            torch.onnx.export(model, real, buf, dynamo=False, input_names=names, output_names=outputs)
    except Exception as exc:
        raise NetdrawError(f"{path}: converting the TorchScript model failed ({first_line(exc)})") from None
    g = from_model(onnx.load_from_string(buf.getvalue()))
    g.name = path.stem
    g.meta["source"] = {"format": "torchscript", "path": path.name}
    return g


register("pytorch", match=lambda path, head: path.suffix.lower() in TORCH_SUFFIXES,
         load=lambda source, **options: load_source(str(source), **options),
         description="file.py:factory, package.module:factory, .pt (TorchScript), .pt2 (torch.export)",
         options=("inputs", "kwargs", "capture", "mode", "device", "trust", "image", "locations"),
         match_source=is_spec)
