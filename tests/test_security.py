"""A hostile file runs no code, writes nowhere but the output, and never replaces what netdraw reads.

Each attack leaves a marker file when it succeeds; the tests check that none appears.  They run
the real CLI in a subprocess, as a user would.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import select
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.conftest import ROOT


def netdraw(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netdraw", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


class Evil:
    """Unpickling this creates the marker file: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# ------------------------------------------------------------------ .pt2 archives
def _exported(tmp_path: Path) -> Path:
    import torch

    class M(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(3, 4)

        def forward(self, x):
            return self.fc(x).relu()

    path = tmp_path / "plain.pt2"
    torch.export.save(torch.export.export(M(), (torch.randn(2, 3),)), str(path))
    return path


def _rewrite(src: Path, dst: Path, edit) -> Path:
    with zipfile.ZipFile(src) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    edit(files)
    with zipfile.ZipFile(dst, "w") as zout:
        for name, data in files.items():
            zout.writestr(name, data)
    return dst


def _config(files: dict, suffix: str) -> tuple[str, dict]:
    key = next(n for n in files if n.endswith(suffix))
    return key, json.loads(files[key])


def _pickled_weight(marker: Path):
    def edit(files):
        key, cfg = _config(files, "model_weights_config.json")
        first = next(iter(cfg["config"]))
        cfg["config"][first]["use_pickle"] = True
        files[key] = json.dumps(cfg).encode()
        files[key.rsplit("/", 1)[0] + "/" + cfg["config"][first]["path_name"]] = pickle.dumps(Evil(marker))
    return edit


def _pickled_sample_inputs(marker: Path):
    import torch

    def edit(files):
        key = next(n for n in files if "/sample_inputs/" in n)
        buf = io.BytesIO()
        torch.save(Evil(marker), buf)  # torch's safe loader refuses it; torch.export would retry with pickle
        files[key] = buf.getvalue()
    return edit


def _opaque_constant(marker: Path):
    def edit(files):
        key, cfg = _config(files, "model_constants_config.json")
        cfg["config"]["evil"] = {"path_name": "opaque_obj_0"}
        files[key] = json.dumps(cfg).encode()
        files[key.rsplit("/", 1)[0] + "/opaque_obj_0"] = pickle.dumps(Evil(marker))
    return edit


@pytest.mark.parametrize("attack", [_pickled_weight, _pickled_sample_inputs, _opaque_constant])
@pytest.mark.parametrize("command", ["render", "inspect"])
def test_a_pt2_file_runs_no_code_without_trust(tmp_path, attack, command):
    marker = tmp_path / "PWNED"
    evil = _rewrite(_exported(tmp_path), tmp_path / "evil.pt2", attack(marker))
    args = ["render", str(evil), "-o", str(tmp_path / "out.svg")] if command == "render" else ["inspect", str(evil)]
    res = netdraw(*args, cwd=tmp_path)
    assert not marker.exists(), "code from the .pt2 file ran"
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and "--trust" in res.stderr and "pickled" in res.stderr
    assert not (tmp_path / "out.svg").exists()


def test_trust_is_what_lets_a_pickled_pt2_load(tmp_path):
    """The refusal above is netdraw's doing: with --trust torch unpickles (and the marker appears)."""
    marker = tmp_path / "PWNED"
    evil = _rewrite(_exported(tmp_path), tmp_path / "evil.pt2", _pickled_weight(marker))
    netdraw("inspect", str(evil), "--trust", cwd=tmp_path)
    assert marker.exists()


def test_a_plain_pt2_still_loads_without_trust(tmp_path):
    res = netdraw("inspect", "--json", str(_exported(tmp_path)), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["params"] == 3 * 4 + 4 and summary["ops"] == {"linear": 1, "relu": 1}


def test_a_corrupt_pt2_is_one_line(tmp_path):
    bad = tmp_path / "bad.pt2"
    bad.write_bytes(_exported(tmp_path).read_bytes()[:600])
    res = netdraw("inspect", str(bad), cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr


# ------------------------------------------------------------------ view
def _named(tmp_path: Path, graph_name: str) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], graph_name, [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_view_writes_only_its_own_temp_file_and_removes_it(tmp_path, where):
    pytest.importorskip("netron")
    work, temp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    temp.mkdir()
    target = tmp_path / "escaped" if where == "absolute" else Path("../../escaped")
    model = _named(work, str(target))
    proc = subprocess.Popen([sys.executable, "-m", "netdraw", "view", str(model), "--port", "0"], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(temp)})
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "view printed no address"
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        served = [p for p in temp.rglob("*") if p.is_file()]
        assert [p.name for p in served] == ["model.onnx"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert not list(tmp_path.rglob("escaped*")) and not list(Path("/").glob("escaped*"))
    assert list(temp.iterdir()) == [], "view left its temp folder behind"


# ------------------------------------------------------------------ inputs never overwritten
FACTORY = """
import torch
def make():
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
"""


def test_a_factory_source_is_never_overwritten(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(FACTORY)
    before = src.read_bytes()
    for out in ("m.py", "link.dot"):
        if out == "link.dot":
            (tmp_path / out).symlink_to(src)
        res = netdraw("render", "m.py:make", "--input", "1x4", "-o", out, "--format", "dot", cwd=tmp_path)
        assert res.returncode == 2 and "refusing to overwrite the input file" in res.stderr, res.stderr
        assert src.read_bytes() == before


def test_an_input_tensor_or_module_file_is_never_overwritten(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(FACTORY)
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    before = (tmp_path / "x.npy").read_bytes()
    res = netdraw("render", "m.py:make", "--input", "x.npy", "-o", "x.npy", "--format", "dot", cwd=tmp_path)
    assert res.returncode == 2 and "refusing to overwrite the input file" in res.stderr, res.stderr
    assert (tmp_path / "x.npy").read_bytes() == before
    # a package.module:factory: the module's own file is noted when it is imported
    res = netdraw("render", "m:make", "--input", "1x4", "-o", "m.py", "--format", "dot", cwd=tmp_path,
                  env={"PYTHONPATH": str(tmp_path)})
    assert res.returncode == 2 and "refusing to overwrite the input file" in res.stderr, res.stderr
    assert src.read_text() == FACTORY


def test_a_hard_link_to_the_model_is_not_an_output(tmp_path):
    model = _named(tmp_path, "g")
    os.link(model, tmp_path / "other.json")
    before = model.read_bytes()
    res = netdraw("render", str(model), "-o", str(tmp_path / "other.json"), cwd=tmp_path)
    assert res.returncode == 2 and "refusing to overwrite the input file" in res.stderr
    assert model.read_bytes() == before
