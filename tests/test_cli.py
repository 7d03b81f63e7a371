"""The command line: success paths, and every bad input as one line with exit code 2."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from netdraw.cli import run
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "resnet18.onnx"


def fingerprint(path):
    st = os.stat(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size


def test_render_svg_and_inspect_json(tmp_path, capsys, scoped_cnn):
    out = tmp_path / "m.svg"
    assert run(["render", str(scoped_cnn), "-o", str(out), "--engine", "wasm"]) == 0
    ET.fromstring(out.read_bytes())
    assert run(["inspect", str(scoped_cnn), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["nodes"] == 7 and summary["params"] == 324
    assert summary["ops"] == {"Add": 1, "Conv": 2, "Flatten": 1, "Gemm": 1, "GlobalAveragePool": 1, "Relu": 1}


def test_inspect_table(capsys):
    assert run(["inspect", str(EXAMPLE)]) == 0
    text = capsys.readouterr().out
    assert "nodes    65 (65 with subgraphs)" in text
    assert "params   240,632 (240.6K)" in text
    assert "inputs   image: float32[batch, 3, 224, 224]" in text


def test_render_to_stdout(capsysbinary, scoped_cnn):
    assert run(["render", str(scoped_cnn), "-o", "-", "--format", "dot"]) == 0
    out = capsysbinary.readouterr().out
    assert out.startswith(b'digraph "g" {')


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot", "json"])
def test_every_format_from_the_suffix(tmp_path, scoped_cnn, fmt):
    out = tmp_path / f"m.{fmt}"
    assert run(["render", str(scoped_cnn), "-o", str(out), "--engine", "wasm"]) == 0
    head = out.read_bytes()[:16]
    assert head.startswith({"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph",
                            "json": b"{"}[fmt])


def _bad_cases(tmp_path, scoped_cnn):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\xff" * 100)
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(EXAMPLE.read_bytes()[:5000])
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    out = str(tmp_path / "out.svg")
    m = str(scoped_cnn)
    return [
        (["render", str(tmp_path / "missing.onnx"), "-o", out], "no such file"),
        (["render", str(tmp_path), "-o", out], "is a directory"),
        (["render", str(text), "-o", out], "not a model file netdraw can read"),
        (["render", str(garbage), "-o", out], "not a valid ONNX file"),
        (["render", str(cut), "-o", out], "not a valid ONNX file"),
        (["render", str(empty), "-o", out], "not a valid ONNX model"),
        (["render", m, "-o", out, "--format", "bmp"], "'bmp' is not one of"),
        (["render", m, "-o", str(tmp_path / "out.bmp")], "cannot tell the format"),
        (["render", m, "-o", out, "--bogus"], "No such option"),
        (["render", m, "-o", out, "--depth", "0"], "invalid depth '0'"),
        (["render", m, "-o", out, "--depth", "deep"], "invalid depth 'deep'"),
        (["render", m, "-o", out, "--engine", "gpu"], "'gpu' is not one of"),
        (["render", m, "-o", str(tmp_path / "nodir" / "out.svg")], "does not exist"),
        (["render", m, "-o", out, "--label", "name,macs"], "invalid label field 'macs'; valid: name, type, shape"),
        (["render", m, "-o", out, "--fold", "Conv >"], "invalid fold rule 'Conv >'"),
        (["render", m, "-o", out, "--hide", "layer9.*"], "--hide 'layer9.*' matches no module or op"),
        (["render", m, "-o", out, "--keep", "nope"], "--keep 'nope' matches no module or op"),
        (["render", m, "-o", out, "--expand", "nope"], "--expand 'nope' matches no module or op"),
        (["render", m, "-o", out, "--theme", "neon"], "'neon' is not one of"),
        (["render", m, "-o", m, "--format", "svg"], "refusing to overwrite the input file"),
        (["render", m], "Missing option '-o'"),
        (["frobnicate", m], "No such command"),
    ]


def test_bad_inputs_one_line_exit_2_no_output(tmp_path, capsys, scoped_cnn):
    before = fingerprint(scoped_cnn)
    for args, message in _bad_cases(tmp_path, scoped_cnn):
        code = run(args)
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and err.startswith("netdraw: error: "), err
        assert message in err, (message, err)
        assert not (tmp_path / "out.svg").exists()
        assert not (tmp_path / "out.bmp").exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files
    assert fingerprint(scoped_cnn) == before


def test_failed_render_keeps_an_existing_output(tmp_path, capsys, monkeypatch, scoped_cnn):
    out = tmp_path / "out.svg"
    out.write_text("previous")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert run(["render", str(scoped_cnn), "-o", str(out), "--engine", "native"]) == 2
    assert "needs Graphviz's `dot` on PATH" in capsys.readouterr().err
    assert out.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.svg", "scoped.onnx"]


def test_readability_options(tmp_path, scoped_cnn):
    out = tmp_path / "o.dot"
    m = str(scoped_cnn)
    assert run(["render", m, "-o", str(out), "--depth", "max"]) == 0
    assert "Conv-ReLU" in out.read_text()  # folded by default
    assert run(["render", m, "-o", str(out), "--depth", "max", "--fold", "none"]) == 0
    assert "Conv-ReLU" not in out.read_text() and 'label="act\\nRelu"' in out.read_text()
    assert run(["render", m, "-o", str(out), "--depth", "max", "--fold", "none", "--fold", "Flatten > Gemm"]) == 0
    assert 'label="Flatten-Linear\\n36 params"' in out.read_text()
    assert run(["render", m, "-o", str(out), "--hide", "head", "--label", "name,flops", "--theme", "dark",
                "--depth", "max"]) == 0
    dot = out.read_text()
    assert "head" not in dot.replace("cluster:head", "") and "13.8K MACs" in dot and "#16181D" in dot
    assert '"n:/block/Add" -> "o:0:y";' in dot  # the output y now comes straight from the block
    assert run(["render", m, "-o", str(out), "--depth", "1", "--expand", "head"]) == 0
    assert '"n:head/pool"' in out.read_text() and '"n:stem"' in out.read_text()
    assert run(["render", m, "-o", str(out), "--keep", "block", "--no-roll"]) == 0
    assert sorted(re.findall(r'^\t*"n:([^"]+)" \[', out.read_text(), re.M)) == ["/block/Add", "/block/conv/Conv"]


def test_real_process_has_no_traceback(tmp_path):
    """The installed entry point, in a fresh process, without `dot` on PATH (the wasm path)."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    bad = subprocess.run([sys.executable, "-m", "netdraw", "render", str(tmp_path / "x.onnx"), "-o",
                          str(tmp_path / "x.svg")], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert bad.stderr == f"netdraw: error: {tmp_path / 'x.onnx'}: no such file\n"
    ok = subprocess.run([sys.executable, "-m", "netdraw", "render", str(EXAMPLE), "-o",
                         str(tmp_path / "r.png")], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""  # no warnings, no finaliser noise at exit
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")


def test_thumbnails_from_an_image(tmp_path, capsys):
    out = tmp_path / "fig.svg"
    cat = ROOT / "examples" / "images" / "chelsea.jpg"
    model = ROOT / "examples" / "resnet18.onnx"
    assert run(["render", str(model), "--input", str(cat), "--thumbnails", "--top-k", "2", "--depth", "1",
                "-o", str(out)]) == 0
    svg = out.read_text()
    assert svg.count("<image ") == 10  # input, conv1 (Conv-ReLU), maxpool, layer1..4, avgpool, flatten, fc
    assert run(["render", str(model), "--input", str(cat), "--thumbnails", "--cmap", "nope", "-o",
                str(tmp_path / "x.svg")]) == 2
    assert "unknown colormap 'nope'" in capsys.readouterr().err
    assert run(["render", str(model), "--thumbnails", "-o", str(tmp_path / "y.svg")]) == 2
    assert "thumbnails need an input" in capsys.readouterr().err
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    assert run(["render", str(model), "--input", str(bad), "--thumbnails", "-o", str(tmp_path / "z.svg")]) == 2
    err = capsys.readouterr().err
    assert "not an image" in err and err.count("\n") == 1
    assert not (tmp_path / "x.svg").exists() and not (tmp_path / "z.svg").exists()


def test_checkpoints_sort_naturally():
    from netdraw.cli import natural_key

    shell = ["epoch-1.pt", "epoch-10.pt", "epoch-2.pt", "epoch-20.pt", "epoch-30.pt", "epoch-5.pt", "best.pt"]
    assert sorted(shell, key=natural_key) == ["best.pt", "epoch-1.pt", "epoch-2.pt", "epoch-5.pt", "epoch-10.pt",
                                              "epoch-20.pt", "epoch-30.pt"]
    assert sorted(["a²b", "a2b", "a10b"], key=natural_key) == ["a2b", "a10b", "a²b"]
