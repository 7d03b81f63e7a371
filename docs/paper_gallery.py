"""The paper-figure gallery: six networks as netdraw draws them at a two-column width, beside
torchview's drawing of the same module, with the smallest text of each measured from its PDF.

    python docs/paper_gallery.py          # writes docs/paper-gallery.md and docs/images/paper/

Needs Graphviz's ``dot``, pdflatex, poppler's ``pdftoppm``, and the packages ``torchview`` and
``pdfplumber`` (``pip install torchview pdfplumber``).  Every figure is printed at 6.9 in (a
two-column width) and no taller than 9 in: the smallest text is each PDF's smallest character
size times the scale that fits it there.  PlotNeuralNet's own examples are described in words,
not copied (its figures are hand-placed LaTeX, not generated from a model).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 6.9 * 72, 9 * 72  # points

#: how PlotNeuralNet's repository shows each network (read from its examples; nothing copied)
PLOTNEURALNET = {
    "LeNet-5": "examples/LeNet: hand-placed 3D boxes for the conv and pooling stages, sizes written "
               "by hand on the edges of each box, the input digit image on the first box.",
    "AlexNet": "examples/AlexNet: banded boxes per stage, the input photo on the first face, channel "
               "counts and sizes typed into each block's options by the author.",
    "VGG-16": "examples/VGG16: five stages as banded boxes (one band per conv, channel counts under "
              "each), translucent pooling boxes, fc6-fc8 as thin bars, a softmax box; arrows from "
              "each block's east anchor to the next block's west anchor with a mid-line arrowhead.",
    "ResNet-18": "no ResNet example in the repository: residual connections would be drawn by hand "
                 "with extra \\draw commands.",
    "U-Net": "examples/Unet and Unet_Ushape: encoder and decoder boxes placed by hand, in a line or "
             "as a U, the skip connections drawn as hand-routed paths.",
    "Transformer encoder": "no example: the 3D-box style has no notion of attention or of a "
                           "residual stream.",
}


def models():
    import torch
    import models as cnn

    enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True), 6,
                                      enable_nested_tensor=False)
    return [("LeNet-5", cnn.LeNet5(), (1, 1, 28, 28), True),
            ("AlexNet", cnn.AlexNet(), (1, 3, 224, 224), True),
            ("VGG-16", cnn.vgg16(), (1, 3, 224, 224), True),
            ("ResNet-18", cnn.resnet18(), (1, 3, 224, 224), True),
            ("U-Net", cnn.UNet(), (1, 1, 256, 256), True),
            ("Transformer encoder", enc, (1, 16, 512), False)]


def smallest_text(pdf: Path) -> tuple[float, float, float, float]:
    """(page width, page height in points, smallest character size in the PDF, scale to fit 6.9 × 9 in)."""
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        page = doc.pages[0]
        # pdfminer gives a turned character's advance as its size: its extent across the line is the size
        sizes = [c["size"] if c["upright"] else c["x1"] - c["x0"] for c in page.chars if c["text"].strip()]
        w, h = float(page.width), float(page.height)
    return w, h, min(sizes) if sizes else 0.0, min(WIDTH / w, HEIGHT / h)


def preview(pdf: Path, png: Path, scale: float) -> None:
    """A PNG of the figure as printed (150 dpi at its fitted size)."""
    dpi = max(10, round(150 * scale))
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(pdf), str(png.with_suffix(""))],
                   check=True)


def main() -> None:
    from torchview import draw_graph

    import netdraw

    out = HERE / "images" / "paper"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for title, model, shape, cnn in models():
            slug = title.lower().replace(" ", "-").replace("-5", "5")
            model.eval()
            g = netdraw.trace(model, (netdraw.InputSpec(shape),))
            figures = []
            if cnn:
                pdf = t / f"{slug}-boxes.pdf"
                netdraw.render(g, pdf, renderer="tikz", style="boxes", fit="6.9in")
                figures.append(("netdraw boxes (`--style boxes --fit 6.9in`)", pdf))
            pdf = t / f"{slug}-graph.pdf"
            netdraw.render(g, pdf, fit="6.9in", engine="native")
            figures.append(("netdraw graph (`--fit 6.9in`)", pdf))
            tv = draw_graph(model, input_size=shape, device="cpu")
            dot = t / f"{slug}-torchview.dot"
            dot.write_text(tv.visual_graph.source)
            pdf = t / f"{slug}-torchview.pdf"
            subprocess.run(["dot", "-Tpdf", str(dot), "-o", str(pdf)], check=True)
            figures.append(("torchview 0.2.7 (`draw_graph`, default options)", pdf))
            for what, pdf in figures:
                w, h, small, scale = smallest_text(pdf)
                png = out / (pdf.stem + ".png")
                preview(pdf, png, scale)
                rows.append((title, what, w / 72, h / 72, small * scale, scale, png.name))
                print(f"{title:20s} {what:50s} {w / 72:5.1f} × {h / 72:5.1f} in  smallest text "
                      f"{small * scale:4.1f} pt at 6.9 × 9 in (scale {scale:.2f})")
    lines = ["# Paper figures side by side", "",
             "Each network as netdraw draws it for a two-column paper (6.9 in wide, at most 9 in tall) next",
             "to torchview's drawing of the same module, each printed at the largest size that fits",
             "6.9 × 9 in, with the smallest text of each measured from its PDF (pdfplumber's character",
             "sizes times that scale). PlotNeuralNet's examples are described, not copied.",
             "`python docs/paper_gallery.py` rebuilds this page.", "",
             "| network | figure | natural size (in) | smallest text at 6.9 × 9 in | preview |",
             "|---|---|---|---|---|"]
    for title, what, w, h, text, scale, png in rows:
        lines.append(f"| {title} | {what} | {w:.1f} × {h:.1f} | {text:.1f} pt | "
                     f"![{title}, {what.split(' (')[0]}](images/paper/{png}) |")
    lines += ["", "## PlotNeuralNet's examples, described", ""]
    lines += [f"- **{k}**: {v}" for k, v in PLOTNEURALNET.items()]
    (HERE / "paper-gallery.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'paper-gallery.md'}")


if __name__ == "__main__":
    main()
