"""Re-create the bundled ONNX examples from ``examples/models.py`` (torch's ONNX exporter).

    python examples/export_onnx.py

Writes ``examples/resnet18.onnx``: ResNet-18's full structure at 1/8 of its width
(11,689,512 / ~64 parameters), so the file stays small enough to ship in the repository.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from models import resnet18  # noqa: E402


def main() -> None:
    torch.manual_seed(0)
    model = resnet18(width=0.125).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(HERE / "resnet18.onnx"),
                          input_names=["image"], output_names=["logits"], dynamo=False,
                          opset_version=17, dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    n = sum(p.numel() for p in model.parameters())
    print(f"wrote {HERE / 'resnet18.onnx'} ({n} parameters)")


if __name__ == "__main__":
    main()
