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
