"""--format mermaid: structure, escaping of hostile names, and Mermaid's own parser as the judge."""

from __future__ import annotations

import re
import sys

import pytest

import netdraw
from netdraw.frontends.pytorch import InputSpec
from netdraw.api import prepare, render_bytes
from netdraw.renderers.escape import mermaid_id, mermaid_text
from netdraw.renderers.mermaid import to_mermaid
from netdraw.renderers.scene import build_scene
from tests.conftest import ROOT, check_golden
from tests.renderers.test_dot import HOSTILE, hostile_graph

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402


def _clusters(c) -> int:
    return len(c.children) + sum(_clusters(ch) for ch in c.children)


def test_escape_filters():
    assert mermaid_text('a"b#c<d>&`*') == "a#34;b#35;c#60;d#62;#38;#96;#42;"
    assert mermaid_text("layer.0–11 · BertLayer ×12 (x)") == "layer.0–11 · BertLayer ×12 (x)"
    assert mermaid_text("名\nx") == "#21517; x"
    assert mermaid_id("end") == "end" and mermaid_id("a b/c") == "a_20_b_2f_c"


def test_golden_mermaid(scoped_cnn):
    check_golden("scoped_depth1.mmd", render_bytes(netdraw.load(scoped_cnn), "mermaid", depth=1).decode())


def test_every_box_and_cluster_is_written_once():
    g = netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))
    drawn = prepare(g, depth="max")
    scene = build_scene(drawn)
    text = to_mermaid(drawn)
    assert text.startswith("flowchart TB\n")
    node_lines = re.findall(r"^\s*([a-z]_\S+?)(?:\[|\(\[)\"", text, re.M)
    assert len(node_lines) == len(set(node_lines)) == len(scene.boxes())
    assert text.count("subgraph ") == _clusters(scene.root) == text.count("\n  style ")
    assert len(re.findall(r" -(?:->|\.->)", text)) == len(scene.edges)
    assert '"1–5 · Bottleneck ×5"' in text  # rolled stages keep their ×N


def _structure():
    """A checkpoint's structure diagram (invisible order links, a title), with a hostile file name."""
    from netdraw.frontends.checkpoint import Tensors, structure_graph

    tensors = {f"layers.{i}.{m}.weight": ((8, 8), "bfloat16") for i in range(2) for m in ("q", "k")}
    return structure_graph(Tensors("safetensors", tensors, {}, {}), 'a"b<script>.safetensors')


@pytest.mark.mermaid
def test_mermaid_parses_what_netdraw_writes(tmp_path, scoped_cnn):
    from tests.mermaidjs import check

    cases = {
        "resnet50": prepare(netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),)), depth="max"),
        "unet": prepare(netdraw.trace(cnn.MODELS["unet"][0](), (InputSpec(cnn.MODELS["unet"][1]),))),
        "scoped-lr": prepare(netdraw.load(scoped_cnn), depth=1),
        "structure": prepare(_structure(), depth="max", roll=False),
        "hostile": prepare(hostile_graph(), depth="max"),
    }
    paths, scenes = [], []
    for name, drawn in cases.items():
        p = tmp_path / f"{name}.mmd"
        p.write_text(to_mermaid(drawn, rankdir="LR" if name == "scoped-lr" else "TB"))
        paths.append(p)
        scenes.append(build_scene(drawn))
    for res, scene, p in zip(check(*paths), scenes, paths):
        assert res["ok"], (p.name, res)
        assert res["type"] == "flowchart-v2"
        # nothing a name contains made an extra node, edge or subgraph, or lost one
        assert res["vertices"] == len(scene.boxes()) + _clusters(scene.root), p.name  # subgraphs count too
        assert res["edges"] == len(scene.edges), p.name
        assert res["subgraphs"] == _clusters(scene.root), p.name
    hostile = check(paths[-1])[0]["labels"]
    assert not any("<script" in t or '"' in t for t in hostile)
    # written as entity codes, which Mermaid keeps encoded (its own placeholder) until it draws them as text
    assert any("\ufb02\xb0\xb060\xb6\xdfscript" in t for t in hostile)
    assert HOSTILE[3] not in (tmp_path / "hostile.mmd").read_text()
