"""The ``netdraw`` command line: bad input is one line on stderr and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
import os
import re
import shutil
import signal
import sys
from typing import Any, Sequence

import click

from netdraw._io import check_not_read, guarding_reads, note_read, write_with_files
from netdraw.analysis.figures import check_figure_path
from netdraw.api import format_for, image_prep, images_folder, load, load_options, parse_depth, render_files
from netdraw.errors import NetdrawError, first_line
from netdraw.frontends.images import ImagePrep
from netdraw.frontends.pytorch_source import is_spec
from netdraw.ir import format_shape
from netdraw.options import CAPTURES, DEVICES, FORMATS, HEADS, METRICS, MODES, PHASES, RANKS, RENDER, TOKENS, click_options
from netdraw.passes.fold import parse_rules
from netdraw.progress import reporting
from netdraw.renderers.dot import format_count, parse_label
from netdraw.version import __version__


__all__ = ["main", "run", "natural_key"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netdraw")
def main() -> None:
    """Diagrams of neural networks from PyTorch modules and ONNX files."""


def _check_not_input(output: str, *sources: str | None) -> None:
    """Refuse, before any slow work, an OUTPUT that names a file the command reads: a model file,
    the ``.py`` of a ``file.py:factory``, an input tensor or image (the frontends note the rest,
    such as a module's file or external data, and every write checks them)."""
    from netdraw.frontends.pytorch_source import spec_file

    for source in sources:
        if source:
            note_read(spec_file(source) or source)
    check_not_read(output)


def _input_files(src: dict[str, Any]) -> list[str]:
    """What ``--input`` and ``--kwarg NAME=SPEC`` name (shapes among them are harmless)."""
    return [*src.get("inputs", ()), *(item.partition("=")[2] for item in src.get("kwargs", ()))]


def image_options(f):
    """How an image file given as an input becomes a tensor (see netdraw.frontends.images)."""
    f = click.option("--grayscale", is_flag=True, help="Image input: one grey channel.")(f)
    f = click.option("--nhwc", is_flag=True, help="Image input: channels last (NHWC) instead of NCHW.")(f)
    f = click.option("--bgr", is_flag=True, help="Image input: BGR channel order (OpenCV-trained models).")(f)
    f = click.option("--pixel-range", type=click.Choice(("1", "255")), default="1", show_default=True,
                     help="Image input: pixels scaled to 0..1 before mean/std, or kept in 0..255.")(f)
    f = click.option("--std", default=None, metavar="S[,S,S]",
                     help="Image input: per-channel std (default ImageNet's 0.229,0.224,0.225).")(f)
    f = click.option("--mean", default=None, metavar="M[,M,M]",
                     help="Image input: per-channel mean (default ImageNet's 0.485,0.456,0.406; 0 skips).")(f)
    f = click.option("--resize", type=click.Choice(("crop", "stretch")), default="crop", show_default=True,
                     help="Image input: resize the shorter side and centre-crop, or stretch.")(f)
    f = click.option("--image-size", default=None, metavar="N|HxW",
                     help="Image input: size fed to the model (default: the model's fixed input size, else 224).")(f)
    return f


def source_options(f):
    """The options every command that reads a model takes (PyTorch sources use them)."""
    f = click.option("--trust", is_flag=True,
                     help="Allow unpickling: a pickled nn.Module .pt, pickled members of a .pt2 "
                          "(runs code from the file).")(f)
    f = click.option("--device", type=click.Choice(DEVICES), default=None,
                     help="Build a file.py:factory model on this device; meta allocates no weights.")(f)
    f = click.option("--mode", type=click.Choice(MODES), default=None,
                     help="Run on meta/fake tensors (shapes only) or for real; auto falls back as needed.")(f)
    f = click.option("--capture", type=click.Choice(CAPTURES), default=None,
                     help="Record the run eagerly (default) or through torch.export.")(f)
    f = click.option("--kwarg", "kwargs", multiple=True, metavar="NAME=SPEC",
                     help="A keyword input, e.g. input_ids=1x16:int64.")(f)
    f = click.option("--head", type=click.Choice(HEADS), default=None,
                     help="A config or model folder: build the model with this task head (default: the "
                          "config's architectures, else the base model).")(f)
    f = image_options(f)
    f = click.option("--stage", "stages", multiple=True, metavar="NAME",
                     help="Caffe: a stage of the net state (include/exclude rules with stage/not_stage).")(f)
    f = click.option("--phase", type=click.Choice(PHASES), default=None,
                     help="Caffe: the layers of this phase (include/exclude rules); default test.")(f)
    f = click.option("--input", "inputs", multiple=True, metavar="SPEC",
                     help="An example input: a shape such as 1x3x224x224[:dtype], a .pt/.npy file, or an "
                          "image file (.jpg/.png...: resized and normalised, see --image-size, --mean, --std).")(f)
    return f


def thumbnail_options(f):
    """Options of the activation-thumbnail run (render, export)."""
    f = click.option("--tokens", type=click.Choice(TOKENS), default="auto", show_default=True,
                     help="Thumbnails of token sequences: a TxD matrix, or a grid of tokens when their count is square.")(f)
    f = click.option("--cmap", default="viridis", show_default=True,
                     help="Thumbnails: a matplotlib colormap (viridis, magma, cividis, gray...).")(f)
    f = click.option("--rank", type=click.Choice(RANKS), default="max", show_default=True,
                     help="Thumbnails: rank channels by their max or mean activation.")(f)
    f = click.option("--top-k", type=click.IntRange(1, 64), default=4, show_default=True,
                     help="Thumbnails: how many channels each node shows.")(f)
    f = click.option("--thumb-size", type=click.IntRange(2, 256), default=64, show_default=True,
                     help="Thumbnails: each map at most this many pixels (points) on its longer side, or its own "
                          "size when smaller; the input image twice that.")(f)
    f = click.option("--projections", is_flag=True,
                     help="Show on each convolution its top-k maps projected to pixels (deconvnet); PyTorch models.")(f)
    f = click.option("--thumbnails", is_flag=True,
                     help="Run the model on --input (e.g. an image) and show each node's output as a thumbnail.")(f)
    return f


def _load_source(source: str, measure: int | None = None, **src: Any):
    graph = load(source, measure=measure, **load_options(**src))
    for notice in graph.meta.get("notices", []):
        click.echo(f"netdraw: notice: {notice}", err=True)
    return graph


def _load_traced(source: str, **src: Any):
    """(graph, model, args, kwargs) of a PyTorch model given as file.py:factory or package.module:factory."""
    from netdraw.frontends.pytorch_source import is_spec, load_traced

    if not is_spec(source):
        raise NetdrawError(f"{source}: give the model as file.py:factory or package.module:factory")
    return load_traced(source, **load_options(**src))


@main.command()
@click.argument("source")
@click.option("-o", "--output", required=True, help="Output file; '-' writes to stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the suffix of OUTPUT; svg for stdout).")
@click_options(o.name for o in RENDER)  # declared once, in netdraw.options
@thumbnail_options
@source_options
def render(source: str, output: str, fmt: str | None, depth: str, max_nodes: int, max_width: float,
           fit: str | None, engine: str, layout_timeout: float, rankdir: str, theme: str, label: str, fold: tuple[str, ...],
           roll: bool, hide: tuple[str, ...], keep: tuple[str, ...], expand: tuple[str, ...],
           color_by: str | None, repeat: int, slides: str, renderer: str | None, style: str, preamble: bool,
           latex: str, thumbnails: bool, projections: bool, top_k: int, rank: str, cmap: str, tokens: str,
           thumb_size: int, **src: Any) -> None:
    """Render the model in SOURCE to a diagram.

    SOURCE is an .onnx file, netdraw's .json IR, a PyTorch model as file.py:factory or
    package.module:factory, a TorchScript .pt or a torch.export .pt2 file.
    """
    fmt = format_for(output, fmt)
    _check_not_input(output, source, *_input_files(src))
    options = dict(depth=depth, max_nodes=max_nodes, max_width=max_width, fit=fit, engine=engine,
                   layout_timeout=layout_timeout, rankdir=rankdir,
                   theme=theme, label=label, fold=list(fold) if fold else None, roll=roll, hide=hide,
                   keep=keep, expand=expand, renderer=renderer or ("tikz" if fmt == "tex" else "graphviz"),
                   style=style, preamble=preamble, latex=latex, cmap=cmap, color_by=color_by, slides=slides)
    _check_options(options)  # before a possibly slow capture
    if color_by in ("latency", "memory"):
        if thumbnails or projections:
            raise NetdrawError(f"--color-by {color_by} and --thumbnails/--projections are separate runs; "
                               "ask for one at a time")
        src["measure"] = repeat
    elif color_by is not None and color_by not in METRICS:
        note_read(color_by)  # a file of the user's values: read, never written
    if thumbnails:
        src["thumbnails"] = {"k": top_k, "rank": rank, "tokens": tokens, "bgr": src.get("bgr", False),
                             "size": thumb_size}
    if projections:
        graph = _with_projections(source, top_k, src)
        if not fold:
            options["fold"] = ["none"]  # a folded Conv-BN-ReLU would show its ReLU's output
    else:
        graph = _load_source(source, **src)
    folder = None if output == "-" else images_folder(output)
    data, files = render_files(graph, fmt, images=folder, **options)
    write_with_files(output, data, files)


def _with_projections(source: str, k: int, src: dict[str, Any]):
    """A capture of a PyTorch model with deconvnet projections on its convolutions."""
    from netdraw.analysis.deconv import attach_projections

    if len(src.get("inputs") or ()) != 1:
        raise NetdrawError("--projections needs one --input (an image or a tensor file)")
    graph, model, args, _ = _load_traced(source, **src)
    attach_projections(graph, model, args[0], k=k)
    return graph


def _check_options(options: dict[str, Any]) -> None:
    from netdraw.renderers.thumbs import check_cmap

    check_cmap(options["cmap"])
    parse_depth(options["depth"])
    parse_label(options["label"])
    parse_rules(options["fold"])


@main.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--describe", is_flag=True,
              help="Print the model in one sentence (its parts, parameters, inputs and outputs), as alt text.")
