"""Figures of the Zeiler & Fergus analyses with matplotlib: occlusion panels, projection grids,
the evolution grid and its animated GIF.  Files are deterministic (no dates, fixed SVG ids)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from netdraw.errors import NetdrawError

__all__ = ["check_figure_path", "display_image", "projection_image", "occlusion_figure", "projection_grid", "evolution_figure",
           "evolution_gif", "save"]

_FORMATS = (".png", ".svg", ".pdf")


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise NetdrawError("figures need matplotlib (pip install matplotlib)") from None
    return plt


def display_image(x: np.ndarray) -> np.ndarray:
    """An input tensor (C, H, W) as an (H, W, 3) image in [0, 1]: its own range stretched (the
    normalisation the model saw is undone up to scale)."""
    a = np.asarray(x, np.float32)
    if a.ndim == 4:
        a = a[0]
    lo, hi = float(a.min()), float(a.max())
    a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    a = np.moveaxis(a, 0, -1)
    return np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a[:, :, :3]


def projection_image(p: np.ndarray, scale: float | None = None) -> np.ndarray:
    """A projection (C, H, W) as an (H, W, 3) image: zero is mid-grey, ``scale`` (default: its own
    largest magnitude) is white/black, as Zeiler & Fergus show their reconstructions."""
    a = np.asarray(p, np.float32)
    s = scale if scale is not None else float(np.abs(a).max())
    a = a / (2 * s) + 0.5 if s > 0 else np.full_like(a, 0.5)
    a = np.clip(np.moveaxis(a, 0, -1), 0, 1)
    return np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a[:, :, :3]


def check_figure_path(path: str | Path) -> str:
    """The figure format of ``path`` from its suffix (png, svg or pdf), or a one-line error."""
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise NetdrawError(f"cannot tell the figure format from {str(path)!r}; use .png, .svg or .pdf")
    return suffix


def save(fig: Any, path: str | Path) -> None:
    """Save a matplotlib figure atomically; the format comes from the suffix (png, svg, pdf)."""
    from netdraw._io import write_atomic

    plt = _plt()
    try:
        suffix = check_figure_path(path)
    except NetdrawError:
        plt.close(fig)
        raise
    import matplotlib

    buf = io.BytesIO()
    meta = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
            "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}[suffix[1:]]
    with matplotlib.rc_context({"svg.hashsalt": "netdraw", "pdf.compression": 6}):
        fig.savefig(buf, format=suffix[1:], dpi=150, bbox_inches="tight", metadata=meta)
    plt.close(fig)
    write_atomic(path, buf.getvalue())


def occlusion_figure(result: Any, x: np.ndarray, path: str | Path, *, classes: Sequence[str] | None = None) -> None:
    """The image, the layer's activation map (with one), the target's probability map, the most
    probable label per position, and the attribution over the image."""
    plt = _plt()
    img = display_image(x)
    name = (lambda i: classes[i] if classes and 0 <= i < len(classes) else str(i))
    panels = ["image"] + (["activation"] if result.activation_map is not None else []) + ["probability", "label",
                                                                                        "attribution"]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.4 * len(panels), 2.6))
    h, w = img.shape[:2]
    # each map cell sits at its window's centre
    half = result.window / 2
    extent = (result.cols[0] + half - result.stride / 2, result.cols[-1] + half + result.stride / 2,
              result.rows[-1] + half + result.stride / 2, result.rows[0] + half - result.stride / 2)
    for ax, panel in zip(axes, panels):
        ax.set_xticks([])
        ax.set_yticks([])
        if panel == "image":
            ax.imshow(img)
            ax.set_title(f"{name(result.label)} ({result.probability:.2f})", fontsize=9)
        elif panel == "activation":
            ax.imshow(result.activation_map, cmap="viridis", extent=extent)
            ax.set_title(f"{result.layer} map {result.channel}", fontsize=9)
        elif panel == "probability":
            im = ax.imshow(result.probability_map, cmap="magma", vmin=0, vmax=1, extent=extent)
            ax.set_title(f"p({name(result.target)})", fontsize=9)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        elif panel == "label":
            labels = result.label_map
            uniq = sorted(set(labels.ravel().tolist()))
            ax.imshow(np.searchsorted(uniq, labels), cmap="tab20", vmin=0, vmax=19, extent=extent,
                      interpolation="nearest")
            for r, rr in enumerate(result.rows):
                for c, cc in enumerate(result.cols):
                    if labels.size <= 100:
                        ax.text(cc + half, rr + half, name(int(labels[r, c])), ha="center", va="center", fontsize=6)
            ax.set_title("most probable label", fontsize=9)
        else:
            ax.imshow(img.mean(axis=2), cmap="gray")
            lim = float(np.abs(result.attribution).max()) or 1.0
            ax.imshow(result.attribution, cmap="RdBu_r", vmin=-lim, vmax=lim, alpha=0.6)
            ax.set_title("attribution", fontsize=9)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
    fig.suptitle(f"occluder {result.window}×{result.window}, stride {result.stride}, fill {result.fill:g}",
                 fontsize=9)
    save(fig, path)


def projection_grid(projections: Sequence[np.ndarray], path: str | Path, *, titles: Sequence[str] = (),
                    patches: Sequence[np.ndarray] = (), cols: int = 3) -> None:
    """Projections in a grid (each on its own scale), optionally each beside its image patch."""
    plt = _plt()
    n = len(projections)
    if n == 0:
        raise NetdrawError("nothing to draw")
    rows = -(-n // cols)
    per = 2 if patches else 1
    fig, axes = plt.subplots(rows, cols * per, figsize=(1.3 * cols * per, 1.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for i, p in enumerate(projections):
        r, c = divmod(i, cols)
        ax = axes[r][c * per]
        ax.imshow(projection_image(p), interpolation="nearest")
        if i < len(titles):
            ax.set_title(titles[i], fontsize=7)
        if patches:
            axes[r][c * per + 1].imshow(display_image(patches[i]), interpolation="nearest")
    save(fig, path)


def evolution_figure(evo: Any, path: str | Path, *, shared_scale: bool = False) -> None:
    """Rows: features; columns: checkpoints.  ``shared_scale``: one scale per row (how strong a
    feature became), else each cell on its own."""
    plt = _plt()
    rows, cols = evo.cells.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(1.0 * cols + 0.6, 1.0 * rows + 0.4), squeeze=False)
    for i in range(rows):
        scale = float(np.abs(evo.cells[i]).max()) if shared_scale else None
        for j in range(cols):
            ax = axes[i][j]
            ax.imshow(projection_image(evo.cells[i, j], scale), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(evo.labels[j], fontsize=8)
            if j == 0:
                ax.set_ylabel(f"map {evo.channels[i]}", fontsize=7)
    save(fig, path)


def evolution_gif(evo: Any, path: str | Path, *, shared_scale: bool = False, zoom: int = 4,
                  duration_ms: int = 700) -> None:
    """An animated GIF: one frame per checkpoint, the features side by side."""
    from PIL import Image

    from netdraw._io import write_atomic

    rows, cols = evo.cells.shape[:2]
    frames = []
    for j in range(cols):
        tiles = []
        for i in range(rows):
            scale = float(np.abs(evo.cells[i]).max()) if shared_scale else None
            tiles.append(projection_image(evo.cells[i, j], scale))
        gap = np.ones((tiles[0].shape[0], 1, 3), np.float32)
        strip = np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], axis=1)
        img = Image.fromarray(np.rint(strip * 255).astype(np.uint8), "RGB")
        frames.append(img.resize((img.width * zoom, img.height * zoom), Image.NEAREST))
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    write_atomic(path, buf.getvalue())
