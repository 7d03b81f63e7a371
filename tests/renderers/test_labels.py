"""Edge labels and cluster titles clear of every edge line, on both engines (issue 28)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import netdraw
from netdraw import api
from netdraw.renderers import labels
from netdraw.renderers.layout import draw_soon

ROOT = Path(__file__).resolve().parents[2]
ENGINES = [pytest.param("native", marks=pytest.mark.dot), "wasm"]


def _drawn_json(graph, engine: str, **options) -> dict:
    """What Graphviz drew (the pinned render, as json): the positions a reader sees."""
    opts = api.check_options(options)
    drawn = api.prepare(graph, **options)
    raw = draw_soon(drawn, theme=opts["theme"], label=opts["label"], rankdir=opts["rankdir"], engine=engine,
                    fmt="json").result()
    return json.loads(raw)


def _raw_json(graph, engine: str) -> dict:
    """Graphviz's own layout, labels where it put them."""
    from netdraw.renderers import engine as layout_engine
    from netdraw.renderers.dot import to_dot

    opts = api.check_options({})
    return json.loads(layout_engine.layout(to_dot(api.prepare(graph), label=opts["label"]), "json", engine=engine))


def _bert():
    from tests.frontends.hf_suite import build

    model, args, kwargs = build("BertModel")
    return netdraw.trace(model, args, kwargs)


@pytest.mark.parametrize("engine", ENGINES)
def test_cnn_labels_and_titles_clear_of_every_edge(engine):
    g = netdraw.load(ROOT / "examples" / "resnet18.onnx")
    # Graphviz alone lets lines through labels and the downsample titles (what the issue saw)
    raw = labels.crossings(_raw_json(g, engine))
    assert any("title 'downsample'" in c for c in raw) and any("edge label" in c for c in raw)
    laid = _drawn_json(g, engine)
    assert labels.crossings(laid) == []
    assert sum(1 for e in laid["edges"] if e.get("lp")) == 37  # every shape label still drawn
    assert sum(1 for o in laid["objects"] if "bb" in o) == 14  # and every module


@pytest.mark.transformers
@pytest.mark.parametrize("engine", ENGINES)
def test_transformer_labels_clear_of_every_edge(engine):
    g = _bert()
    for options in ({}, {"depth": "max", "roll": False}):
        laid = _drawn_json(g, engine, **options)
        assert labels.crossings(laid) == [], options
        assert sum(1 for e in laid["edges"] if e.get("lp")) >= 10


def test_a_label_on_a_line_moves_beside_it_and_a_clear_one_stays():
    line = "e,50,0 50,100 50,70 50,30 50,5"
    text = [{"op": "F", "size": 8.0}, {"op": "T", "width": 40.0, "text": "1×8"}]
    far = "e,300,0 300,100 300,70 300,30 300,5"
    laid = {"bb": "0,0,400,100", "objects": [],
            "edges": [{"pos": line, "lp": "50,50", "label": "1×8", "_ldraw_": text},
                      {"pos": far, "lp": "325,50", "label": "1×8", "_ldraw_": text}]}
    assert len(labels.crossings(laid)) == 1
    labels.clear(laid)
    assert labels.crossings(laid) == []
    x, y = (float(v) for v in laid["edges"][0]["lp"].split(","))
    assert abs(y - 50) <= 5 and 50 + labels.CLEARANCE + 20 <= x <= 50 + 20 + 20  # beside, not far off
    assert laid["edges"][1]["lp"] == "325,50"  # already clear: where Graphviz put it


def test_a_crossed_title_slides_along_its_band():
    laid = {"bb": "0,0,200,100",
            "objects": [{"name": "cluster:a", "bb": "0,0,200,100", "lp": "30,92", "label": "layer1",
                         "lwidth": "0.50", "lheight": "0.15"}],
            "edges": [{"pos": "e,30,0 30,140 30,100 30,40 30,5"}]}
    assert labels.crossed_titles(laid) == ["cluster:a"]
    assert labels.clear(laid) == [] == labels.crossed_titles(laid)  # what clear reports is what is left
    x = float(laid["objects"][0]["lp"].split(",")[0])
    assert x - 18 >= 30 + labels.CLEARANCE  # right of the line


def test_a_title_with_no_room_is_reported_crossed():
    laid = {"bb": "0,0,40,100",
            "objects": [{"name": "cluster:a", "bb": "0,0,40,100", "lp": "20,92", "label": "layer1",
                         "lwidth": "0.50", "lheight": "0.15"}],
            "edges": [{"pos": "e,20,0 20,140 20,100 20,40 20,5"}]}
    assert labels.clear(laid) == ["cluster:a"] == labels.crossed_titles(laid)


def test_hidden_edges_are_not_obstacles():
    laid = {"bb": "0,0,100,100", "objects": [],
            "edges": [{"pos": "e,50,0 50,100 50,70 50,30 50,5", "style": "invis"},
                      {"pos": "e,10,0 10,100 10,70 10,30 10,5", "lp": "50,50", "label": "x",
                       "_ldraw_": [{"op": "F", "size": 8.0}, {"op": "T", "width": 10.0, "text": "x"}]}]}
    labels.clear(laid)
    assert laid["edges"][1]["lp"] == "50,50"
