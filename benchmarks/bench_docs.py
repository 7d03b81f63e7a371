"""A docs folder with 10 model diagrams: first Sphinx build against rebuilds.

    python benchmarks/bench_docs.py

Builds the HTML of a temporary docs folder whose pages draw 10 models (the classic CNNs of
examples/models.py at several depths, and the bundled ONNX ResNet-18) three times, each in a
fresh process: the first build (every diagram captured and drawn), a rebuild with nothing
changed, and a rebuild with ``-E`` (every page re-read, every model captured again; the drawings
come from netdraw's cache).  Target: a rebuild at least 10x faster than the first build.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DIAGRAMS = [
    ("models.py:LeNet5", "1x1x32x32", "max"), ("models.py:AlexNet", "1x3x224x224", "auto"),
    ("models.py:vgg16", "1x3x224x224", "auto"), ("models.py:resnet18", "1x3x224x224", "auto"),
    ("models.py:resnet18", "1x3x224x224", "2"), ("models.py:resnet50", "1x3x224x224", "auto"),
    ("models.py:resnet50", "1x3x224x224", "1"), ("models.py:UNet", "1x1x128x128", "auto"),
    ("models.py:MobileNetV1", "1x3x224x224", "auto"), ("resnet18.onnx", "", "2"),
]


def build(src: Path, out: Path, *extra: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", *extra, str(src), str(out)], check=True)
    return time.perf_counter() - t


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "html"
        src.mkdir()
        shutil.copy(ROOT / "examples" / "models.py", src / "models.py")
        shutil.copy(ROOT / "examples" / "resnet18.onnx", src / "resnet18.onnx")
        (src / "conf.py").write_text('extensions = ["netdraw.sphinx"]\n')
        pages = []
        for i, (model, shape, depth) in enumerate(DIAGRAMS):
            opts = f"   :depth: {depth}\n" + (f"   :input: {shape}\n" if shape else "")
            (src / f"m{i}.rst").write_text(f"Model {i}\n=======\n\n.. netdraw:: {model}\n{opts}")
            pages.append(f"m{i}")
        (src / "index.rst").write_text("Models\n======\n\n.. toctree::\n\n" + "".join(f"   {p}\n" for p in pages))
        first = build(src, out)
        again = build(src, out)
        reread = build(src, out, "-E")
        drawn = len(list((out / ".doctrees" / "netdraw").iterdir()))
        # Sphinx's own floor: the same pages with the directive replaced by plain text
        plain = Path(tmp) / "plain"
        shutil.copytree(src, plain)
        (plain / "conf.py").write_text("extensions = []\n")
        for page in plain.glob("m*.rst"):
            page.write_text(page.read_text().replace(".. netdraw::", "Model:"))
        build(plain, Path(tmp) / "plain-html")
        floor = build(plain, Path(tmp) / "plain-html")
    print(f"{len(DIAGRAMS)} diagrams ({drawn} files): first build {first:.2f}s, rebuild {again:.2f}s "
          f"({first / again:.1f}x faster), rebuild -E {reread:.2f}s ({first / reread:.1f}x faster)")
    print(f"Sphinx's own rebuild of the same pages without netdraw: {floor:.2f}s "
          f"(netdraw adds {again - floor:+.2f}s to a rebuild)")
    ok = first / again >= 10
    print("target met: rebuild >= 10x faster" if ok else "target missed: rebuild < 10x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
