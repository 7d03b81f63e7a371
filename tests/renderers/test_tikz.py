"""TikZ figures: the escape filter, golden .tex, and real pdflatex/lualatex runs with clean logs."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import netdraw
from netdraw.errors import NetdrawError
from netdraw.frontends.pytorch import InputSpec
from netdraw.api import prepare, render_bytes, render_files
from netdraw.renderers.escape import tex
from netdraw.renderers.latex import compile_pdf
from netdraw.renderers.tikz import auto_style, to_tikz
from tests.conftest import ROOT, check_golden
from tests.renderers.test_dot import hostile_graph

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402

CNNS = ["lenet5", "alexnet", "vgg16", "resnet18", "unet"]


def _cnn(name):
    f, shape = cnn.MODELS[name]
    return netdraw.trace(f(), (InputSpec(shape),))


def test_tex_filter_neutralises_every_special_character():
    assert tex(r"\ { } $ & # ^ _ % ~") == (r"\textbackslash{} \{ \} \$ \& \# \^{} \_ \% \textasciitilde{}")
    assert tex(r"\input{/etc/passwd}") == r"\textbackslash{}input\{/etc/passwd\}"
    assert tex(r"\write18{rm -rf /}") == r"\textbackslash{}write18\{rm -rf /\}"
    assert tex("1×64×56×56 · layer.0–11 …") == r"1\texttimes{}64\texttimes{}56\texttimes{}56 \textperiodcentered{} layer.0--11 \dots{}"
    assert tex("Zürich 名前\x00\nx") == "Zürich ?? x"
    # nothing a name becomes can contain an unescaped backslash command or brace
    for s in [r"\def\x{}", "}{", "$$", "^^5c"]:
        out = tex(s)
        assert not re.search(r"(?<!\\)[{}$]", out.replace(r"\{", "").replace(r"\}", "").replace("{}", "")), out


def test_style_choice(scoped_cnn):
    assert auto_style(prepare(_cnn("resnet18"), depth="max", roll=False)) == "boxes"
    assert auto_style(prepare(netdraw.load(scoped_cnn), depth="max")) == "boxes"  # a small CNN too
    assert auto_style(prepare(hostile_graph(), depth="max")) == "graph"  # no convolutions
    with pytest.raises(NetdrawError, match="invalid style 'cubes'; valid: auto, boxes, graph"):
        render_bytes(netdraw.load(scoped_cnn), "tex", style="cubes")
    with pytest.raises(NetdrawError, match="the tikz renderer writes tex and pdf, not svg"):
        render_bytes(netdraw.load(scoped_cnn), "svg", renderer="tikz")


def test_golden_boxes_and_graph(scoped_cnn):
    check_golden("lenet5_boxes.tex", render_bytes(_cnn("lenet5"), "tex").decode())
    check_golden("scoped_graph.tex", render_bytes(netdraw.load(scoped_cnn), "tex", style="graph", engine="wasm",
                                                  depth="max").decode())


def test_boxes_structure_of_a_unet():
    text = render_bytes(_cnn("unet"), "tex", preamble=False).decode()
    assert "\\documentclass" not in text and text.rstrip().endswith("\\end{tikzpicture}")
    ys = [float(y) for y in re.findall(r"\\ndbox\{[-\d.]+\}\{([-\d.]+)\}", text)]
    # an encoder-decoder: down five levels (256 -> 16) and back up to the top
    assert ys[0] == 0 and min(ys) == pytest.approx(-1.1 * 4) and ys[-1] == 0
    assert text.count("circle") == 4  # the four concatenations, as balls
    skips = [p for p in re.findall(r"\\draw\[nd link\] (.*);", text) if p.count("--") == 3]
    assert len(skips) == 4  # each encoder level feeds its decoder level, routed above


def _clean(log: str) -> None:
    assert not re.search(r"^! ", log, re.M), re.search(r"^! .*", log, re.M).group()
    assert "Overfull" not in log and "Underfull" not in log
    assert not re.search(r"Missing character", log)


@pytest.mark.tex
@pytest.mark.parametrize("program", ["pdflatex", "lualatex"])
@pytest.mark.parametrize("name", CNNS)
def test_cnn_boxes_compile_cleanly(name, program):
    pdf, log = compile_pdf(render_bytes(_cnn(name), "tex").decode(), program=program)
    assert pdf.startswith(b"%PDF")
    _clean(log)


@pytest.mark.tex
@pytest.mark.transformers
@pytest.mark.parametrize("program", ["pdflatex", "lualatex"])
def test_bert_graph_compiles_cleanly(program):
    from tests.frontends.hf_suite import build

    model, args, kwargs = build("BertModel")
    g = netdraw.trace(model, args, kwargs)
    source = render_bytes(g, "tex")
    assert b"\\node[nd node" in source  # a transformer gets the flowchart style
    pdf, log = compile_pdf(source.decode(), program=program)
    _clean(log)


@pytest.mark.tex
def test_hostile_names_compile_and_print_as_text(tmp_path):
    source = to_tikz(prepare(hostile_graph(), depth="max"), style="graph", engine="wasm")
    source = source.replace("% netdraw", "% names: \\input{/etc/passwd} \\write18{touch pwned}\n% netdraw", 1)
    pdf, log = compile_pdf(source)
    _clean(log)
    assert "/etc/passwd" not in log and not (tmp_path / "pwned").exists()
    (tmp_path / "h.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "h.pdf"), "-"], capture_output=True, text=True).stdout
    assert "digraph evil" in text and "back\\slash\\" in text  # drawn as the characters they are


@pytest.mark.tex
def test_pdf_is_deterministic_and_includable(tmp_path):
    g = _cnn("lenet5")
    a = render_bytes(g, "pdf", renderer="tikz")
    assert a == render_bytes(g, "pdf", renderer="tikz")
    body = render_bytes(g, "tex", preamble=False).decode()
    (tmp_path / "fig.tex").write_text(body)
    paper = ("\\documentclass{article}\\usepackage{tikz}\\usetikzlibrary{arrows.meta}\n"
             "\\begin{document}\\noindent\\resizebox{\\linewidth}{!}{\\input{fig.tex}}\\end{document}\n")
    (tmp_path / "paper.tex").write_text(paper)
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:]


def _with_thumbnails(name):
    from netdraw.frontends.images import ImagePrep, load_image

    f, shape = cnn.MODELS[name]
    import torch

    torch.manual_seed(0)
    prep = ImagePrep(size=shape[2:], grayscale=shape[1] == 1)
    x = torch.from_numpy(load_image(ROOT / "examples" / "images" / "chelsea.jpg", prep))
    return netdraw.trace(f(), (x,), thumbnails={"k": 2, "size": 16})


@pytest.mark.parametrize("style", ["boxes", "graph"])
def test_thumbnails_become_png_files_beside_the_tex(tmp_path, style):
    g = _with_thumbnails("lenet5")
    out = tmp_path / "fig.tex"
    netdraw.render(g, out, style=style, depth="max" if style == "graph" else "auto", max_width=None)
    text = out.read_text()
    included = re.findall(r"\\includegraphics\[[^\]]*\]\{([^}]+)\}", text)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "fig-thumbs").iterdir())
    assert sorted(included) == files
    drawn = prepare(g, depth="max", roll=False) if style == "boxes" else prepare(g, depth="max", max_width=None)
    if style == "boxes":  # the input image and every conv and pool block (the dense bars have none)
        assert len(files) == 1 + sum(k in ("conv2d", "max_pool2d") for k in
                                     (n.meta.get("fold", {}).get("ops", [n.op_type])[0] for n in drawn.nodes))
    else:  # every node with a thumbnail and the input
        assert len(files) == 1 + sum("thumbnail" in n.meta for n in drawn.nodes)
    assert "\\usepackage{graphicx}" in text
    # without thumbnails: no images, no graphicx
    plain = render_bytes(g, "tex", style=style, thumbnails=False).decode()
    assert "includegraphics" not in plain and "graphicx" not in plain


@pytest.mark.tex
@pytest.mark.parametrize("program", ["pdflatex", "lualatex"])
def test_thumbnail_figures_compile_cleanly_with_their_images(tmp_path, program):
    import shutil

    g = _with_thumbnails("resnet18")
    for style in ("boxes", "graph"):
        pdf = tmp_path / f"{style}.pdf"
        pdf.write_bytes(render_bytes(g, "pdf", renderer="tikz", style=style, latex=program))
        source, files = render_files(g, "tex", style=style)
        _clean(compile_pdf(source.decode(), program=program, files=files)[1])
        if shutil.which("pdfimages"):
            listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                                     check=True).stdout
            types = [line.split()[2] for line in listing.splitlines()[2:] if line.strip()]
            assert types.count("image") == len(files)


def test_the_images_folder_name_is_safe_for_latex():
    from netdraw.api import images_folder

    assert images_folder("out/my fig%#{1}.tex") == "my-fig---1--thumbs"
    assert images_folder("fig.tex") == "fig-thumbs"


_NUM = r"(-?[\d.]+)"


def _boxes(tex_src: str) -> list[tuple[float, float, float, float, float]]:
    return [tuple(float(v) for v in m) for m in
            re.findall(r"\\ndbox\{" + r"\}\{".join([_NUM] * 5) + r"\}", tex_src)]  # type: ignore[misc]


@pytest.mark.parametrize("name", ["resnet18", "vgg16"])
def test_boxes_connections_leave_east_faces_and_end_at_west_faces_under_the_blocks(name):
    src = render_bytes(_cnn(name), "tex").decode()
    first_block = re.search(r"\\ndbox\{-?\d", src).start()
    assert src.index(r"\draw[nd link]") < first_block  # drawn first: the blocks hide them
    blocks = _boxes(src)
    easts = {(round(x + w + 0.275 * d, 2), round(y + 0.2 * d, 2)) for x, y, w, h, d in blocks}
    lefts = {round(x, 2): (y - h / 2, y + h / 2) for x, y, w, h, d in blocks}
    straight = re.findall(r"\\draw\[nd link\] \(" + _NUM + ", " + _NUM + r"\) -- \(" + _NUM + ", " + _NUM + r"\);",
                          src)
    assert len(straight) >= 10
    for x0, y0, x1, y1 in ((float(a), float(b), float(c), float(d)) for a, b, c, d in straight):
        if (round(x0, 2), round(y0, 2)) in easts:  # from a block's east face...
            into = lefts.get(round(x1, 2))
            if into is not None:  # ...to a block's west side, within its front face's height
                assert into[0] < y1 < into[1]
    # the height × width labels along a block's left side never sit on the line coming in
    for m in re.finditer(r"rotate=90\] at \(" + _NUM + ", " + _NUM + r"\) \{(.*?)\};$", src, re.M):
        x, mid = float(m.group(1)), float(m.group(2))
        half = (0.12 * len(m.group(3).replace(r"\texttimes{}", "x")) + 0.06) / 2
        for x0, y0, x1, y1 in ((float(a), float(b), float(c), float(d)) for a, b, c, d in straight):
            if abs(float(x1) - x) < 0.01:
                assert not (mid - half - 0.05 < y1 < mid + half + 0.05), (m.group(0), y1)


def test_boxes_fit_a_column_by_wrapping_into_rows():
    g = _cnn("resnet18")
    one = render_bytes(g, "tex").decode()
    right = max(x + w + 0.55 * d for x, y, w, h, d in _boxes(one))
    assert right > 30  # one row: over 30 cm
    fitted = render_bytes(g, "tex", fit="6.9in").decode()
    blocks = _boxes(fitted)
    assert len(blocks) == len(_boxes(one))  # every block still drawn
    assert max(x + w + 0.55 * d for x, y, w, h, d in blocks) <= 6.9 * 2.54
    rows = sorted({round(y, 1) for x, y, w, h, d in blocks if h > 0.5}, reverse=True)
    assert len(rows) >= 3  # wrapped
    assert "nd size" in fitted and r"\fontsize{6}" in fitted  # text stays 6 pt: nothing scaled


def test_wrapped_boxes_snake_back_every_other_row():
    src = render_bytes(_cnn("resnet18"), "tex", fit="6.9in").decode()
    calls = re.findall(r"\\ndbox\{" + r"\}\{".join([_NUM] * 5) + r"\}\{(\w+)\}\{(-?1)\}\{" + _NUM + r"\}", src)
    assert {c[6] for c in calls} == {"1", "-1"}  # rows flowing back are drawn mirrored
    for x, y, w, h, d, _, way, side in calls:
        # the side face is where the flow leaves: right of the front face, or left of it when mirrored
        assert float(side) == pytest.approx(float(x) + (float(w) if way == "1" else 0.0), abs=0.01)
    rows: dict[float, set[str]] = {}
    for x, y, w, h, d, _, way, side in calls:
        rows.setdefault(round(float(y)), set()).add(way)
    assert all(len(ways) == 1 for ways in rows.values())  # one direction per row
