"""Occlusion: netdraw against captum's Occlusion, same model, input, window, stride and batch size.

    python benchmarks/bench_occlusion.py                  # ResNet-18, 224x224, w=16, s=8: 729 positions
    python benchmarks/bench_occlusion.py --model lenet5 --repeat 5

Both run in one process, alternating, --repeat times after a warm-up; medians are compared.
captum runs ``Occlusion(lambda z: softmax(model(z), 1)).attribute(..., perturbations_per_eval=B)``,
netdraw ``netdraw.analysis.occlusion.occlusion(model, x, batch_size=B)``, which also returns the
probability and label maps.  Target (issue 8): netdraw's time <= captum's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))


def main() -> None:
    import torch

    import models as cnn
    from netdraw.frontends.images import ImagePrep, load_image
    from netdraw.analysis.occlusion import occlusion

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--stride", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from captum.attr import Occlusion

    torch.manual_seed(0)
    f, shape = cnn.MODELS[args.model]
    model = f().eval()
    x = torch.from_numpy(load_image(ROOT / "examples" / "images" / "chelsea.jpg",
                                    ImagePrep(size=shape[2:], grayscale=shape[1] == 1)))
    with torch.no_grad():
        target = int(model(x).argmax())

    def ours():
        return occlusion(model, x, target=target, window=args.window, stride=args.stride,
                         batch_size=args.batch_size, progress=False)

    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Occlusion(lambda z: torch.softmax(model(z), 1)).attribute(
                x, sliding_window_shapes=(x.shape[1], args.window, args.window),
                strides=(x.shape[1], args.stride, args.stride), baselines=0.0, target=target,
                perturbations_per_eval=args.batch_size)

    res, ref = ours(), theirs()  # warm-up, and the check that both computed the same thing
    diff = float((torch.from_numpy(res.attribution) - ref[0, 0]).abs().max())
    times = {"netdraw": [], "captum": []}
    for _ in range(args.repeat):
        for name, fn in (("netdraw", ours), ("captum", theirs)):
            t = time.perf_counter()
            with torch.no_grad():
                fn()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    n = len(res.rows) * len(res.cols)
    print(f"{args.model} {tuple(x.shape)}, window {args.window}, stride {args.stride}: {n} positions, "
          f"batch {args.batch_size}, {args.repeat} runs each (median)")
    for k, v in med.items():
        print(f"  {k:8s} {v:7.2f} s  ({1000 * v / n:.1f} ms per position)")
    print(f"  netdraw / captum: {med['netdraw'] / med['captum']:.2f}  "
          f"(target <= 1: {'met' if med['netdraw'] <= med['captum'] else 'MISSED'}); "
          f"attributions agree to {diff:.1e}")


if __name__ == "__main__":
    main()
