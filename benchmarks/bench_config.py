"""Models from their config or checkpoint alone: time and peak memory of the CLI, beside the floor.

    python benchmarks/bench_config.py

* Llama-3-70B and Llama-3.1-405B configs (written here): ``netdraw render FOLDER -o x.svg`` in a
  subprocess, timed with its peak RSS; beside it building the same model on the meta device with
  transformers alone (the floor any config-based drawing pays).
* A 140 GB checkpoint: a sparse ``model.safetensors`` whose header describes Llama-3-70B's tensors in
  bfloat16 (the data section is a hole, nothing is stored): ``netdraw inspect`` and ``netdraw render``
  of its structure, beside ``safetensors.safe_open`` listing the same tensors.
Targets (issue 23): the 405B config in < 30 s and < 2 GB; the 140 GB checkpoint in seconds and < 500 MB.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {
    "Llama-3-70B": dict(hidden_size=8192, intermediate_size=28672, num_hidden_layers=80, num_attention_heads=64,
                        num_key_value_heads=8, vocab_size=128256),
    "Llama-3.1-405B": dict(hidden_size=16384, intermediate_size=53248, num_hidden_layers=126, num_attention_heads=128,
                           num_key_value_heads=8, vocab_size=128256),
}


_WRAP = ("import resource, subprocess, sys\n"
         "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
         "sys.stderr.write(r.stderr)\n"
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
         "sys.exit(r.returncode)\n")


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process (measured by a wrapper of its own)."""
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _WRAP, *cmd], capture_output=True, text=True)
    took = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.strip()[-500:]}")
    return took, int(r.stdout.split()[-1]) / 1024


def _floor_config(folder: Path) -> tuple[float, float]:
    code = ("import torch, transformers as tf; cfg = tf.AutoConfig.from_pretrained(%r)\n"
            "with torch.device('meta'): m = tf.LlamaForCausalLM(cfg)\n") % str(folder)
    return _run([sys.executable, "-c", code])


def _sparse_checkpoint(path: Path, cfg: dict) -> int:
    """A safetensors header for a Llama config in bfloat16; the data section is a hole."""
    h, i, layers, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    kv = h // cfg["num_attention_heads"] * cfg["num_key_value_heads"]
    shapes = {"model.embed_tokens.weight": [v, h]}
    for n in range(layers):
        p = f"model.layers.{n}."
        shapes.update({p + "self_attn.q_proj.weight": [h, h], p + "self_attn.k_proj.weight": [kv, h],
                       p + "self_attn.v_proj.weight": [kv, h], p + "self_attn.o_proj.weight": [h, h],
                       p + "mlp.gate_proj.weight": [i, h], p + "mlp.up_proj.weight": [i, h],
                       p + "mlp.down_proj.weight": [h, i], p + "input_layernorm.weight": [h],
                       p + "post_attention_layernorm.weight": [h]})
    shapes.update({"model.norm.weight": [h], "lm_head.weight": [v, h]})
    header, off = {}, 0
    for name, shape in shapes.items():
        n = 2
        for d in shape:
            n *= d
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [off, off + n]}
        off += n
    raw = json.dumps(header).encode()
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        fh.truncate(8 + len(raw) + off)
    return off


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="netdraw-bench-config-"))
    print(f"{'case':<34} {'netdraw s':>10} {'MB':>7} {'floor s':>8} {'MB':>7} {'ratio':>6}")
    for name, values in CONFIGS.items():
        folder = tmp / name
        folder.mkdir()
        cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **values}
        (folder / "config.json").write_text(json.dumps(cfg))
        took, mb = _run([sys.executable, "-m", "netdraw", "render", str(folder), "-o", str(tmp / f"{name}.svg")])
        ftook, fmb = _floor_config(folder)
        print(f"{name + ' config -> svg':<34} {took:>10.1f} {mb:>7.0f} {ftook:>8.1f} {fmb:>7.0f} {took / ftook:>6.1f}")
    ckpt = tmp / "ckpt"
    ckpt.mkdir()
    size = _sparse_checkpoint(ckpt / "model.safetensors", CONFIGS["Llama-3-70B"])
    label = f"{size / 1e9:.0f} GB safetensors"
    for cmd, what in ((["inspect", str(ckpt / "model.safetensors")], "inspect"),
                      (["render", str(ckpt / "model.safetensors"), "-o", str(tmp / "s.svg")], "render (structure)")):
        took, mb = _run([sys.executable, "-m", "netdraw", *cmd])
        code = ("from safetensors import safe_open\nwith safe_open(%r, 'np') as f:\n"
                "    [f.get_slice(k).get_shape() for k in f.keys()]\n") % str(ckpt / "model.safetensors")
        ftook, fmb = _run([sys.executable, "-c", code])
        print(f"{label + ' ' + what:<34} {took:>10.1f} {mb:>7.0f} {ftook:>8.1f} {fmb:>7.0f} {took / ftook:>6.1f}")
    print(f"(disk used by the sparse checkpoint: {os.stat(ckpt / 'model.safetensors').st_blocks * 512 / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
