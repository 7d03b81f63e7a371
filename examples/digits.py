"""A small CNN trained on scikit-learn's bundled digits, and the Zeiler & Fergus figures of it.

    python examples/digits.py [OUT]      # default OUT: digits-out/ (about 20 s on 2 CPU cores)

Nothing is downloaded: ``sklearn.datasets.load_digits`` ships 1,797 8×8 digits inside the wheel.
They are upsampled to 16×16 and scaled to [0, 1] (background 0).  Training (Adam, 30 epochs,
seeded) saves ``epoch-{1,2,5,10,20,30}.pt`` state_dicts; then netdraw draws

* ``evolution.png`` / ``evolution.gif``: conv2's strongest maps projected at each checkpoint;
* ``occlusion-<i>.png``: occlusion maps of several test digits (window 4, stride 2, fill 0);
* ``deconv-conv1.png``, ``deconv-conv2.png``: the top-9 activations of a map per layer, projected,
  beside their image patches;
* ``thumbnails.svg``: the diagram with each layer's feature maps on one test digit.

The same from the command line::

    netdraw evolve digits-out/epoch-*.pt --model examples/digits.py:DigitsCNN --layer conv2 \\
        --images digits-out/test.npy -o evolution.png --gif evolution.gif
    netdraw occlude examples/digits.py:trained --input digits-out/digit-0.npy --window 4 --stride 2 -o occ.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

CHECKPOINTS = (1, 2, 5, 10, 20, 30)
DEFAULT_OUT = Path("digits-out")


class DigitsCNN(nn.Module):
    """16×16 grey digits: two conv-ReLU-maxpool stages and a linear classifier (~6K parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.relu1 = nn.ReLU(inplace=True)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.relu2 = nn.ReLU(inplace=True)
        self.pool2 = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, train labels, test images, test labels): (N, 1, 16, 16) in [0, 1], 80/20."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0)[:, None]
    x = torch.nn.functional.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False).clamp(0, 1)
    y = torch.from_numpy(d.target.astype(np.int64))
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    x, y = x[order], y[order]
    cut = int(0.8 * len(y))
    return x[:cut], y[:cut], x[cut:], y[cut:]


def train(out: Path = DEFAULT_OUT, epochs: int = 30, checkpoints: tuple[int, ...] = CHECKPOINTS,
          seed: int = 0) -> tuple[DigitsCNN, float]:
    """Train, saving ``epoch-N.pt`` at each checkpoint; returns the model and its test accuracy."""
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    xtr, ytr, xte, yte = data(seed)
    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(seed)
    for epoch in range(1, epochs + 1):
        model.train()
        for idx in torch.randperm(len(ytr), generator=g).split(32):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        if epoch in checkpoints:
            torch.save(model.state_dict(), out / f"epoch-{epoch}.pt")
    model.eval()
    with torch.no_grad():
        acc = float((model(xte).argmax(1) == yte).float().mean())
    np.save(out / "test.npy", xte.numpy())
    return model, acc


def trained(out: Path = DEFAULT_OUT) -> DigitsCNN:
    """The model of the last checkpoint in ``out`` (trained first if there is none)."""
    path = out / f"epoch-{CHECKPOINTS[-1]}.pt"
    if not path.exists():
        train(out)
    model = DigitsCNN()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def main(out: Path = DEFAULT_OUT) -> None:
    import netdraw
    from netdraw.analysis.deconv import project, top_activations
    from netdraw.analysis.evolution import evolution, load_checkpoint
    from netdraw.analysis.figures import evolution_figure, evolution_gif, occlusion_figure, projection_grid
    from netdraw.analysis.occlusion import occlusion

    model, acc = train(out)
    print(f"test accuracy after {CHECKPOINTS[-1]} epochs: {acc:.3f}")
    _, _, xte, yte = data()
    models = [load_checkpoint(DigitsCNN, str(out / f"epoch-{e}.pt")) for e in CHECKPOINTS]
    evo = evolution(models, xte, "conv2", n=8, labels=[f"epoch {e}" for e in CHECKPOINTS])
    evolution_figure(evo, out / "evolution.png")
    evolution_gif(evo, out / "evolution.gif")
    for i in range(4):
        x = xte[i:i + 1]
        np.save(out / f"digit-{i}.npy", x.numpy())
        res = occlusion(model, x, target=int(yte[i]), window=4, stride=2, fill=0.0, layer="conv2")
        occlusion_figure(res, x.numpy(), out / f"occlusion-{i}.png")
    for layer, channel in (("conv1", None), ("conv2", None)):
        ch = channel if channel is not None else project(model, xte[:1], layer).channel
        top = top_activations(model, xte, layer, ch, k=9)
        projs = [project(model, xte[i:i + 1], layer, ch, pos) for i, _, pos in top]
        projection_grid([p.pixels for p in projs], out / f"deconv-{layer}.png",
                        titles=[f"{v:.2f}" for _, v, _ in top], patches=[xte[i].numpy() for i, _, _ in top])
    g = netdraw.trace(model, (xte[:1],), thumbnails={"k": 4})
    netdraw.render(g, out / "thumbnails.svg", depth="max")
    for p in sorted(out.iterdir()):
        print(f"wrote {p}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
