"""Checkpoints: tensor names, shapes and dtypes read from safetensors headers, PyTorch state_dicts
and GGUF files, without touching tensor data, and the *structure diagram* drawn from them.

* ``.safetensors``: the 8-byte header length and the JSON header only (nothing else is read, so a
  140 GB checkpoint takes milliseconds and a file whose data section is cut short still reads);
  ``.safetensors.index.json``: the headers of every shard it names.
* ``.bin`` / ``.pt`` / ``.pth`` state_dicts: ``torch.load(weights_only=True, map_location="meta")``
  (memory-mapped when the file is a zip archive): no tensor is materialised; a file that needs full
  unpickling is refused unless ``trust``.
* ``.gguf``: metadata and tensor infos (the ``gguf`` package's reader, on a memory map).

Without a model config, a checkpoint is drawn as its **structure**: one node per module that owns
tensors (its tensors' shapes and dtypes as attributes, its parameter count), in the module tree the
names give, in file order.  Consecutive nodes are linked by *order* values (``Value.meta["order"]``)
that renderers draw invisibly: they keep the reading order and let repeated blocks roll
(``model.layers.0–79 ×80``), but no dataflow is invented.  With a config, :mod:`netdraw.frontends.hf`
draws the model and checks the checkpoint against it.
"""

from __future__ import annotations

import json
import math
import re
import struct
from pathlib import Path
from typing import Any, Iterable

from netdraw.errors import NetdrawError, first_line
from netdraw.frontends import register
from netdraw.ir import Graph, scope_key

__all__ = ["Tensors", "load_checkpoint", "read_checkpoint", "read_safetensors", "read_index", "read_state_dict", "read_gguf",
           "structure_graph", "is_checkpoint", "MAX_HEADER"]

#: safetensors headers larger than this are refused (the format's own reader caps them at 100 MB)
MAX_HEADER = 100_000_000

#: dtype names as netdraw writes them (the IR's: float32, bfloat16...)
_ST_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
              "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "U16": "uint16", "U32": "uint32",
              "U64": "uint64", "BOOL": "bool", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
              "F8_E8M0": "float8_e8m0fnu", "F4": "float4_e2m1fn_x2", "C64": "complex64"}
_BITS = {"float64": 64, "float32": 32, "float16": 16, "bfloat16": 16, "int64": 64, "int32": 32, "int16": 16,
         "int8": 8, "uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64, "bool": 8, "float8_e4m3fn": 8,
         "float8_e5m2": 8, "float8_e8m0fnu": 8, "float4_e2m1fn_x2": 8, "complex64": 64}


class Tensors:
    """What a checkpoint holds: ``{name: (shape, dtype)}`` in file order, the bytes per dtype, the
    file's metadata, and the format."""

    def __init__(self, fmt: str, tensors: dict[str, tuple[tuple[int, ...], str]], nbytes: dict[str, int],
                 metadata: dict[str, Any]) -> None:
        self.format = fmt
        self.tensors = tensors
        self.nbytes = nbytes
        self.metadata = metadata

    @property
    def params(self) -> int:
        return sum(math.prod(shape) for shape, _ in self.tensors.values())

    def summary(self) -> dict[str, Any]:
        dtypes: dict[str, dict[str, int]] = {}
        for shape, dtype in self.tensors.values():
            d = dtypes.setdefault(dtype, {"tensors": 0, "params": 0, "bytes": 0})
            d["tensors"] += 1
            d["params"] += math.prod(shape)
        for dtype, b in self.nbytes.items():
            dtypes.setdefault(dtype, {"tensors": 0, "params": 0, "bytes": 0})["bytes"] = b
        meta = {k: (v if len(str(v)) <= 200 else str(v)[:199] + "…") for k, v in self.metadata.items()}
        return {"format": self.format, "tensors": len(self.tensors), "params": self.params,
                "dtypes": dict(sorted(dtypes.items())), "metadata": meta}


