"""Time to write a TikZ figure against the time pdflatex takes to compile it.

    python benchmarks/bench_tikz.py

For LeNet, AlexNet, VGG-16, ResNet-18 and a U-Net (boxes) and a BERT encoder (graph; needs
transformers): median of 3 runs of ``render_bytes(graph, "tex")`` (from the captured graph: the
passes and, for the graph style, the Graphviz layout included) and of pdflatex on the result.
Target: writing the .tex takes under 10% of the pdflatex run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

import netdraw  # noqa: E402
from netdraw.api import render_bytes  # noqa: E402
from netdraw.renderers.latex import compile_pdf  # noqa: E402


def graphs():
    import models as cnn

    for name in ("lenet5", "alexnet", "vgg16", "resnet18", "unet"):
        f, shape = cnn.MODELS[name]
        yield name, netdraw.trace(f(), (netdraw.InputSpec(shape),))
    try:
        from tests.frontends.hf_suite import build
    except ImportError:
        return
    model, args, kwargs = build("BertModel")
    yield "bert (graph)", netdraw.trace(model, args, kwargs)


def median_time(fn, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> int:
    missed = []
    print(f"{'model':14} {'write .tex':>11} {'pdflatex':>10} {'share':>7}")
    for name, g in graphs():
        t_tex, source = median_time(lambda: render_bytes(g, "tex"))
        t_pdf, _ = median_time(lambda: compile_pdf(source.decode()))
        share = t_tex / t_pdf
        print(f"{name:14} {t_tex * 1000:9.1f}ms {t_pdf * 1000:8.0f}ms {share:7.1%}")
        if share >= 0.10:
            missed.append(name)
    print("target met: every .tex under 10% of pdflatex" if not missed else f"target missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
