"""A docs folder with 10 model diagrams: first Sphinx build against rebuilds.

    python benchmarks/bench_docs.py

Builds the HTML of two temporary docs folders whose pages draw 10 models each (one: the classic
CNNs of examples/models.py at several depths and the bundled ONNX ResNet-18; the other, a model
zoo: CNNs, BERT-base, GPT-2 and ViT-Base built from their configs, the ONNX file) three times,
each in a fresh process: the first build (every diagram captured and drawn), a rebuild with nothing
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

CNNS = [
    ("models.py:LeNet5", "1x1x28x28", "max"), ("models.py:AlexNet", "1x3x224x224", "auto"),
    ("models.py:vgg16", "1x3x224x224", "auto"), ("models.py:resnet18", "1x3x224x224", "auto"),
    ("models.py:resnet18", "1x3x224x224", "2"), ("models.py:resnet50", "1x3x224x224", "auto"),
    ("models.py:resnet50", "1x3x224x224", "1"), ("models.py:UNet", "1x1x128x128", "auto"),
    ("models.py:MobileNetV1", "1x3x224x224", "auto"), ("resnet18.onnx", "", "2"),
]
#: a model zoo's docs: CNNs, transformers built from configs (docs/gallery_models.py), an ONNX file
ZOO = CNNS[1:4] + CNNS[5:6] + CNNS[7:10] + [
    ("gallery_models.py:bert_base", "", "auto"), ("gallery_models.py:gpt2", "", "1"),
    ("gallery_models.py:vit_base", "", "auto"),
]
KWARGS = {"gallery_models.py:bert_base": "input_ids=1x128:int64 attention_mask=1x128:int64",
          "gallery_models.py:gpt2": "input_ids=1x128:int64", "gallery_models.py:vit_base": "pixel_values=1x3x224x224"}


def build(src: Path, out: Path, *extra: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", *extra, str(src), str(out)], check=True)
    return time.perf_counter() - t


def main() -> int:
    ok = True
    for name, diagrams in (("CNNs", CNNS), ("model zoo", ZOO)):
        ok &= run(name, diagrams)
    return 0


def run(title: str, diagrams: list[tuple[str, str, str]]) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "html"
        src.mkdir()
        shutil.copy(ROOT / "examples" / "models.py", src / "models.py")
        shutil.copy(ROOT / "examples" / "resnet18.onnx", src / "resnet18.onnx")
        shutil.copy(ROOT / "docs" / "gallery_models.py", src / "gallery_models.py")
        (src / "conf.py").write_text('extensions = ["netdraw.sphinx"]\n')
        pages = []
        for i, (model, shape, depth) in enumerate(diagrams):
            opts = f"   :depth: {depth}\n" + (f"   :input: {shape}\n" if shape else "")
            if model in KWARGS:
                opts += f"   :kwarg: {KWARGS[model]}\n"
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
    print(f"{title}: {len(diagrams)} diagrams ({drawn} files): first build {first:.2f}s, rebuild {again:.2f}s "
          f"({first / again:.1f}x faster), rebuild -E {reread:.2f}s ({first / reread:.1f}x faster)")
    print(f"  Sphinx's own rebuild of the same pages without netdraw: {floor:.2f}s "
          f"(netdraw adds {again - floor:+.2f}s to a rebuild)")
    ok = first / again >= 10
    print("  target met: rebuild >= 10x faster" if ok else "  target missed: rebuild < 10x faster")
    return ok


if __name__ == "__main__":
    sys.exit(main())