@click.option("--by-module", is_flag=True,
              help="A table of every module: ops, parameters, MACs, activation bytes (and measured latency and "
                   "memory with --measure or --sort latency|memory).")
@click.option("--sort", type=click.Choice(("order", *METRICS)), default="order", show_default=True,
              help="--by-module: sort the rows by this column (largest first).")
@click.option("--top", type=click.IntRange(min=1), default=None, help="--by-module: only this many rows.")
@click.option("--measure", is_flag=True, help="--by-module: run the model on --input to measure latency and memory.")
@click.option("--repeat", type=click.IntRange(min=1), default=10, show_default=True,
              help="--measure: timed runs after a warm-up (medians are shown).")
@source_options
def inspect(source: str, as_json: bool, describe: bool, by_module: bool, sort: str, top: int | None,
            measure: bool, repeat: int, **src: Any) -> None:
    """Print a summary of the model in SOURCE: nodes, parameters, ops, inputs and outputs."""
    if sort in ("latency", "memory"):
        measure = True
    if (measure or sort != "order" or top) and not by_module:
        raise NetdrawError("--sort, --top and --measure go with --by-module")
    graph = _load_source(source, measure=repeat if measure else None, **src)
    if by_module:
        _module_rows(graph, sort, top, as_json)
        return
    if describe:
        from netdraw.api import describe as sentence

        click.echo(sentence(graph))
        return
    summary = graph.summary()
    if as_json:
        if graph.meta.get("checkpoint"):
            summary["checkpoint"] = graph.meta["checkpoint"]
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    click.echo(_table(graph.name, graph.meta, summary))


