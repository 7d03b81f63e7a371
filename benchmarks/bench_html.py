"""The interactive HTML view: time to write a page, its size, time to the first view in headless
Chromium, and layout time per view, beside Netron opening the same ONNX files in the same browser.

    python benchmarks/bench_html.py [--skip-netron]

Cases: BERT-base and Llama-3-70B built from their configs on the meta device (transformers, random
shapes only), a 10,000-op chain and a 10,000-op scoped graph (ONNX, written here), ResNet-18 (the
bundled ONNX).  "first view" is load -> the page's first layout drawn (the page's own clock, and the
wall time of the whole browser run beside Netron's).  Targets (issue 22): first view <= 2 s for the
10,000-node ONNX and the 70B config; views up to ~300 boxes laid out in <= 200 ms; BERT-base page
<= 2 MB beyond the runtime.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _hf(kind: str):
    import torch
    import transformers as tf

    import netdraw

    if kind == "bert-base":
        cfg, cls = tf.BertConfig(), tf.BertModel
    else:
        cfg = tf.LlamaConfig(hidden_size=8192, intermediate_size=28672, num_hidden_layers=80, num_attention_heads=64,
                             num_key_value_heads=8, vocab_size=128256)
        cls = tf.LlamaForCausalLM
    with torch.device("meta"):
        model = cls(cfg)
    ids = torch.zeros(1, 128, dtype=torch.long, device="meta")
    return netdraw.trace(model, kwargs={"input_ids": ids})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-netron", action="store_true")
    args = ap.parse_args()
    import netdraw
    from bench_big import make_graph
    from netdraw.api import html_page
    from netdraw.renderers.html import runtime_js
    from tests.htmljs import drive

    runtime = len(runtime_js().encode("utf-8"))
    print(f"runtime (viewer + Graphviz wasm, gzip+base64): {runtime / 1e6:.2f} MB")
    tmp = Path(tempfile.mkdtemp(prefix="netdraw-bench-html-"))
    onnx_files = {"resnet18.onnx": ROOT / "examples" / "resnet18.onnx"}
    for kind in ("chain", "scoped"):
        path = tmp / f"{kind}10k.onnx"
        make_graph(kind, 10_000, path)
        onnx_files[f"{kind} 10k ops"] = path
    cases = [(name, lambda p=path: netdraw.load(p)) for name, path in onnx_files.items()]
    cases += [("BERT-base (config)", lambda: _hf("bert-base")), ("Llama-3-70B (config)", lambda: _hf("llama-70b"))]
    # views of ~100-300 boxes: open the first 12 blocks of the transformers
    grow = {"BERT-base (config)": "encoder.layer.", "Llama-3-70B (config)": "model.layers."}
    print(f"{'model':<22} {'ops':>7} {'write s':>8} {'MB':>6} {'MB-rt':>6} {'first ms':>9} {'wall s':>7} "
          f"{'netron s':>9} {'ratio':>6}  views (boxes: layout ms)")
    for name, build in cases:
        graph = build()
        t = time.perf_counter()
        page = html_page(graph)
        write = time.perf_counter() - t
        size = len(page.encode("utf-8"))
        path = tmp / (name.split()[0] + ".html")
        path.write_text(page, encoding="utf-8")
        steps = [{"js": "return netdraw.stats()"}]
        if name in grow:
            steps += [{"js": f"await netdraw.expand('{grow[name]}0'); return netdraw.stats()"}]
            steps += [{"js": f"for (let i = 0; i < {k}; i++) await netdraw.expand('{grow[name]}' + i); "
                             "return netdraw.stats()"} for k in (4, 12)]
            # every module of the first k blocks open: views of 100-400 boxes
            steps += [{"js": "for (const p of netdraw.modules().filter(p => "
                             f"/^{grow[name].replace('.', '[.]')}([0-9]+)[.]/.test(p) && +p.split('.')[{grow[name].count('.')}] < {k})) "
                             "await netdraw.expand(p); return netdraw.stats()"} for k in (1, 4, 8)]
        else:
            steps += [{"js": "await netdraw.collapseAll(); return netdraw.stats()"}]
        t = time.perf_counter()
        out = drive(path, steps)
        wall = time.perf_counter() - t
        views = ", ".join(f"{s['boxes']}: {s['lastLayoutMs']:.0f}" for s in out["results"] if isinstance(s, dict)
                          and "boxes" in s)
        netron = ratio = "-"
        if not args.skip_netron and name in onnx_files:
            from tests.netronjs import open_in_netron

            t = time.perf_counter()
            shown = open_in_netron(onnx_files[name])
            took = time.perf_counter() - t
            netron = f"{took:.1f}" + ("" if shown.get("nodes") else "!")
            ratio = f"{wall / took:.2f}"
        print(f"{name:<22} {len(graph.nodes):>7,} {write:>8.2f} {size / 1e6:>6.2f} {(size - runtime) / 1e6:>6.2f} "
              f"{out['ms']:>9} {wall:>7.1f} {netron:>9} {ratio:>6}  {views}"
              + (f"  ERRORS {out['errors'][:2]}" if out["errors"] else ""))


if __name__ == "__main__":
    main()
