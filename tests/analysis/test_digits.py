"""The digits example end to end: training, occlusion that finds the strokes, evolution, the CLI."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from netdraw.cli import run
from tests.conftest import ROOT

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
sys.path.insert(0, str(ROOT / "examples"))
import digits  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    model, acc = digits.train(out, epochs=10, checkpoints=(1, 2, 10))
    return out, model, acc


def test_it_learns(trained):
    assert trained[2] > 0.9


def test_occluding_strokes_lowers_the_probability_more_than_occluding_background(trained):
    from netdraw.analysis.occlusion import occlusion

    _, model, _ = trained
    _, _, xte, yte = digits.data()
    for i in range(6):
        x = xte[i:i + 1]
        res = occlusion(model, x, target=int(yte[i]), window=3, stride=1, fill=0.0)
        strokes = x[0, 0].numpy() > 0.5
        background = x[0, 0].numpy() < 0.05
        assert res.attribution[strokes].mean() > 1.5 * res.attribution[background].mean() + 1e-4, i


def test_evolution_grid_and_gif(trained, tmp_path):
    from netdraw.analysis.evolution import evolution, load_checkpoint
    from netdraw.analysis.figures import evolution_figure, evolution_gif

    out, _, _ = trained
    models = [load_checkpoint(digits.DigitsCNN, str(out / f"epoch-{e}.pt")) for e in (1, 2, 10)]
    _, _, xte, _ = digits.data()
    evo = evolution(models, xte[:200], "conv2", n=4)
    assert evo.cells.shape == (4, 3, 1, 16, 16)
    assert len(set(evo.channels)) == 4
    # the last column's rows are the strongest maps of the last checkpoint, strongest first
    assert list(evo.values[:, 2]) == sorted(evo.values[:, 2], reverse=True)
    evolution_figure(evo, tmp_path / "a.png")
    evolution_figure(evo, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    evolution_gif(evo, tmp_path / "e.gif")
    with Image.open(tmp_path / "e.gif") as gif:
        assert gif.n_frames == 3


def test_cli(trained, tmp_path, capsys):
    out, _, _ = trained
    _, _, xte, _ = digits.data()
    np.save(tmp_path / "d.npy", xte[:1].numpy())
    np.save(tmp_path / "many.npy", xte[:50].numpy())
    factory = f"{ROOT / 'examples' / 'digits.py'}:DigitsCNN"
    fig = tmp_path / "occ.png"
    # an untrained factory is fine for the mechanics; the checkpoint-trained model is tested above
    assert run(["occlude", factory, "--input", str(tmp_path / "d.npy"), "--window", "4", "--stride", "2",
                "--layer", "conv2", "-o", str(fig), "--arrays", str(tmp_path / "arr")]) == 0
    pm = np.load(tmp_path / "arr" / "probability_map.npy")
    assert pm.shape == (7, 7) and fig.read_bytes()[:4] == b"\x89PNG"
    assert run(["evolve", *(str(out / f"epoch-{e}.pt") for e in (1, 10)), "--model", factory, "--layer", "conv1",
                "--images", str(tmp_path / "many.npy"), "-n", "3", "-o", str(tmp_path / "evo.svg"),
                "--gif", str(tmp_path / "evo.gif")]) == 0
    svg = (tmp_path / "evo.svg").read_bytes()
    assert svg.count(b"<image") == 6
    assert run(["deconv", factory, "--layer", "conv2", "--images", str(tmp_path / "many.npy"), "--top", "4",
                "-o", str(tmp_path / "dc.pdf")]) == 0
    assert run(["render", factory, "--input", str(tmp_path / "d.npy"), "--projections", "--top-k", "2",
                "-o", str(tmp_path / "p.svg")]) == 0
    assert (tmp_path / "p.svg").read_bytes().count(b"<image ") == 2  # conv1 and conv2
    capsys.readouterr()
    for args, msg in ((["occlude", factory, "--input", str(tmp_path / "d.npy"), "--window", "2", "--stride", "3",
                        "-o", str(tmp_path / "bad.png")], "must not exceed"),
                      (["evolve", str(tmp_path / "d.npy"), "--model", factory, "--layer", "conv1", "--images",
                        str(tmp_path / "many.npy"), "-o", str(tmp_path / "bad.png")], "not a state_dict"),
                      (["deconv", factory, "--layer", "nope", "--input", str(tmp_path / "d.npy"), "-o",
                        str(tmp_path / "bad.png")], "no module 'nope'")):
        assert run(args) == 2
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1
    assert not (tmp_path / "bad.png").exists()
    assert hashlib.sha256(fig.read_bytes()).hexdigest()  # written once, atomically
