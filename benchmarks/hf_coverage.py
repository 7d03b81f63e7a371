"""How many transformers architectures netdraw captures: every base model in the registry,
built from a shrunk config (2 layers, small widths, random weights, nothing downloaded).

    python benchmarks/hf_coverage.py [--jobs 2] [--stride K [--offset I]] [--limit N] [--only bert,gpt2]
                                     [--render] [--compare]

Each architecture runs in its own process.  An architecture counts when its forward pass runs on
the dummy inputs; it is captured when ``netdraw.trace`` succeeds, its parameter total equals the
model's, (with --render) the default render draws at most 60 nodes (the auto depth's budget), and (with --compare) a
shape-only capture gives the same shapes and dtypes as a real run wherever the model takes the
same path (some libraries branch on ``torch.compiler.is_compiling()``, which is true while
netdraw captures shapes only).  Prints the share captured
and the failures grouped by reason.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAYERS = ("num_hidden_layers", "num_layers", "n_layer", "n_layers", "encoder_layers", "decoder_layers",
          "num_encoder_layers", "num_decoder_layers", "num_blocks")
SIZES = {"hidden_size": 64, "d_model": 64, "n_embd": 64, "embed_dim": 64, "intermediate_size": 128,
         "d_ff": 128, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128, "num_attention_heads": 4, "n_head": 4,
         "encoder_attention_heads": 4, "decoder_attention_heads": 4, "num_key_value_heads": 2, "d_kv": 16,
         "head_dim": 16, "projection_dim": 32}


def shrink(cfg, depth: int = 0) -> None:
    """Make a config small, in place, sub-configs (text_config, vision_config...) included."""
    if depth > 3:
        return
    for k in LAYERS:
        if isinstance(getattr(cfg, k, None), int) and getattr(cfg, k) > 2:
            setattr(cfg, k, 2)
    for k, v in SIZES.items():
        if isinstance(getattr(cfg, k, None), int) and getattr(cfg, k) > v:
            setattr(cfg, k, v)
    if isinstance(getattr(cfg, "depths", None), (list, tuple)):
        cfg.depths = [min(d, 1) for d in cfg.depths]
    for k in list(vars(cfg)):
        sub = getattr(cfg, k, None)
        if hasattr(sub, "to_dict") and hasattr(sub, "model_type") and sub is not cfg:
            shrink(sub, depth + 1)


def dummy_inputs(model, cfg) -> dict:
    import torch

    name = getattr(model, "main_input_name", "input_ids")
    vcfg = getattr(cfg, "vision_config", None) or cfg
    size = getattr(vcfg, "image_size", 32)
    size = size[0] if isinstance(size, (list, tuple)) else size
    size = min(int(size or 32), 224)
    ch = getattr(vcfg, "num_channels", 3)
    inputs: dict = {}
    if name == "pixel_values":
        inputs["pixel_values"] = torch.randn(1, ch, size, size)
    elif name == "input_values":
        inputs["input_values"] = torch.randn(1, 16000)
    elif name == "input_features":
        inputs["input_features"] = torch.randn(1, getattr(cfg, "num_mel_bins", 80),
                                               2 * getattr(cfg, "max_source_positions", 1500))
    else:
        inputs[name] = torch.ones(1, 16, dtype=torch.long)
    if getattr(cfg, "is_encoder_decoder", False) and "decoder_input_ids" not in inputs:
        inputs["decoder_input_ids"] = torch.ones(1, 8, dtype=torch.long)
    return inputs


def check(model_type: str, render: bool, compare: bool = False) -> dict:
    import torch
    from transformers import CONFIG_MAPPING
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES
    import transformers

    import netdraw

    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    try:
        cfg = CONFIG_MAPPING[model_type]()
        shrink(cfg)
        cls = getattr(transformers, MODEL_MAPPING_NAMES[model_type])
        model = cls(cfg).eval()
        inputs = dummy_inputs(model, cfg)
        with torch.no_grad():
            model(**inputs)
    except Exception as exc:
        return {"status": "skip", "reason": f"forward: {type(exc).__name__}"}
    import time

    started = time.perf_counter()
    try:
        g = netdraw.trace(model, (), inputs)
    except Exception as exc:
        return {"status": "fail", "reason": f"capture: {str(exc)[:100]}"}
    total = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    if g.summary()["params"] != total:
        return {"status": "fail", "reason": "parameter total differs"}
    out = {"status": "ok", "mode": g.meta["source"]["mode"], "nodes": len(g)}
    if compare and out["mode"] != "real":
        # the shape-only capture must give the graph a real run gives (op for op, every shape)
        try:
            real = netdraw.trace(model, (), inputs, mode="real")
        except Exception as exc:
            return {"status": "fail", "reason": f"real capture: {str(exc)[:100]}"}

        def ops(graph):
            return [(n.op_type, n.scope) for n in graph.nodes]

        def shapes(graph):  # value names may differ: ops a run drops (pruned) still took theirs
            return [[(v.shape, v.dtype) for v in n.outputs] for n in graph.nodes]

        if ops(real) != ops(g):
            # the library took another path when tracing (torch.compiler.is_compiling() is true
            # during a shape-only capture): not comparable op for op
            out["compare"] = "other path"
        elif shapes(real) != shapes(g):
            return {"status": "fail", "reason": "shape-only capture: shapes or dtypes differ from a real run's"}
        else:
            out["compare"] = "same"
    if render:
        from netdraw.passes.collapse import DEFAULT_MAX_NODES
        from netdraw.api import render_bytes

        try:
            svg = render_bytes(g, "svg")  # the default render, end to end: capture + passes + layout
        except Exception as exc:
            return {"status": "fail", "reason": f"render: {str(exc)[:100]}"}
        out["seconds"] = round(time.perf_counter() - started, 2)
        import re

        # the figure's op and module boxes (not inputs, outputs or stubs)
        shown = len(re.findall(rb'class="node">\s*<title>n:', svg))
        out["shown"] = shown
        if shown > DEFAULT_MAX_NODES:
            out["status"], out["reason"] = "fail", f"default render over {DEFAULT_MAX_NODES} nodes"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--only")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--render", action="store_true")
    ap.add_argument("--compare", action="store_true",
                    help="also capture for real: a shape-only graph that differs from it counts as a failure")
    ap.add_argument("--jobs", type=int, default=2, help="architectures checked at once")
    ap.add_argument("--stride", type=int, default=1, help="check every K-th architecture (a sample)")
    ap.add_argument("--offset", type=int, default=0, help="with --stride: start at the I-th (--stride 2 --offset 1 "
                    "is the half --stride 2 leaves out)")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(check(a.worker, a.render, a.compare)))
        return 0
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES

    types = sorted(MODEL_MAPPING_NAMES)
    if a.only:
        types = [t for t in types if t in a.only.split(",")]
    types = types[a.offset:: a.stride]
    if a.limit:
        types = types[: a.limit]

    def one(t: str) -> dict:
        cmd = [sys.executable, __file__, "--worker", t] + (["--render"] if a.render else []) + \
            (["--compare"] if a.compare else [])
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
            lines = p.stdout.strip().splitlines()
            return json.loads(lines[-1]) if p.returncode == 0 and lines else {
                "status": "skip", "reason": f"crashed: {(p.stderr.strip().splitlines() or ['?'])[-1][:80]}"}
        except subprocess.TimeoutExpired:
            return {"status": "skip", "reason": "timeout"}

    from concurrent.futures import ThreadPoolExecutor

    results = {}
    with ThreadPoolExecutor(a.jobs) as pool:
        for t, r in zip(types, pool.map(one, types)):
            results[t] = r
            print(f"{t:32} {r['status']:5} {r.get('mode', '')} {r.get('compare', '')} {r.get('reason', '')}"
                  + (f" {r['shown']} nodes {r['seconds']} s" if "seconds" in r else ""), flush=True)
    ran = [t for t, r in results.items() if r["status"] != "skip"]
    ok = [t for t in ran if results[t]["status"] == "ok"]
    print(f"\n{len(types)} architectures, {len(ran)} whose forward pass ran, netdraw captured {len(ok)} "
          f"({100 * len(ok) / max(1, len(ran)):.1f}%)")
    print("modes:", dict(collections.Counter(results[t].get("mode") for t in ok)))
    if a.compare:
        print("shape-only vs real:", dict(collections.Counter(results[t].get("compare", "real only") for t in ok)))
    fails = collections.Counter(results[t]["reason"] for t in ran if results[t]["status"] != "ok")
    for reason, n in fails.most_common():
        print(f"  {n:3}  {reason}")
    if a.render:
        timed = sorted(r["seconds"] for r in results.values() if "seconds" in r)
        shown = sorted(r["shown"] for r in results.values() if "shown" in r)
        if timed:
            p95 = lambda xs: xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]  # noqa: E731
            print(f"rendered {len(timed)}: end-to-end time max {timed[-1]:.1f} s, p95 {p95(timed):.1f} s, "
                  f"median {timed[len(timed) // 2]:.1f} s; drawn nodes max {shown[-1]}, p95 {p95(shown)}")
    skips = collections.Counter(r["reason"].split(":")[0] for r in results.values() if r["status"] == "skip")
    print("not counted (forward did not run):", dict(skips))
    return 0


if __name__ == "__main__":
    sys.exit(main())
