"""Hugging Face models from their config alone: ``config.json``, a model folder, or a checkpoint
with a config beside it.

The model is built with ``transformers`` from the config on the meta device (no weights, no
memory) and captured shape-only.  The class is the config's ``architectures[0]`` when transformers
has it, else the base model; ``head`` picks a task head instead (``causal-lm``, ``seq-cls``...).
Example inputs follow the model's main input and its config: ``input_ids`` of
:data:`SEQUENCE_LENGTH` tokens, ``pixel_values`` at the config's ``image_size``, ``input_features``
for speech, ``input_values`` for raw audio, and ``decoder_input_ids`` for encoder-decoders; each
can be replaced with ``kwargs`` (``--kwarg input_ids=1x512:int64``).

Nothing is downloaded: the config is read from the file by its config class (never through the
Hub), ``HF_HUB_OFFLINE`` is set while transformers runs, and a config that needs custom code
(``auto_map``) is refused unless ``trust``.  Beside a checkpoint (``*.safetensors``, a sharded
index, ``pytorch_model.bin``, ``.gguf``), its tensor names and shapes are checked against the
model's: missing, unexpected and mismatched tensors are listed (``Graph.meta["notices"]``) and the
ops that own them marked (``Node.attrs["checkpoint"]``).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

from netdraw.errors import NetdrawError, check_choice, first_line
from netdraw.frontends import register
from netdraw.frontends.checkpoint import Tensors, is_checkpoint, read_checkpoint
from netdraw.ir import Graph
from netdraw.options import HEADS

__all__ = ["load_config", "load_gguf", "config_beside", "is_config", "AUTO_CLASSES", "SEQUENCE_LENGTH", "build_model",
           "example_inputs"]

#: config keys that count repeated layers, and how many a config may ask for: building a model of
#: 200,000 layers on the meta device alone takes minutes (the largest real configs have ~130)
LAYER_KEYS = ("num_hidden_layers", "num_layers", "n_layer", "n_layers", "encoder_layers", "decoder_layers",
              "num_encoder_layers", "num_decoder_layers", "num_blocks")
MAX_LAYERS = 1024

#: tokens in the example ``input_ids`` (and 8 in ``decoder_input_ids``)
SEQUENCE_LENGTH = 128
#: ``head`` (one of :data:`netdraw.options.HEADS`) -> the transformers Auto class that adds it
AUTO_CLASSES = {
    "base": "AutoModel",
    "causal-lm": "AutoModelForCausalLM",
    "masked-lm": "AutoModelForMaskedLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
    "seq-cls": "AutoModelForSequenceClassification",
    "token-cls": "AutoModelForTokenClassification",
    "qa": "AutoModelForQuestionAnswering",
    "image-cls": "AutoModelForImageClassification",
    "speech-seq2seq": "AutoModelForSpeechSeq2Seq",
}

_CHECKPOINT_NAMES = ("model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json",
                     "pytorch_model.bin")


def is_config(path: Path) -> bool:
    """A model folder (holding ``config.json``) or a ``config.json``-like file."""
    if path.is_dir():
        return (path / "config.json").is_file()
    if path.suffix.lower() != ".json" or path.name.endswith(".index.json"):
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"model_type"' in head or b'"architectures"' in head


def config_beside(path: Path) -> Path | None:
    """The ``config.json`` beside a checkpoint file (None when there is none)."""
    cfg = Path(path).parent / "config.json"
    return cfg if cfg.is_file() else None


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    old = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise NetdrawError("drawing a model from its config needs transformers (pip install transformers)") from None
    return transformers


def read_config(path: Path, *, trust: bool = False) -> Any:
    """The transformers config of a ``config.json`` (never fetched)."""
    tf = _transformers()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NetdrawError(f"{path}: not a readable JSON config ({first_line(exc)})") from None
    if not isinstance(data, dict):
        raise NetdrawError(f"{path}: a model config is a JSON object")
    mtype = data.get("model_type")
    if "auto_map" in data:
        if not trust:
            raise NetdrawError(f"{path}: this config needs the model's own code (auto_map: trust_remote_code), "
                               "which runs as Python: pass --trust if you trust where it came from")
        with _offline():
            try:
                return tf.AutoConfig.from_pretrained(str(path.parent), trust_remote_code=True, local_files_only=True)
            except Exception as exc:
                raise NetdrawError(f"{path}: loading its custom config failed ({first_line(exc)})") from None
    if not isinstance(mtype, str):
        raise NetdrawError(f"{path}: no model_type in the config")
    from transformers import CONFIG_MAPPING

    if mtype not in CONFIG_MAPPING:
        raise NetdrawError(f"{path}: unknown model_type {mtype!r} (transformers {tf.__version__} does not know "
                           "it; a newer transformers may)")
    _check_size(path, data)
    try:
        with _offline():
            return CONFIG_MAPPING[mtype].from_dict(data)
    except Exception as exc:
        raise NetdrawError(f"{path}: invalid {mtype} config ({first_line(exc)})") from None


def _check_size(path: Path, data: dict[str, Any], depth: int = 0) -> None:
    """Refuse, in one line, a config asking for more layers than :data:`MAX_LAYERS` (sub-configs too)."""
    for key, value in data.items():
        if key in LAYER_KEYS and isinstance(value, int) and not isinstance(value, bool) and value > MAX_LAYERS:
            raise NetdrawError(f"{path}: {key}={value:,} is more than {MAX_LAYERS:,} layers; not a model netdraw "
                               "can build (the largest real configs have about 130)")
        if isinstance(value, dict) and depth < 4:
            _check_size(path, value, depth + 1)


def build_model(cfg: Any, *, head: str | None = None, trust: bool = False) -> Any:
    """The model of a config on the meta device (no weights)."""
    import torch

    tf = _transformers()
    arch = (getattr(cfg, "architectures", None) or [None])[0]
    if head is not None:
        check_choice("head", head, HEADS)
        cls = getattr(tf, AUTO_CLASSES[head])
    elif arch and hasattr(tf, arch):
        cls = getattr(tf, arch)
    else:
        cls = tf.AutoModel
    with _offline(), torch.device("meta"):
        try:
            if cls.__name__.startswith("Auto"):
                return cls.from_config(cfg, trust_remote_code=trust)
            return cls(cfg)
        except Exception as exc:
            raise NetdrawError(f"building {getattr(cls, '__name__', cls)} from the config failed "
                               f"({first_line(exc, kind=True)})") from None


def _sub(cfg: Any, key: str) -> Any:
    for c in (cfg, getattr(cfg, "vision_config", None), getattr(cfg, "encoder", None),
              getattr(cfg, "audio_config", None)):
        if c is not None and getattr(c, key, None) is not None:
            return getattr(c, key)
    return None


def _sequence_length(cfg: Any) -> int:
    """:data:`SEQUENCE_LENGTH`, or fewer when the model has fewer positions (CLIP's text: 77)."""
    limits = []
    for c in (cfg, getattr(cfg, "text_config", None)):
        for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
            v = getattr(c, key, None) if c is not None else None
            if isinstance(v, int) and v > 0:
                limits.append(v)
    return min([SEQUENCE_LENGTH, *limits])


def example_inputs(model: Any, cfg: Any) -> dict[str, Any]:
    """Keyword inputs for a shape-only capture, from the model's main input and its config."""
    import inspect

    import torch

    from netdraw.capture import InputSpec

    params = set(inspect.signature(model.forward).parameters)
    main = getattr(model, "main_input_name", "input_ids")
    out: dict[str, Any] = {}

    def ids(n: int) -> InputSpec:
        return InputSpec((1, n), torch.long)

    if main == "input_ids" or "input_ids" in params and main not in params:
        out["input_ids"] = ids(_sequence_length(cfg))
    if main == "pixel_values" or ("pixel_values" in params and getattr(cfg, "vision_config", None) is not None):
        size = _sub(cfg, "image_size") or 224
        size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
        chans = _sub(cfg, "num_channels") or 3
        out["pixel_values"] = InputSpec((1, chans, *size[:2]))
    if main == "input_features":
        mels = _sub(cfg, "num_mel_bins") or _sub(cfg, "feature_size") or 80
        frames = 2 * (_sub(cfg, "max_source_positions") or 1500)
        out["input_features"] = InputSpec((1, mels, frames))
    if main == "input_values":
        out["input_values"] = InputSpec((1, 16000))
    if getattr(cfg, "is_encoder_decoder", False) and "decoder_input_ids" in params:
        out["decoder_input_ids"] = ids(8)
    if not out and main in params:
        raise NetdrawError(f"no example input for {type(model).__name__}'s {main!r}; give it with --kwarg "
                           f"{main}=SHAPE[:dtype]")
    return out


def load_config(path: Path, *, kwargs: dict[str, Any] | None = None, trust: bool = False, head: str | None = None,
                mode: str = "meta", capture: str = "eager", locations: bool = False) -> Graph:
    """Draw the model of a config file, a model folder, or a checkpoint with a config beside it."""
    from netdraw.frontends.pytorch import trace
    from netdraw.frontends.pytorch_source import parse_input

    path = Path(path)
    checkpoint: Path | None = None
    if path.is_dir():
        cfg_path = path / "config.json"
        checkpoint = next((path / n for n in _CHECKPOINT_NAMES if (path / n).is_file()), None)
        if checkpoint is None:
            checkpoint = next(iter(sorted(path.glob("*.safetensors"))), None) or \
                next(iter(sorted(path.glob("*.gguf"))), None)
    elif is_checkpoint(path):
        cfg_path, checkpoint = path.parent / "config.json", path
    else:
        cfg_path = path
    cfg = read_config(cfg_path, trust=trust)
    model = build_model(cfg, head=head, trust=trust)
    kw: dict[str, Any] = example_inputs(model, cfg)
    for name, spec in (kwargs or {}).items():
        kw[name] = parse_input(spec) if isinstance(spec, str) else spec
    with _offline():
        g = trace(model, (), kw, capture=capture, mode=mode, locations=locations)
    g.meta["source"]["path"] = path.name if not path.is_dir() else path.name + "/"
    g.meta["source"]["config"] = cfg_path.name
    if checkpoint is not None and checkpoint.resolve() != cfg_path.resolve():
        _check(g, model, read_checkpoint(checkpoint, trust=trust), checkpoint)
    return g


#: GGUF tensor names (llama.cpp's) -> the module names transformers gives the same weights
_GGUF_NAMES = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
               "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
               "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
_GGUF_TOP = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def load_gguf(path: Path, *, kwargs: dict[str, Any] | None = None, trust: bool = False, head: str | None = None,
              mode: str = "meta", capture: str = "eager", locations: bool = False) -> Graph | None:
    """The model of a GGUF file whose architecture transformers maps to a config (None when it
    cannot), captured as :func:`load_config` does; each op's weights get their GGUF storage type."""
    from netdraw.frontends.pytorch import trace
    from netdraw.frontends.pytorch_source import parse_input

    tf = _transformers()
    t = read_checkpoint(path)
    try:
        from transformers import CONFIG_MAPPING
        from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

        with _offline():
            conf = load_gguf_checkpoint(str(path), return_tensors=False)["config"]
        mtype = conf.pop("model_type")
        cfg = CONFIG_MAPPING[mtype](**conf)
    except Exception:
        return None
    model = build_model(cfg, head=head or "causal-lm", trust=trust)
    kw: dict[str, Any] = example_inputs(model, cfg)
    for name, spec in (kwargs or {}).items():
        kw[name] = parse_input(spec) if isinstance(spec, str) else spec
    with _offline():
        g = trace(model, (), kw, capture=capture, mode=mode, locations=locations)
    g.meta["source"].update(path=path.name, config=f"{path.name} metadata ({mtype}, transformers {tf.__version__})")
    g.meta["checkpoint"] = t.summary()
    types: dict[str, str] = {}
    for name, (_, dtype) in t.tensors.items():
        parts = name.split(".")
        if parts[0] == "blk" and len(parts) >= 4 and parts[2] in _GGUF_NAMES:
            types[f"model.layers.{parts[1]}.{_GGUF_NAMES[parts[2]]}"] = dtype
        elif parts[0] in _GGUF_TOP:
            types[_GGUF_TOP[parts[0]]] = dtype
    for n in g.nodes:
        key = ".".join(n.scope)
        if n.params and key in types:
            n.meta["dtypes"] = [types[key]]
    counts: dict[str, int] = {}
    for _, dtype in t.tensors.values():
        counts[dtype] = counts.get(dtype, 0) + 1
    g.meta.setdefault("notices", []).append(
        f"{path.name}: {mtype} from the file's metadata; storage types " +
        ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    return g


def _check(g: Graph, model: Any, t: Tensors, path: Path) -> None:
    """List the checkpoint's tensors the model lacks, those it has not, and those of another shape;
    mark the ops that own them."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: shape for k, (shape, _) in t.tensors.items()}
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    mismatched = [k for k in expected if k in got and got[k] != expected[k]]
    g.meta["checkpoint"] = {**t.summary(), "missing": missing, "unexpected": unexpected, "mismatched": mismatched}
    notes = g.meta.setdefault("notices", [])
    if not (missing or unexpected or mismatched):
        notes.append(f"{path.name}: all {len(got):,} tensors match the model's names and shapes")
        return
    for label, names in (("missing from", missing), ("not in the model but in", unexpected),
                         ("of another shape in", mismatched)):
        if names:
            shown = ", ".join(names[:3]) + (f", … {len(names) - 3} more" if len(names) > 3 else "")
            notes.append(f"{len(names):,} tensors {label} {path.name}: {shown}")
    marks: dict[tuple[str, ...], list[str]] = {}
    for label, names in (("missing", missing), ("shape", mismatched)):
        for name in names:
            *mod, leaf = name.split(".")
            marks.setdefault(tuple(mod), []).append(f"{label} {leaf}")
    for n in g.nodes:
        path_ = tuple(".".join(n.scope).split(".")) if n.scope else ()
        mark = marks.get(path_)
        if mark and n.params:
            n.attrs["checkpoint"] = ", ".join(mark)


register("hf-config", match=lambda path, head: is_config(path),
         load=lambda source, **options: load_config(Path(source), **options),
         description="config.json or a model folder (Hugging Face, built with transformers)",
         options=("kwargs", "trust", "head", "mode", "capture", "locations"))
