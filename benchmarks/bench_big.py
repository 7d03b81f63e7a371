"""Big ONNX graphs without a module hierarchy: bounded time and memory, a figure or a one-line refusal.

    python benchmarks/bench_big.py [--sizes 10000,50000,100000] [--kinds chain,fanin,resnet,random,scoped]

Each graph is written by this script (no download) and rendered by the CLI in a subprocess
(`netdraw render G.onnx -o G.svg`, default options), timed with its peak memory (RSS of the child).
Beside it the same run of `python -c "import onnx; onnx.load(G)"` (reading the file, the floor any
tool pays) and the ratio netdraw / read.  Targets (issue 18): every graph up to 100,000 nodes gives a
figure or a one-line refusal in <= 30 s and <= 2 GB; 10,000-node graphs in <= 10 s.

Kinds: chain (one op after another), fanin (N/2 parallel branches into a Sum), resnet (blocks of
four ops with a skip connection), random (each op reads the last value and 30% of them one of the
50 before), scoped (ops named /blkI/subJ/... ten to a module, a hundred to a block).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx
from onnx import TensorProto, helper

TIME_LIMIT = {10_000: 10.0}
DEFAULT_LIMIT = 30.0
MEMORY_LIMIT_MB = 2048


def _save(nodes: list, outs: list[str], path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    ys = [helper.make_tensor_value_info(o, TensorProto.FLOAT, [1, 8]) for o in outs]
    model = helper.make_model(helper.make_graph(nodes, path.stem, [x], ys), opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def make_graph(kind: str, n: int, path: Path) -> None:
    """Write an ONNX graph of ``kind`` with about ``n`` nodes to ``path``."""
    node = helper.make_node
    if kind == "chain":
        ops = ["Relu", "Sigmoid", "Tanh", "Abs", "Neg"]
        nodes = [node(ops[i % 5], [f"v{i}" if i else "x"], [f"v{i + 1}"], name=f"n{i}") for i in range(n)]
        _save(nodes, [f"v{n}"], path)
    elif kind == "fanin":
        w = n // 2
        nodes = [node("Relu", ["x"], [f"a{i}"], name=f"r{i}") for i in range(w)]
        nodes += [node("Tanh", [f"a{i}"], [f"b{i}"], name=f"t{i}") for i in range(w)]
        nodes.append(node("Sum", [f"b{i}" for i in range(w)], ["y"], name="sum"))
        _save(nodes, ["y"], path)
    elif kind == "resnet":
        nodes, cur, i = [], "x", 0
        while len(nodes) < n:
            nodes += [node("Relu", [cur], [f"a{i}"], name=f"r{i}"), node("Sigmoid", [f"a{i}"], [f"b{i}"], name=f"s{i}"),
                      node("Add", [f"b{i}", cur], [f"c{i}"], name=f"add{i}"),
                      node("Tanh", [f"c{i}"], [f"t{i}"], name=f"t{i}")]
            cur, i = f"t{i}", i + 1
        _save(nodes, [cur], path)
    elif kind == "random":
        rng = random.Random(0)
        nodes, vals = [], ["x"]
        for i in range(n):
            two = rng.random() < 0.3
            ins = [vals[-1]] + ([rng.choice(vals[max(0, len(vals) - 50):])] if two else [])
            nodes.append(node("Add" if two else rng.choice(["Relu", "Tanh"]), ins, [f"d{i}"], name=f"d{i}"))
            vals.append(f"d{i}")
        used = {v for nd in nodes for v in nd.input}
        _save(nodes, [v for v in vals[1:] if v not in used], path)
    elif kind == "scoped":
        nodes = [node("Relu", [f"v{i}" if i else "x"], [f"v{i + 1}"], name=f"/blk{i // 100}/sub{i // 10}/Relu{i}")
                 for i in range(n)]
        _save(nodes, [f"v{n}"], path)
    else:
        raise ValueError(f"unknown kind {kind!r}")


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """(seconds, peak MB, exit code, last stderr line) of one command, run under a fresh Python
    parent so that the peak memory (ru_maxrss of its children) is this command's alone."""
    probe = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(json.dumps([time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
             "r.returncode, (r.stderr.strip().splitlines() or [''])[-1]]))")
    res = subprocess.run([sys.executable, "-c", probe, *cmd], cwd=cwd, capture_output=True, text=True, check=True)
    secs, kb, code, err = json.loads(res.stdout)
    return secs, kb / 1024, code, err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,50000,100000")
    ap.add_argument("--kinds", default="chain,fanin,resnet,random,scoped")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = args.kinds.split(",")
    ok = True
    print(f"{'graph':<16} {'nodes':>7} {'netdraw s':>9} {'peak MB':>8} {'read s':>7} {'ratio':>6}  result")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in sizes:
            for kind in kinds:
                path = folder / f"{kind}{n}.onnx"
                make_graph(kind, n, path)
                count = len(onnx.load(str(path)).graph.node)
                read, _, _, _ = timed([sys.executable, "-c", f"import onnx; onnx.load({str(path)!r})"], folder)
                secs, peak, code, err = timed([sys.executable, "-m", "netdraw", "render", path.name, "-o",
                                               f"{path.stem}.svg"], folder)
                limit = TIME_LIMIT.get(n, DEFAULT_LIMIT)
                good = code in (0, 2) and secs <= limit and peak <= MEMORY_LIMIT_MB
                ok &= good
                result = "figure" if code == 0 else f"refused: {err}" if code == 2 else f"FAILED: {err}"
                print(f"{path.stem:<16} {count:>7,} {secs:>9.2f} {peak:>8.0f} {read:>7.2f} {secs / read:>6.1f}  "
                      f"{result}{'' if good else f'  (target: <= {limit:g} s, <= {MEMORY_LIMIT_MB} MB)'}",
                      flush=True)
    print("all within target" if ok else "SOME OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
