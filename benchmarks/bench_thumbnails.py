"""Activation thumbnails: time and peak memory against a plain forward pass and torchlens.

    python benchmarks/bench_thumbnails.py                 # ResNet-50 at 224x224, the sample image
    python benchmarks/bench_thumbnails.py --model resnet18 --repeat 5

Memory: every tool runs in its own fresh process; the peak RSS its first run adds above the RSS once
the model is built and the input loaded (what the activations cost), and the whole process's peak.
Times: one process runs the tools in turn, --repeat rounds after a warm-up (each run after a
gc.collect(), so no run pays for the garbage of another), and takes each tool's median.  The
ratio to the forward pass is the median of the rounds' own ratios: the tools of one round run
back to back, so a slow spell of a shared machine slows both sides of a ratio alike.  Tools:

  forward      the model itself, eval() and no_grad (the floor)
  netdraw      netdraw.trace(model, x, thumbnails=True): the eager capture with every activation
               reduced to a thumbnail record inside the hook (top-4 maps, <= 32 px)
  torchlens    torchlens.trace(model, x) (2.x; log_forward_pass(layers_to_save="all") before): keeps
               every activation

Targets (issue 7): netdraw <= 1.5x the forward pass's time and <= 1.3x its peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

TOOLS = ("forward", "netdraw", "torchlens")
IMAGE = ROOT / "examples" / "images" / "chelsea.jpg"


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def setup(model_name: str):
    import torch

    import models as cnn
    from netdraw.frontends.images import ImagePrep, load_image

    torch.manual_seed(0)
    f, shape = cnn.MODELS[model_name]
    model = f().eval()
    x = torch.from_numpy(load_image(IMAGE, ImagePrep(size=shape[2:], grayscale=shape[1] == 1)))
    return model, x


def runner(tool: str, model, x):
    import torch

    if tool == "forward":
        def run():
            with torch.no_grad():
                return model(x)
    elif tool == "netdraw":
        import netdraw

        def run():
            return netdraw.trace(model, (x,), thumbnails=True)
    else:
        import torchlens

        def run():  # torchlens 2.x: trace() keeps every activation by default
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if hasattr(torchlens, "trace"):
                    return torchlens.trace(model, x)
                return torchlens.log_forward_pass(model, x, layers_to_save="all", vis_opt="none")
    return run


def memory(tool: str, model_name: str) -> dict:
    model, x = setup(model_name)
    run = runner(tool, model, x)
    base = _rss_kib()
    peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    out = run()
    first = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del out
    return {"tool": tool, "first": first, "added_mib": max(0, peak - max(base, peak0)) / 1024,
            "peak_mib": peak / 1024}


def times(tools: list[str], model_name: str, repeat: int) -> dict[str, list[float]]:
    """Each tool's run times, one per round."""
    import gc

    model, x = setup(model_name)
    runs = {t: runner(t, model, x) for t in tools}
    for run in runs.values():
        run()
    got: dict[str, list[float]] = {t: [] for t in tools}
    for _ in range(repeat):
        for t, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            out = run()
            got[t].append(time.perf_counter() - start)
            del out
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "times":
        print(json.dumps(times(args.tools.split(","), args.model, args.repeat)))
        return
    if args.child:
        print(json.dumps(memory(args.child, args.model)))
        return
    rows = {}
    for tool in args.tools.split(","):
        r = subprocess.run([sys.executable, __file__, "--child", tool, "--model", args.model],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{tool:10s} failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
            continue
        rows[tool] = json.loads(r.stdout.strip().splitlines()[-1])
    r = subprocess.run([sys.executable, __file__, "--child", "times", "--model", args.model, "--repeat",
                        str(args.repeat), "--tools", ",".join(rows)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"timing failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    rounds = json.loads(r.stdout.strip().splitlines()[-1])
    for tool, ts in rounds.items():
        rows[tool]["time"] = statistics.median(ts)
        if "forward" in rounds:
            rows[tool]["ratio"] = statistics.median(a / b for a, b in zip(ts, rounds["forward"]))
    fwd = rows.get("forward")
    import os

    print(f"{args.model} at its input size on {IMAGE.name}: medians of {args.repeat} interleaved runs, "
          f"{os.cpu_count()} CPUs")
    print(f"{'tool':10s} {'time ms':>9s} {'x fwd':>6s} {'added MiB':>10s} {'x fwd':>6s} {'peak MiB':>9s} {'x fwd':>6s}")
    for tool, r in rows.items():
        tr = r["ratio"] if fwd else float("nan")
        ar = r["added_mib"] / fwd["added_mib"] if fwd and fwd["added_mib"] else float("nan")
        pr = r["peak_mib"] / fwd["peak_mib"] if fwd else float("nan")
        print(f"{tool:10s} {r['time'] * 1000:9.1f} {tr:6.2f} {r['added_mib']:10.1f} {ar:6.2f} "
              f"{r['peak_mib']:9.1f} {pr:6.2f}")
    if fwd and "netdraw" in rows:
        nd = rows["netdraw"]
        t_ok = nd["ratio"] <= 1.5
        m_ok = nd["peak_mib"] <= 1.3 * fwd["peak_mib"]
        print(f"target time <= 1.5x forward: {'met' if t_ok else 'MISSED'} ({nd['ratio']:.2f}x; ratio of the "
              f"medians {nd['time'] / fwd['time']:.2f}x); "
              f"peak memory <= 1.3x: {'met' if m_ok else 'MISSED'} ({nd['peak_mib'] / fwd['peak_mib']:.2f}x, "
              f"activations {nd['added_mib']:.0f} vs {fwd['added_mib']:.0f} MiB)")
        if "torchlens" in rows:
            tl = rows["torchlens"]
            print(f"torchlens / netdraw: time {tl['time'] / nd['time']:.1f}x, added memory "
                  f"{tl['added_mib'] / max(nd['added_mib'], 1e-9):.1f}x")


if __name__ == "__main__":
    main()
