"""The wheel works without the repository: built with pip, installed into a fresh virtual
environment without -e, it renders SVG, TikZ and Mermaid from a folder outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT),
                    "-w", str(tmp / "dist")], check=True, cwd=tmp, capture_output=True)
    wheel = next((tmp / "dist").glob("netdraw-*.whl"))
    # the dependencies (torch among them) come from this Python's site-packages; netdraw only from the wheel
    venv.create(tmp / "venv", system_site_packages=True, with_pip=False)
    py = tmp / "venv" / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    return wheel, py, tmp


def test_the_wheel_carries_templates_fonts_and_the_typing_marker(wheel_env):
    wheel, _, _ = wheel_env
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"netdraw/templates/tikz/{t}.tex.j2" for t in ("boxes", "defs", "graph", "standalone")} <= names
    assert {f"netdraw/templates/html/{t}" for t in ("page.html.j2", "fragment.html.j2", "viewer.js", "viewer.css")} <= names
    assert "netdraw/renderers/fonts/LiberationSans-Regular.ttf" in names and "netdraw/py.typed" in names
    assert not any(n.startswith(("tests/", "examples/", "benchmarks/")) for n in names)


@pytest.mark.parametrize("suffix, head", [("svg", b"<?xml"), ("tex", b"\\documentclass"), ("mmd", b"flowchart"),
                                          ("html", b"<!DOCTYPE html>"), ("drawio", b"<mxfile")])
def test_the_installed_wheel_renders_outside_the_checkout(wheel_env, suffix, head):
    _, py, tmp = wheel_env
    where = subprocess.run([str(py), "-c", "import netdraw, sys; print(netdraw.__file__)"], cwd=tmp,
                           capture_output=True, text=True, check=True).stdout
    assert str(tmp / "venv") in where and str(ROOT) not in where  # the wheel's netdraw, not the checkout's
    out = tmp / f"r18.{suffix}"
    res = subprocess.run([str(py), "-m", "netdraw", "render", str(ROOT / "examples" / "resnet18.onnx"), "-o", str(out),
                          "--engine", "wasm"], cwd=tmp, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes().lstrip().startswith(head), out.read_bytes()[:80]
