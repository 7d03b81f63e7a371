"""Layout engines: native dot and embedded wasm, determinism, failures, real models."""

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import wasmtime

import netdraw
from netdraw.errors import NetdrawError
from netdraw.passes import visible_nodes
from netdraw.api import prepare, render_bytes
from netdraw.renderers import engine
from tests.renderers.test_dot import hostile_graph

SVG = "{http://www.w3.org/2000/svg}"
ENGINES = [pytest.param("native", marks=pytest.mark.dot), "wasm"]


def svg_nodes(svg: bytes) -> list[ET.Element]:
    """Shapes for model nodes (not the small "from X" stubs drawn for values with a large fan-out)."""
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"
            and not (g.findtext(f"{SVG}title") or "").startswith("r:")]


def svg_texts(svg: bytes) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def expected_shapes(graph, eng: str) -> int:
    drawn = prepare(graph, engine=eng)  # auto depth measures widths with the engine that draws
    return len(visible_nodes(drawn)) + len(drawn.inputs) + len(drawn.outputs)


@pytest.mark.parametrize("eng", ENGINES)
def test_svg_has_one_shape_per_visible_node(scoped_cnn, eng):
    g = netdraw.load(scoped_cnn)
    # every op but stem conv+relu, folded into one Conv-ReLU; at depth 1: stem, block, head
    for depth, count in (("max", 6 + 2), (1, 3 + 2)):
        svg = render_bytes(g, "svg", engine=eng, depth=depth)
        assert len(svg_nodes(svg)) == count


@pytest.mark.parametrize("eng", ENGINES)
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_output_is_byte_identical_across_runs(scoped_cnn, eng, fmt):
    g = netdraw.load(scoped_cnn)
    a = render_bytes(g, fmt, engine=eng)
    b = render_bytes(netdraw.load(scoped_cnn), fmt, engine=eng)
    assert a == b
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[fmt]
    assert a.startswith(magic)


@pytest.mark.parametrize("eng", ENGINES)
def test_png_size_is_the_same_scale_on_both_engines(scoped_cnn, eng):
    import struct

    g = netdraw.load(scoped_cnn)
    png = render_bytes(g, "png", engine=eng)
    w, h = struct.unpack(">II", png[16:24])
    root = ET.fromstring(render_bytes(g, "svg", engine=eng))
    pt_w = float(root.get("width").rstrip("pt"))
    assert abs(w - pt_w * engine.PNG_DPI / 72) <= 2  # 2 px per point


@pytest.mark.parametrize("eng", ENGINES)
def test_hostile_names_render_and_read_back(eng):
    g = hostile_graph()
    svg = render_bytes(g, "svg", engine=eng, depth="max")
    assert len(svg_nodes(svg)) == expected_shapes(g, eng)
    texts = "\n".join(svg_texts(svg))
    assert "<script>&amp;</script>" in texts          # shown literally, parsed safely
    assert "back\\slash\\" in texts
    assert "\\N\\G\\L" in texts                          # not expanded as Graphviz escapes
    assert "new line" in texts
    assert "ünïcødé 名前" in texts


