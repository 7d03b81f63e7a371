"""Re-create the diagrams under docs/images with netdraw's default options.

    python docs/gallery.py            # needs transformers for the BERT and GPT-2 figures

Each figure is the default render (`netdraw render MODEL -o FILE`); models are built with random
weights on the meta device where possible, nothing is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

import netdraw  # noqa: E402
from models import resnet50  # noqa: E402


def main() -> None:
    out = HERE / "images"
    out.mkdir(exist_ok=True)
    g = netdraw.trace(resnet50(), (netdraw.InputSpec((1, 3, 224, 224)),))
    netdraw.render(g, out / "resnet50.svg", engine="native")
    netdraw.render(g, out / "resnet50-stages.svg", depth=2, label="name,type,params,flops", engine="native")
    import transformers as tf

    ids = torch.zeros(1, 128, dtype=torch.long)
    with torch.device("meta"):
        bert = tf.BertModel(tf.BertConfig())
        gpt2 = tf.GPT2Model(tf.GPT2Config())
    g = netdraw.trace(bert, kwargs={"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    netdraw.render(g, out / "bert-base.svg", engine="native")
    g = netdraw.trace(gpt2, kwargs={"input_ids": ids})
    netdraw.render(g, out / "gpt2-dark.svg", theme="dark", depth=1, label="name,type,params,flops",
                   engine="native")
    # activation thumbnails of a trained network: PP-OCRv4's text detector (from the rapidocr wheel)
    sys.path.insert(0, str(HERE.parent))
    from netdraw.frontends.images import ImagePrep
    from tests.realmodels import fetch

    g = netdraw.load(fetch("rapidocr-det"), inputs=[str(HERE.parent / "examples" / "images" / "chelsea.jpg")],
                     image=ImagePrep(size=(224, 320), bgr=True), thumbnails={"k": 4, "bgr": True})
    # the top four maps of every convolution at up to 64 px, wrapped into rows at a two-column width
    netdraw.render(g, out / "ppocr-det-thumbnails.svg", keep=["Conv"], label="type", rankdir="LR",
                   engine="native", fit="6.9x9in")
    # a Caffe network definition (GoogLeNet, as the tests write it out)
    from netdraw.frontends.caffe import from_text
    from tests.frontends.caffe_nets import googlenet

    netdraw.render(from_text(googlenet(), "googlenet.prototxt"), out / "googlenet-caffe.svg", engine="native")
    # BVLC's GoogLeNet as its train_val.prototxt has it (data layers per phase, loss, accuracy; ../shared)
    from tests.frontends.test_caffe_real import train_val

    netdraw.render(from_text(train_val("bvlc/bvlc_googlenet-deploy.prototxt", 224), "train_val.prototxt"),
                   out / "googlenet-train-val.svg", engine="native")
    for p in sorted(out.iterdir()):
        print(f"wrote {p.relative_to(HERE.parent)} ({p.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