# ------------------------------------------------------------------ safetensors
def read_safetensors(path: Path) -> Tensors:
    """The header of a ``.safetensors`` file (only the header is read)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(8)
            if len(raw) < 8:
                raise NetdrawError(f"{path}: truncated safetensors file (no header length)")
            (n,) = struct.unpack("<Q", raw)
            if n > MAX_HEADER:
                raise NetdrawError(f"{path}: safetensors header of {n:,} bytes (at most {MAX_HEADER:,}); "
                                   "not a safetensors file?")
            text = fh.read(n)
    except OSError as exc:
        raise NetdrawError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(text) < n:
        raise NetdrawError(f"{path}: truncated safetensors header ({len(text):,} of {n:,} bytes)")
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NetdrawError(f"{path}: the safetensors header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise NetdrawError(f"{path}: the safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise NetdrawError(f"{path}: the safetensors __metadata__ is not an object")
    tensors: dict[str, tuple[tuple[int, ...], str]] = {}
    nbytes: dict[str, int] = {}
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or not isinstance(info.get("shape"), list) or \
                not isinstance(info.get("dtype"), str):
            raise NetdrawError(f"{path}: tensor {name!r} has no valid dtype and shape in the header")
        shape = info["shape"]
        if not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2 ** 48 for d in shape):
            raise NetdrawError(f"{path}: tensor {name!r} has an invalid shape {shape}")
        offsets = info.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise NetdrawError(f"{path}: tensor {name!r} has no valid data_offsets")
        dtype = _ST_DTYPES.get(info["dtype"], info["dtype"].lower())
        entries.append((offsets[0], name, tuple(shape), dtype, offsets[1] - offsets[0]))
    for _, name, shape, dtype, size in sorted(entries, key=lambda e: (e[0], e[1])):  # file order
        tensors[name] = (shape, dtype)
        nbytes[dtype] = nbytes.get(dtype, 0) + size
    return Tensors("safetensors", tensors, nbytes, {str(k): v for k, v in meta.items()})


def read_index(path: Path) -> Tensors:
    """A sharded checkpoint: ``model.safetensors.index.json`` and the headers of its shards."""
    path = Path(path)
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NetdrawError(f"{path}: not a readable checkpoint index ({first_line(exc)})") from None
    wmap = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(wmap, dict) or not all(isinstance(v, str) for v in wmap.values()):
        raise NetdrawError(f"{path}: a checkpoint index needs a weight_map of tensor name -> shard file")
    shards = list(dict.fromkeys(wmap.values()))
    tensors: dict[str, tuple[tuple[int, ...], str]] = {}
    nbytes: dict[str, int] = {}
    for shard in shards:
        file = (path.parent / shard)
        if Path(shard).is_absolute() or ".." in Path(shard).parts:
            raise NetdrawError(f"{path}: shard {shard!r} is outside the checkpoint's folder")
        if not file.exists():
            raise NetdrawError(f"{path}: shard {shard} is missing")
        part = read_safetensors(file)
        tensors.update(part.tensors)
        for k, v in part.nbytes.items():
            nbytes[k] = nbytes.get(k, 0) + v
    missing = [k for k in wmap if k not in tensors]
    if missing:
        raise NetdrawError(f"{path}: {len(missing)} tensors of the index are in no shard (first: {missing[0]})")
    meta = dict(index.get("metadata") or {}) if isinstance(index.get("metadata"), dict) else {}
    meta["shards"] = len(shards)
    return Tensors("safetensors (sharded)", tensors, nbytes, meta)


# ------------------------------------------------------------------ state_dicts
def read_state_dict(path: Path, *, trust: bool = False) -> Tensors:
    """A PyTorch state_dict's names, shapes and dtypes, loaded onto the meta device."""
    import zipfile

    import torch

    path = Path(path)
    mmap = zipfile.is_zipfile(path)
    try:
        obj = torch.load(path, map_location="meta", weights_only=True, mmap=mmap)
    except Exception as exc:
        if not trust:
            raise NetdrawError(f"{path}: cannot be read as tensors only ({first_line(exc)}); it needs full "
                               "unpickling, which runs arbitrary code: pass --trust if you trust where it came "
                               "from") from None
        try:
            obj = torch.load(path, map_location="meta", weights_only=False)
        except Exception as exc2:
            raise NetdrawError(f"{path}: unpickling failed ({first_line(exc2, kind=True)})") from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]  # a training checkpoint holding the weights under a key
    if not isinstance(obj, dict):
        raise NetdrawError(f"{path}: holds a {type(obj).__name__}, not a state_dict of tensors")
    tensors: dict[str, tuple[tuple[int, ...], str]] = {}
    nbytes: dict[str, int] = {}
    for name, t in _flat(obj):
        if isinstance(t, torch.Tensor):
            dtype = str(t.dtype).replace("torch.", "")
            tensors[name] = (tuple(int(d) for d in t.shape), dtype)
            nbytes[dtype] = nbytes.get(dtype, 0) + t.numel() * t.element_size()
    if not tensors:
        raise NetdrawError(f"{path}: holds no tensors")
    return Tensors("state_dict", tensors, nbytes, {})