def test_wasm_renders_many_graphs_in_one_process(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    outs = [render_bytes(g, "svg", engine="wasm", depth=d) for d in ("max", 1, "max", 1, "max")]
    assert outs[0] == outs[2] == outs[4] and outs[1] == outs[3]
    assert len(svg_nodes(outs[1])) == 5


def test_wasm_trap_becomes_one_line_error(monkeypatch, scoped_cnn):
    def trap(source, fmt="svg", timeout=None, pinned=False):
        raise wasmtime.Trap("call stack exhausted")

    monkeypatch.setattr(engine, "_wasm_render_once", trap)
    with pytest.raises(NetdrawError) as info:
        render_bytes(netdraw.load(scoped_cnn), "svg", engine="wasm")
    msg = str(info.value)
    assert "\n" not in msg
    assert "call stack exhausted" in msg and "apt-get install graphviz" in msg


def test_wasm_reports_bad_dot_source():
    with pytest.raises(NetdrawError, match="could not lay out"):
        engine.layout("digraph { a -> }", "svg", engine="wasm")


def test_auto_uses_wasm_without_dot_on_path(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert engine.resolve("auto") == "wasm"
    with pytest.raises(NetdrawError, match="needs Graphviz's `dot` on PATH"):
        engine.resolve("native")


@pytest.mark.dot
def test_auto_uses_native_when_dot_is_there():
    assert engine.resolve("auto") == "native"


@pytest.mark.dot
def test_native_png_and_pdf_are_the_svg_converted():
    src = "digraph { a -> b }"
    svg = engine.layout(src, "svg", engine="native")
    assert engine.layout(src, "pdf", engine="native") == engine.convert_svg(svg, "pdf")
    assert engine.layout(src, "png", engine="native") == engine.convert_svg(svg, "png")


@pytest.mark.dot
def test_native_dot_runs_with_the_lean_plugin_folder(tmp_path, monkeypatch):
    """core and dot_layout only (no pango): labels measured with Graphviz's Helvetica widths,
    the folder made once in the user's cache and private to them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    engine._lean_plugins.cache_clear()
    try:
        folder = engine._lean_plugins(shutil.which("dot"))
        assert folder is not None and folder.startswith(str(tmp_path / "netdraw"))
        names = sorted(p.name.split(".")[0] for p in Path(folder).iterdir()
                       if p.name.startswith("libgvplugin"))
        assert names == ["libgvplugin_core", "libgvplugin_dot_layout", "libgvplugin_neato_layout"]
        assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
        # a 10-character label at 10 pt: Helvetica's widths (5.56 pt per letter 'a') + margins
        svg = engine.layout('digraph { node [fontname="Helvetica", fontsize=10, margin=0, shape=box]; '
                            'x [label="aaaaaaaaaa"] }', "svg", engine="native")
        width = float(re.search(rb'<svg width="([\d.]+)pt', svg).group(1))
        assert 55.6 <= width <= 55.6 + 2 * 4 + 1  # the text, graph padding 4 pt each side
    finally:
        engine._lean_plugins.cache_clear()


@pytest.mark.realmodels
@pytest.mark.parametrize("eng", ENGINES)
@pytest.mark.parametrize("name", ["nudenet-320n", "rapidocr-cls", "silero-vad-16k-op15", "magika"])
def test_real_models_render_one_shape_per_visible_node(real_models, name, eng):
    g = netdraw.load(real_models[name])
    svg = render_bytes(g, "svg", engine=eng)
    assert len(svg_nodes(svg)) == expected_shapes(g, eng)
    # at every op: the op count minus constants and weight-only ops, independently of the pass
    full = render_bytes(g, "svg", engine=eng, depth="max", fold="none", roll=False)
    model = __import__("onnx").load(str(real_models[name]), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}

    def drawn(n):  # constants and ops reading only initializers are folded into their users
        ins = [i for i in n.input if i]
        has_body = any(a.type == a.GRAPH for a in n.attribute)
        return n.op_type != "Constant" and (has_body or not ins or not all(i in inits for i in ins))

    ops = [n for n in model.graph.node if drawn(n)]
    ios = [i for i in model.graph.input if i.name not in inits] + list(model.graph.output)
    assert len(svg_nodes(full)) == len(ops) + len(ios)


def test_choose_measures_ahead_and_cancels_what_it_no_longer_needs():
    """Levels are measured two at a time (the next one prepared while Graphviz lays out this one);
    the first that fits wins and the job still running is cancelled, also when a job fails."""
    from netdraw.api import choose_level

    log = []

    def measure(widths):
        def m(level):
            log.append(("start", level))
            return engine.Job(lambda: (widths[level], f"laid {level}"), lambda: log.append(("cancel", level)))
        return m

    def levels(n):
        for i in range(n):
            log.append(("make", i))
            yield i

    opts = {"depth": "auto", "max_width": 9.0}
    assert choose_level(levels(4), opts, measure([12, 11, 8.5, 3])) == (2, "laid 2")
    assert log == [("make", 0), ("start", 0), ("make", 1), ("start", 1), ("make", 2), ("start", 2),
                   ("make", 3), ("start", 3), ("cancel", 3)]
    log.clear()
    assert choose_level(levels(3), opts, measure([12, 10, 11])) == (1, "laid 1")  # none fits: the narrowest
    assert ("cancel", 2) not in log
    log.clear()
    assert choose_level(levels(1), opts, measure([3])) == (0, "laid 0")
    assert log == [("make", 0), ("start", 0)]

    def failing(level):
        log.append(("start", level))
        if level == 0:
            return engine.Job(lambda: (_ for _ in ()).throw(NetdrawError("dot failed: syntax")))
        return engine.Job(lambda: (1.0, None), lambda: log.append(("cancel", level)))

    log.clear()
    with pytest.raises(NetdrawError, match="dot failed"):
        choose_level(levels(3), opts, failing)
    assert log[-1] == ("cancel", 1)
    assert choose_level(levels(3), {"depth": 2, "max_width": 9.0}, failing) == (0, None)  # no measuring


@pytest.mark.dot
def test_cancelled_native_layout_leaves_no_process():
    job = engine.layout_soon("digraph { " + " ".join(f"n{i} -> n{i + 1};" for i in range(3000)) + " }", "svg",
                             engine="native")
    assert _children() == ["dot"]
    job.cancel()
    assert _children() == []  # killed and reaped: no zombie either
    assert engine.layout_soon("digraph { a -> b }", "svg", engine="native").result().startswith(b"<?xml")


def _children() -> list[str]:
    """The names of this process's child processes (Linux /proc)."""
    names = []
    for d in Path("/proc").iterdir():
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if d.name.isdigit() and int(rest[1]) == os.getpid():
            names.append(name)
    return names


@pytest.mark.dot
def test_native_dot_without_a_usable_cache_runs_the_full_dot(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    engine._lean_plugins.cache_clear()
    try:
        assert engine._lean_plugins(shutil.which("dot")) is None
        assert b"<svg" in engine.layout("digraph { a -> b }", "svg", engine="native")
    finally:
        engine._lean_plugins.cache_clear()


@pytest.mark.dot
def test_native_dot_refuses_a_plugin_folder_others_can_write(tmp_path, monkeypatch):
    """dot loads the libraries the folder names: one that others could change is not used."""
    (tmp_path / "netdraw").mkdir()
    os.chmod(tmp_path / "netdraw", 0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    engine._lean_plugins.cache_clear()
    try:
        assert engine._lean_plugins(shutil.which("dot")) is None
    finally:
        engine._lean_plugins.cache_clear()


def test_wasm_layout_job_runs_only_when_its_result_is_asked_for(monkeypatch):
    calls = []
    monkeypatch.setattr(engine, "_wasm_svg", lambda source, fmt="svg", timeout=None, pinned=False: calls.append(source) or b"<svg/>")
    job = engine.layout_soon("digraph { a }", "svg", engine="wasm")
    job.cancel()
    assert calls == []
    assert engine.layout_soon("digraph { b }", "svg", engine="wasm").result() == b"<svg/>" and len(calls) == 1


def _tangled(n: int = 600) -> str:
    """DOT of a graph Graphviz needs minutes for: each node also reads one of the 50 before it."""
    import random

    rng = random.Random(0)
    lines = ["digraph g {"]
    for i in range(1, n):
        lines.append(f"  n{i - 1} -> n{i};")
        if rng.random() < 0.3:
            lines.append(f"  n{rng.randrange(max(0, i - 50), i)} -> n{i};")
    return "\n".join(lines) + "\n}\n"


@pytest.mark.parametrize("which", [pytest.param("native", marks=pytest.mark.dot), "wasm"])
def test_a_layout_past_its_time_limit_stops_with_one_line(which):
    import time

    t = time.monotonic()
    with pytest.raises(engine.LayoutTimeout) as info:
        engine.layout(_tangled(), "svg", engine=which, timeout=0.5)
    assert time.monotonic() - t < 10
    assert str(info.value).startswith("the layout of 600 nodes and ") and "ran longer than 0.5 s" in str(info.value)
    assert "--layout-timeout" in str(info.value)
    # the engine still works afterwards (the wasm epoch deadline is per render)
    assert b"<svg" in engine.layout("digraph { a -> b }", "svg", engine=which, timeout=30)


def test_the_cli_takes_layout_timeout(tmp_path, capsys):
    from netdraw.cli import run

    src = tmp_path / "t.dot"
    src.write_text(_tangled())
    bad = ["render", str(tmp_path / "x.onnx"), "-o", str(tmp_path / "o.svg"), "--layout-timeout", "0"]
    assert run(bad) == 2
    assert "--layout-timeout" in capsys.readouterr().err