def _module_rows(graph: Any, sort: str, top: int | None, as_json: bool) -> None:
    from netdraw.passes.flops import count_flops
    from netdraw.passes.overlay import module_table

    count_flops(graph)
    rows = module_table(graph)
    if sort != "order":
        rows = sorted(rows[1:], key=lambda r: -(r[sort] or 0))
    if top:
        rows = rows[:top]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from netdraw.renderers.scene import format_value

    measured = any(r["latency"] is not None for r in rows)
    cols = ["module", "type", "ops", "params", "MACs", "activations"] + (["latency", "memory"] if measured else [])
    table = []
    for r in rows:
        name = ("  " * r["depth"] if sort == "order" else "") + r["path"]
        cells = [name, r["type"], f"{r['ops']:,}", format_count(r["params"]), format_count(r["macs"]),
                 format_value(r["activations"], "B")]
        if measured:
            cells += ["" if r["latency"] is None else format_value(r["latency"], "ms"),
                      "" if r["memory"] is None else format_value(r["memory"], "B")]
        table.append(cells)
    widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    click.echo("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths))).rstrip())
    for t in table:
        click.echo("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(t, widths))).rstrip())
    if measured:
        cost = graph.meta.get("cost", {})
        click.echo(f"end to end: {format_value(cost.get('latency_ms', 0.0), 'ms')} (median of {cost.get('repeat')} "
                   "runs); module times include their submodules")


def _checkpoint_lines(c: dict[str, Any]) -> list[str]:
    lines = [f"file     {c['format']}: {c['tensors']:,} tensors, {c['params']:,} parameters"]
    for dtype, d in c["dtypes"].items():
        size = f", {_bytes(d['bytes'])}" if d.get("bytes") else ""
        lines.append(f"  {dtype:<14} {d['tensors']:>6,} tensors {d['params']:>16,} params{size}")
    for label in ("missing", "unexpected", "mismatched"):
        if c.get(label):
            lines.append(f"{label:<8} {len(c[label]):,}: " + ", ".join(c[label][:5]) + (" …" if len(c[label]) > 5 else ""))
    for k, v in list(c["metadata"].items())[:40]:
        lines.append(f"meta     {k} = {v}")
    return lines


def _bytes(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def _table(name: str, meta: dict[str, Any], s: dict[str, Any]) -> str:
    lines = [f"model    {name}"]
    src = meta.get("source", {})
    if src:
        how = src.get("format", "?")
        if src.get("capture"):
            how += f", {src['capture']} capture on {src.get('mode')} tensors"
        lines.append(f"source   {src.get('path', '')} ({how})")
    if meta.get("producer"):
        lines.append(f"producer {meta['producer']}")
    lines.append(f"nodes    {s['nodes']} ({s['nodes_total']} with subgraphs)")
    lines.append(f"params   {s['params']:,} ({format_count(s['params'])})")
    for kind in ("inputs", "outputs"):
        for i, v in enumerate(s[kind]):
            head = kind if i == 0 else ""
            lines.append(f"{head:<8} {v['name']}: {v['dtype'] or '?'}{format_shape(v['shape'])}")
    lines.append("ops")
    width = max((len(k) for k in s["ops"]), default=0)
    for op, count in sorted(s["ops"].items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {op:<{width}} {count}")
    if meta.get("checkpoint"):
        lines.extend(_checkpoint_lines(meta["checkpoint"]))
    for w in meta.get("warnings", []):
        lines.append(f"warning  {w}")
    return "\n".join(lines)


def _torch_model(source: str):
    """A PyTorch model from file.py:factory / package.module:factory (or an ONNX file's predictor)."""
    from netdraw.frontends.pytorch_source import is_spec, load_module

    if is_spec(source):
        return load_module(source)
    raise NetdrawError(f"{source}: give the model as file.py:factory or package.module:factory")


def _input_tensor(text: str, prep: ImagePrep, model: Any = None):
    """The analyses' input as a real tensor; an image has as many channels as ``model``'s first
    convolution takes."""
    from netdraw.frontends.pytorch_source import input_hint, parse_input

    hint = input_hint(model) if hasattr(model, "modules") else None
    x = parse_input(text, prep, shape=hint)
    if not hasattr(x, "dim"):
        raise NetdrawError(f"{text}: the analyses need a real input (an image or a .npy/.pt tensor), not a shape")
    return x if x.dim() == 4 else x.reshape(1, *x.shape) if x.dim() == 3 else x


@main.command()
@click.argument("source")
@click.option("--input", "input_", required=True, metavar="IMAGE|TENSOR", help="The image (or .npy/.pt tensor) to occlude.")
@click.option("-o", "--output", required=True, help="The figure: .png, .svg or .pdf.")
@click.option("--target", type=int, default=None, help="The class whose probability is mapped (default: the top one).")
@click.option("--window", type=click.IntRange(min=1), default=16, show_default=True, help="Occluder size in pixels.")
@click.option("--stride", type=click.IntRange(min=1), default=8, show_default=True, help="Occluder step in pixels.")
@click.option("--fill", type=float, default=0.0, show_default=True,
              help="Occluder value in the model's input space (0 = the mean after normalisation).")
@click.option("--layer", default=None, help="Also map the summed activation of this module's strongest map.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--arrays", default=None, metavar="DIR", help="Also write the maps as .npy files into DIR.")
@image_options
def occlude(source: str, input_: str, output: str, target: int | None, window: int, stride: int, fill: float,
            layer: str | None, batch_size: int, arrays: str | None, **img: Any) -> None:
    """Occlusion sensitivity of the model in SOURCE (file.py:factory or .onnx) on one image."""
    from netdraw.analysis.figures import occlusion_figure
    from netdraw.analysis.occlusion import occlusion, onnx_predictor

    check_figure_path(output)
    _check_not_input(output, source, input_)
    prep = image_prep(**img)
    if source.lower().endswith(".onnx"):
        if not os.path.isfile(source):
            raise NetdrawError(f"{source}: no such file")
        if layer:
            raise NetdrawError("--layer needs a PyTorch model (a module to hook)")
        model = onnx_predictor(source)
    else:
        model = _torch_model(source)
    x = _input_tensor(input_, prep, model)
    res = occlusion(model, x, target=target, window=window, stride=stride, fill=fill, layer=layer,
                    batch_size=batch_size)
    occlusion_figure(res, x.numpy(), output)
    if arrays:
        _write_arrays(arrays, res.arrays())
    click.echo(f"{output}: class {res.target} p={res.probability:.4f}; lowest occluded p="
               f"{float(res.probability_map.min()):.4f} ({len(res.rows)}×{len(res.cols)} positions)", err=True)


def _write_arrays(folder: str, arrays: dict[str, Any]) -> None:
    import io

    import numpy as np

    os.makedirs(folder, exist_ok=True)
    for name, a in arrays.items():
        buf = io.BytesIO()
        np.save(buf, a)
        write_with_files(os.path.join(folder, f"{name}.npy"), buf.getvalue(), {})


@main.command()
@click.argument("source")
@click.option("--layer", required=True, help="The module whose activation is projected.")
@click.option("--input", "input_", default=None, metavar="IMAGE|TENSOR", help="One image: project its strongest activation.")
@click.option("--images", default=None, metavar="DIR|N.npy",
              help="A folder of images or an (N, C, H, W) .npy array: project the top activations over them.")
@click.option("--channel", type=int, default=None, help="The feature map (default: the strongest).")
@click.option("--top", type=click.IntRange(1, 64), default=9, show_default=True, help="With --images: how many.")
@click.option("--rule", type=click.Choice(("deconvnet", "guided")), default="deconvnet", show_default=True)
@click.option("-o", "--output", required=True, help="The figure: .png, .svg or .pdf.")
@image_options
def deconv(source: str, layer: str, input_: str | None, images: str | None, channel: int | None, top: int, rule: str,
           output: str, **img: Any) -> None:
    """Deconvnet projections of a layer's activations back to pixels (Zeiler & Fergus)."""
    from netdraw.analysis.deconv import project, top_activations
    from netdraw.analysis.figures import projection_grid

    if (input_ is None) == (images is None):
        raise NetdrawError("give one of --input (one image) or --images (a folder or .npy array)")
    check_figure_path(output)
    _check_not_input(output, source, input_, images)
    prep = image_prep(**img)
    model = _torch_model(source)
    if input_ is not None:
        x = _input_tensor(input_, prep, model)
        p = project(model, x, layer, channel, rule=rule)
        projection_grid([p.pixels], output, titles=[f"{layer} map {p.channel} at {p.position}: {p.value:.3g}"],
                        patches=[x[0].numpy()], cols=1)
        return
    batch = _image_batch(images, prep)
    if channel is None:
        channel = project(model, batch[:1], layer, rule=rule).channel
    best = top_activations(model, batch, layer, channel, k=top)
    projs = [project(model, batch[i:i + 1], layer, channel, pos, rule=rule) for i, _, pos in best]
    projection_grid([p.pixels for p in projs], output, titles=[f"#{i} {v:.3g}" for i, v, _ in best],
                    patches=[batch[i].numpy() for i, _, _ in best])


def _image_batch(images: str, prep: ImagePrep):
    import numpy as np
    import torch

    from netdraw.frontends.images import is_image, load_image

    if images.endswith(".npy"):
        try:
            a = np.load(images, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise NetdrawError(f"{images}: not a numpy array file ({exc})") from None
        if a.ndim != 4:
            raise NetdrawError(f"{images}: expected an (N, C, H, W) array, got shape {a.shape}")
        return torch.from_numpy(a.astype(np.float32))
    if not os.path.isdir(images):
        raise NetdrawError(f"{images}: neither a folder of images nor a .npy file")
    files = sorted(f for f in os.listdir(images) if is_image(f))
    if not files:
        raise NetdrawError(f"{images}: no image files in it")
    return torch.from_numpy(np.concatenate([load_image(os.path.join(images, f), prep) for f in files]))


@main.command()
@click.argument("checkpoints", nargs=-1, required=True)
@click.option("--model", "source", required=True, help="file.py:factory building the model the checkpoints fit.")
@click.option("--layer", required=True, help="The module whose feature maps are followed.")
@click.option("--images", required=True, metavar="DIR|N.npy", help="Where to look for each map's strongest activation.")
@click.option("--channels", default=None, metavar="C,C,...", help="The maps (rows); default: the strongest in the last checkpoint.")
@click.option("-n", "count", type=click.IntRange(1, 64), default=8, show_default=True, help="How many maps by default.")
@click.option("--shared-scale", is_flag=True, help="One scale per row instead of one per cell.")
@click.option("-o", "--output", required=True, help="The grid: .png, .svg or .pdf.")
@click.option("--gif", default=None, help="Also an animated GIF, one frame per checkpoint.")
@image_options
def evolve(checkpoints: tuple[str, ...], source: str, layer: str, images: str, channels: str | None, count: int,
           shared_scale: bool, output: str, gif: str | None, **img: Any) -> None:
    """Feature evolution over training: rows are feature maps, columns CHECKPOINTS (state_dict files)."""
    from netdraw.analysis.evolution import evolution, load_checkpoint
    from netdraw.analysis.figures import evolution_figure, evolution_gif
    from netdraw.frontends.pytorch_source import load_module

    check_figure_path(output)
    _check_not_input(output, source, *checkpoints, images)
    if gif:
        _check_not_input(gif, source, *checkpoints, images)
    # epoch-2.pt before epoch-10.pt, whatever order the shell's glob gave
    checkpoints = tuple(sorted(checkpoints, key=natural_key))
    for c in checkpoints:
        if not os.path.isfile(c):
            raise NetdrawError(f"{c}: no such checkpoint file")
    prep = image_prep(**img)
    models = [load_checkpoint(lambda: load_module(source), c) for c in checkpoints]
    chans = None
    if channels:
        try:
            chans = [int(c) for c in channels.split(",")]
        except ValueError:
            raise NetdrawError(f"invalid --channels {channels!r}; expected integers separated by commas") from None
    evo = evolution(models, _image_batch(images, prep), layer, channels=chans, n=count,
                    labels=[os.path.splitext(os.path.basename(c))[0] for c in checkpoints])
    evolution_figure(evo, output, shared_scale=shared_scale)
    if gif:
        evolution_gif(evo, gif, shared_scale=shared_scale)


def natural_key(path: str) -> list[Any]:
    """``epoch-10.pt`` after ``epoch-2.pt``: digit runs compare as numbers.

    >>> sorted(["e10.pt", "e2.pt", "e1.pt"], key=natural_key)
    ['e1.pt', 'e2.pt', 'e10.pt']
    """
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"([0-9]+)", path) if part]


@main.command("export")
@click.argument("source")
@click.option("-o", "--output", required=True, help="The ONNX file to write.")
@click.option("--depth", "fdepth", type=click.IntRange(min=0), default=None,
              help="Modules down to this depth become ONNX local functions (default: all; 0: none).")
@click.option("--weights", is_flag=True, help="Store the weights (PyTorch sources; default: shapes only, a small file).")
@source_options
def export_cmd(source: str, output: str, fdepth: int | None, weights: bool, **src: Any) -> None:
    """Export SOURCE as ONNX for Netron: the module hierarchy as nested local functions,
    every edge typed, metadata on every node."""
    from netdraw.exporters.onnx import export

    if not output.lower().endswith(".onnx"):
        raise NetdrawError(f"{output}: the export is an ONNX file; name it .onnx")
    _check_not_input(output, source, *_input_files(src))
    state = None
    from netdraw.frontends.pytorch_source import is_spec

    if weights and not source.lower().endswith(".onnx"):
        if src.get("trust") or not is_spec(source):
            raise NetdrawError("--weights takes a model given as file.py:factory")
        graph, model, _, _ = _load_traced(source, **src, locations=True)
        state = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    else:
        torch_source = is_spec(source) or source.endswith((".pt", ".pth"))
        graph = _load_source(source, **src, locations=torch_source)  # Netron shows where each op was called
    is_onnx = graph.meta.get("source", {}).get("format") == "onnx"
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = export(graph, output, depth=fdepth, weights=state, source=source if is_onnx else None)
    for w in caught:
        click.echo(f"netdraw: notice: {w.message}", err=True)
    click.echo(f"{path}: {len(graph.nodes)} ops", err=True)


@main.command()
@click.argument("source")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--depth", "fdepth", type=click.IntRange(min=0), default=None, help="As for export.")
@source_options
def view(source: str, port: int, fdepth: int | None, **src: Any) -> None:
    """Serve SOURCE's ONNX export with Netron on 127.0.0.1 (needs: pip install netron)."""
    import tempfile

    from netdraw.exporters.onnx import export

    try:
        import netron
    except ImportError:
        raise NetdrawError("netdraw view needs Netron (pip install netron); or open an export "
                           "(netdraw export SOURCE -o model.onnx) at https://netron.app") from None
    graph = _load_source(source, **src)
    is_onnx = graph.meta.get("source", {}).get("format") == "onnx"
    # the file's name is ours, never the model's (a graph named '../../x' must not pick the path),
    # and the folder goes when view stops
    folder = tempfile.mkdtemp(prefix="netdraw-view-")
    signal.signal(signal.SIGTERM, _exit_on_signal)  # a plain kill stops the server as Ctrl-C does
    try:
        path = export(graph, os.path.join(folder, "model.onnx"), depth=fdepth, source=source if is_onnx else None)
        address = netron.start(str(path), address=("127.0.0.1", port), browse=False)
        host, port_ = address if isinstance(address, tuple) else ("127.0.0.1", port)
        click.echo(f"http://{host}:{port_}")
        netron.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_DIFF_OPTIONS = ("theme", "rankdir", "label", "engine", "layout_timeout", "fold", "hide", "keep", "renderer", "style")


@main.command()
@click.argument("before")
@click.argument("after")
@click.option("-o", "--output", required=True, help="Output file; '-' writes to stdout (json: the diff as data).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the suffix of OUTPUT; svg for stdout).")
@click.option("--exit-code", is_flag=True, help="Exit with 1 when the models differ (as git diff --exit-code).")
@click.option("--model", "model", default=None, metavar="SPEC",
              help="BEFORE and AFTER are checkpoints of this model (file.py:factory): colour each module by "
                   "its relative weight change.")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="Weights: list the modules that changed most.")
@click_options(_DIFF_OPTIONS)
@source_options
def diff(before: str, after: str, output: str, fmt: str | None, exit_code: bool, model: str | None, top: int,
         theme: str, rankdir: str, label: str, engine: str, layout_timeout: float, fold: tuple[str, ...],
         hide: tuple[str, ...], keep: tuple[str, ...], renderer: str | None, style: str, **src: Any) -> None:
    """Compare two models: what was added, removed or changed (structure, shapes, parameters).

    BEFORE and AFTER are any sources netdraw reads; two checkpoints of one architecture (two
    .safetensors/.pt/.bin files, or --model file.py:factory) are compared weight by weight."""
    from netdraw.api import diff as compare, diff_bytes
    from netdraw.frontends.checkpoint import is_checkpoint

    fmt = format_for(output, fmt)
    _check_not_input(output, before, after, *_input_files(src))
    options = dict(theme=theme, rankdir=rankdir, label=label, engine=engine, layout_timeout=layout_timeout,
                   fold=list(fold) if fold else None, hide=hide, keep=keep,
                   renderer=renderer or ("tikz" if fmt == "tex" else "graphviz"), style=style)
    parse_label(label)
    weights = model is not None or all(is_checkpoint(Path(p)) or Path(p).suffix in (".pt", ".pth")
                                       for p in (before, after))
    if weights:
        data, differ = _weights_diff(before, after, model, top, fmt, options, src)
    else:
        d = compare(_load_either(before, src), _load_either(after, src))
        data, differ = diff_bytes(d, fmt, **options), not d.equal
        if fmt != "json":
            ops = d.ops
            click.echo(f"netdraw: {ops['added']} ops added, {ops['removed']} removed, {ops['changed']} changed; "
                       f"params {d.params[0]:,} → {d.params[1]:,}", err=True)
    write_with_files(output, data, {})
    if exit_code and differ:
        raise click.exceptions.Exit(1)


def _load_either(source: str, src: dict[str, Any]):
    """One side of a diff: the source options as given, less the inputs an ONNX file does not take."""
    from netdraw.frontends import find

    if not is_spec(source) and Path(source).exists() and find(source).name == "onnx":
        src = {**src, "inputs": ()}
    return _load_source(source, **src)


def _weights_diff(before: str, after: str, model: str | None, top: int, fmt: str, options: dict[str, Any],
                  src: dict[str, Any]) -> tuple[bytes, bool]:
    from netdraw.analysis.weights import attach_changes, weight_changes

    for p in (before, after):
        note_read(p)
    changes = weight_changes(before, after, trust=src.get("trust", False))
    graph = _load_source(model if model is not None else before, **src)
    ranked = attach_changes(graph, changes, top=top)
    differ = any(dw2 > 0 for dw2, _ in changes.values())
    for i, r in enumerate(ranked, 1):
        click.echo(f"netdraw: {i}. {r['module'] or '(model)'}: ‖ΔW‖/‖W‖ = {r['change']:.4g}", err=True)
    if fmt == "json":
        return (json.dumps({"changed": differ, "top": ranked}, indent=2) + "\n").encode("utf-8"), differ
    from netdraw.api import render_files

    options.update(roll=False)  # every block keeps its own change
    return render_files(graph, fmt, images=None, **options)[0], differ


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 2 bad input, 1 internal error)."""
    try:
        with guarding_reads(), reporting():
            rc = main.main(args=list(argv) if argv is not None else None, prog_name="netdraw",
                           standalone_mode=False)
        if isinstance(rc, int) and rc:  # click returns an Exit's code in this mode (diff --exit-code)
            return rc
    except NetdrawError as exc:
        click.echo(f"netdraw: error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("netdraw: aborted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"netdraw: error: {' '.join(exc.format_message().split())}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug in netdraw: still one line unless asked for the traceback
        if os.environ.get("NETDRAW_DEBUG"):
            raise
        click.echo(f"netdraw: internal error: {first_line(exc, kind=True)} "
                   "(set NETDRAW_DEBUG=1 for the traceback)", err=True)
        return 1
    return 0


def entry() -> None:
    sys.exit(run())