def _flat(obj: dict, prefix: str = "", depth: int = 0) -> Iterable[tuple[str, Any]]:
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and depth < 8:
            yield from _flat(v, name + ".", depth + 1)
        else:
            yield name, v


# ------------------------------------------------------------------ GGUF
def read_gguf(path: Path) -> Tensors:
    """A GGUF file's metadata and tensor infos (names, shapes, quantisation types)."""
    try:
        from gguf import GGUFReader
    except ImportError:
        raise NetdrawError(f"{path}: reading GGUF needs the package gguf (pip install gguf)") from None
    path = Path(path)
    try:
        reader = GGUFReader(str(path), "r")
    except Exception as exc:
        raise NetdrawError(f"{path}: not a readable GGUF file ({first_line(exc)})") from None
    meta: dict[str, Any] = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key.startswith("tokenizer.ggml."):
            continue
        try:
            value = field.contents()
        except Exception:
            continue
        if isinstance(value, list) and len(value) > 16:
            value = f"[{len(value)} items]"
        meta[key] = value
    tensors: dict[str, tuple[tuple[int, ...], str]] = {}
    nbytes: dict[str, int] = {}
    for t in reader.tensors:
        dtype = t.tensor_type.name.lower() if hasattr(t.tensor_type, "name") else str(t.tensor_type)
        shape = tuple(int(d) for d in reversed(list(t.shape)))  # GGUF lists dims innermost first
        tensors[t.name] = (shape, _GGUF_DTYPE.get(dtype, dtype))
        nbytes[tensors[t.name][1]] = nbytes.get(tensors[t.name][1], 0) + int(t.n_bytes)
    return Tensors("gguf", tensors, nbytes, meta)


_GGUF_DTYPE = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64", "i8": "int8",
               "i16": "int16", "i32": "int32", "i64": "int64"}


# ------------------------------------------------------------------ what a path is
def is_checkpoint(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".safetensors", ".safetensors.index.json", ".gguf", ".bin"))


def read_checkpoint(path: Path, *, trust: bool = False) -> Tensors:
    """The tensors of a checkpoint file of any supported kind."""
    name = Path(path).name.lower()
    if name.endswith(".safetensors.index.json"):
        return read_index(path)
    if name.endswith(".safetensors"):
        return read_safetensors(path)
    if name.endswith(".gguf"):
        return read_gguf(path)
    return read_state_dict(path, trust=trust)


# ------------------------------------------------------------------ the structure diagram
_INDEX = re.compile(r"\d+")


def module_scope(name: str) -> tuple[tuple[str, ...], str]:
    """``model.layers.0.self_attn.q_proj.weight`` -> (("model", "layers.0", "self_attn", "q_proj"), "weight"):
    numeric parts join the name before them, as in a PyTorch capture's scopes."""
    parts = name.split(".")
    leaf = parts.pop() if len(parts) > 1 else parts.pop()
    scope: list[str] = []
    for p in parts:
        if _INDEX.fullmatch(p) and scope:
            scope[-1] = f"{scope[-1]}.{p}"
        else:
            scope.append(p)
    return tuple(scope), leaf


