"""Load+render time of netdraw on real ONNX models, against the `dot` call alone on the same DOT.

    python benchmarks/bench_render.py [--repeat 5]

For each model and depth (auto, max) it prints the median over the repeats of:
  dot     -- `dot -Tsvg` on netdraw's DOT, timed as a subprocess (the layout's own cost)
  netdraw -- netdraw.load() + render to SVG with the native engine (spawns the same dot)
  overhead = netdraw / dot - 1   (target: under 20%)
  wasm/native = the wasm engine's render time over the native engine's (same DOT)
The wasm module's one-off compile time is printed separately.  Needs `dot` on PATH.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import netdraw  # noqa: E402
from netdraw.api import engine, prepare, render_bytes  # noqa: E402
from netdraw.renderers.dot import to_dot  # noqa: E402
from tests.realmodels import fetch_all  # noqa: E402

TARGET_OVERHEAD = 0.20


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if shutil.which("dot") is None:
        print("needs Graphviz's dot on PATH (apt-get install graphviz)")
        return 2
    t = time.perf_counter()
    engine.layout("digraph { a -> b }", "svg", engine="wasm")
    print(f"wasm engine one-off start-up (compile + first render): {time.perf_counter() - t:.3f} s\n")
    models = fetch_all()
    head = f"{'model':22} {'depth':>5} {'nodes':>5} {'dot s':>7} {'netdraw s':>9} {'overhead':>8} {'wasm/native':>11}"
    print(head)
    print("-" * len(head))
    missed = []
    ratios = []
    for name, path in models.items():
        for depth in ("auto", "max"):
            graph = netdraw.load(path)
            drawn = prepare(graph, depth=depth)
            source = to_dot(drawn).encode()
            t_dot = median_time(lambda: subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True,
                                                       check=True), args.repeat)
            t_nd = median_time(lambda: render_bytes(netdraw.load(path), "svg", depth=depth, engine="native"),
                               args.repeat)
            t_native = median_time(lambda: engine.layout(source.decode(), "svg", engine="native"), args.repeat)
            t_wasm = median_time(lambda: engine.layout(source.decode(), "svg", engine="wasm"), args.repeat)
            over = t_nd / t_dot - 1
            ratios.append(t_wasm / t_native)
            flag = "" if over < TARGET_OVERHEAD else "  <- over target"
            if flag:
                missed.append(f"{name} depth={depth}: +{over:.0%}")
            print(f"{name:22} {depth:>5} {len(drawn):>5} {t_dot:7.3f} {t_nd:9.3f} {over:+8.0%} "
                  f"{t_wasm / t_native:11.2f}{flag}")
    print(f"\nmedian wasm/native render ratio: {statistics.median(ratios):.2f}")
    if missed:
        print(f"target (netdraw adds < {TARGET_OVERHEAD:.0%} on top of dot) missed on {len(missed)} of "
              f"{len(ratios)} runs: " + "; ".join(missed))
    else:
        print(f"target met: netdraw adds < {TARGET_OVERHEAD:.0%} on top of dot on every run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
