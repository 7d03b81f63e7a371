"""Reading a ``torch.export`` archive (``.pt2``) without running code from it.

``torch.export.load`` unpickles parts of an archive: weights and constants marked ``use_pickle``
in their ``*_config.json``, custom (torchbind) and opaque objects, legacy ``.pt`` members, and any
``torch.save`` member that the safe ``weights_only`` unpickler refuses (it then retries with full
pickle).  Unpickling runs whatever the file says, so without ``trust``:

1. the archive's configs are read first, and a member they say is pickled is refused with a one-line
   error that names ``--trust``;
2. while torch loads the archive, full unpickling is switched off: ``torch.load`` only with
   ``weights_only=True``, ``pickle.load``/``loads``/``Unpickler`` and TorchScript's object
   unpickler refuse, so a member the configs did not announce is refused too.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any, Iterator

from netdraw.errors import NetdrawError, first_line

__all__ = ["load_exported", "pickled_members"]

_TRUST_HINT = ("unpickling runs arbitrary code; pass --trust if you trust where the file came from "
               "(or export the model again with plain tensors)")
_CONFIG_DIRS = ("/data/weights/", "/data/constants/")


class _Refused(Exception):
    """Raised inside torch's loader when it tries to unpickle: turned into a NetdrawError."""


def pickled_members(path: Path) -> list[str]:
    """Members of a ``.pt2`` archive that ``torch.export.load`` would unpickle in full, read from
    the archive's own configs (no member is unpickled here)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NetdrawError(f"{path}: not a torch.export archive ({first_line(exc)})") from None
    found: list[str] = []
    with zf:
        for name in zf.namelist():
            if any(d in name for d in _CONFIG_DIRS) and name.endswith("_config.json"):
                found += [f"{name}: {item}" for item in _pickled_in_config(zf, name)]
            elif "/data/constants/" in name and name.endswith(".pt"):
                found.append(f"{name} (legacy pickled constants)")
            elif name.rsplit("/", 1)[-1] in ("serialized_constants.pt",):
                found.append(f"{name} (legacy pickled constants)")
    return found


def _pickled_in_config(zf: zipfile.ZipFile, name: str) -> list[str]:
    try:
        info = zf.getinfo(name)
        if info.file_size > 64 * 1024 * 1024:
            return [f"a config of {info.file_size:,} bytes"]
        config = json.loads(zf.read(name).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        raise NetdrawError(f"{name}: unreadable archive config ({first_line(exc)})") from None
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        return []
    out = []
    for fqn, meta in entries.items():
        if not isinstance(meta, dict):
            continue
        path_name = str(meta.get("path_name", ""))
        if meta.get("use_pickle") or path_name.startswith(("custom_obj", "opaque_obj")):
            out.append(f"{fqn!r} ({path_name or 'pickled'})")
    return out


def _refuse(*_: Any, **__: Any) -> Any:
    raise _Refused("full unpickling")


class _RefusingUnpickler:
    def __init__(self, *_: Any, **__: Any) -> None:
        raise _Refused("full unpickling")


@contextlib.contextmanager
def _no_unpickling() -> Iterator[None]:
    """torch.load only with weights_only=True; every other unpickler refuses."""
    import torch

    real_load = torch.load

    def safe_load(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("weights_only") is False or kwargs.get("pickle_module") not in (None,):
            raise _Refused("torch.load(weights_only=False)")
        kwargs["weights_only"] = True
        return real_load(*args, **kwargs)

    patches = [(torch, "load", safe_load), (pickle, "load", _refuse), (pickle, "loads", _refuse),
               (pickle, "Unpickler", _RefusingUnpickler)]
    if hasattr(torch._C, "_pickle_load_obj"):
        patches.append((torch._C, "_pickle_load_obj", _refuse))
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    for obj, name, new in patches:
        setattr(obj, name, new)
    try:
        yield
    finally:
        for obj, name, old in saved:
            setattr(obj, name, old)


def load_exported(path: Path, *, trust: bool = False) -> Any:
    """``torch.export.load(path)``, with nothing unpickled unless ``trust``; every failure is one
    line."""
    import torch

    from netdraw.capture import quiet_loggers

    guard: Any = contextlib.nullcontext()
    if not trust:
        pickled = pickled_members(path)
        if pickled:
            more = f" and {len(pickled) - 1} more" if len(pickled) > 1 else ""
            raise NetdrawError(f"{path}: holds pickled objects ({pickled[0]}{more}); {_TRUST_HINT}")
        guard = _no_unpickling()
    try:
        with quiet_loggers("torch.export", "torch._export", "torch.export.pt2_archive", "torch"), guard:
            return torch.export.load(str(path))
    except _Refused:
        raise NetdrawError(f"{path}: a member of the archive is a pickled object; {_TRUST_HINT}") from None
    except NetdrawError:
        raise
    except Exception as exc:
        raise NetdrawError(f"{path}: not a loadable torch.export archive ({first_line(exc, limit=160)})") from None