def _kind(module: str, owned: dict[str, tuple[tuple[int, ...], str]]) -> str:
    """A guess at a module's type from its tensors (the label says it is a structure diagram)."""
    w = owned.get("weight")
    low = module.lower()
    if w is None:
        return "Tensors"
    rank = len(w[0])
    if rank == 2 and ("emb" in low or low in ("wte", "wpe", "tok_embeddings", "token_embd")):
        return "Embedding"
    if rank == 2:
        return "Linear"
    if rank in (3, 4, 5):
        return f"Conv{rank - 2}d"
    if rank == 1:
        return "Norm" if "norm" in low or "ln" in low or "bias" in owned or len(owned) <= 2 else "Tensors"
    return "Tensors"


def _shape_text(shape: tuple[int, ...], dtype: str) -> str:
    return f"{dtype} " + ("×".join(str(d) for d in shape) or "scalar")


def structure_graph(t: Tensors, name: str) -> Graph:
    """The structure diagram of a checkpoint (see the module docstring)."""
    g = Graph(f"{name} (structure)")
    owners: dict[tuple[str, ...], dict[str, tuple[tuple[int, ...], str]]] = {}
    for tname, (shape, dtype) in t.tensors.items():
        scope, leaf = module_scope(tname)
        owners.setdefault(scope, {})[leaf] = (shape, dtype)
    modules: dict[str, dict[str, Any]] = {}
    prev = None
    for k, (scope, owned) in enumerate(owners.items()):
        op = _kind(scope[-1] if scope else name, owned)
        params = sum(math.prod(s) for s, _ in owned.values())
        dtypes = sorted({d for _, d in owned.values()})
        attrs: dict[str, Any] = {leaf: _shape_text(s, d) for leaf, (s, d) in owned.items()}
        out_name = f"{scope_key(scope) or name}:order"
        node = g.add_node(op, [prev] if prev is not None else [], [(out_name, None, None)],
                          name=scope_key(scope) or f"{name}:{k}", attrs=attrs, scope=scope, params=params)
        node.meta["dtypes"] = dtypes
        node.outputs[0].meta["order"] = True
        prev = node.outputs[0]
        for i in range(1, len(scope) + 1):
            modules.setdefault(scope_key(scope[:i]), {"path": ".".join(scope[:i])})
        if scope:
            modules[scope_key(scope)]["type"] = op
    g.meta["modules"] = modules
    g.meta["structure"] = True
    g.meta["checkpoint"] = t.summary()
    g.meta["source"] = {"format": t.format, "path": name}
    g.meta["notices"] = [f"{name}: no config beside it, so this is the checkpoint's structure (modules and "
                         "their tensors), not a dataflow diagram"]
    return g


# ------------------------------------------------------------------ frontends
def load_checkpoint(path: Path, **options: Any) -> Graph:
    """A checkpoint: the model drawn from the ``config.json`` beside it (and checked against the
    checkpoint), else the checkpoint's structure (``trust`` is the only option that applies)."""
    from netdraw.frontends.hf import config_beside, load_config, load_gguf

    path = Path(path)
    if config_beside(path) is not None:
        return load_config(path, **options)
    if path.suffix.lower() == ".gguf":
        g = load_gguf(path, **options)
        if g is not None:
            return g
    extra = sorted(set(options) - {"trust"})
    if extra:
        raise NetdrawError(f"{path}: option {extra[0]!r} needs a config.json beside the checkpoint (without "
                           "one netdraw draws its structure)")
    return structure_graph(read_checkpoint(path, trust=options.get("trust", False)), path.name)


register("checkpoint", match=lambda path, head: is_checkpoint(path),
         load=lambda source, **options: load_checkpoint(Path(source), **options),
         description=".safetensors, .safetensors.index.json, .gguf, .bin (checkpoints)",
         options=("kwargs", "trust", "head", "mode", "capture", "locations"))
