"""Colours and fonts for each op category, as data."""

from __future__ import annotations

from typing import NamedTuple

from netdraw.ops import CATEGORIES

__all__ = ["Style", "Theme", "THEMES"]


class Style(NamedTuple):
    fill: str
    border: str


class Theme(NamedTuple):
    name: str
    font: str
    background: str
    text: str
    muted: str
    edge: str
    cluster_border: str
    cluster_fill: str
    styles: dict[str, Style]


# Borders from the Okabe-Ito colour-blind-safe palette, fills as light tints of them.
_PAPER = {
    "input": Style("#EEEEEE", "#555555"),
    "output": Style("#EEEEEE", "#555555"),
    "module": Style("#E8EEF6", "#3D5A80"),
    "conv": Style("#D3E8F7", "#0072B2"),
    "linear": Style("#FBE0CC", "#D55E00"),
    "norm": Style("#D5EFE6", "#009E73"),
    "activation": Style("#FDF0CF", "#E69F00"),
    "softmax": Style("#FDF0CF", "#E69F00"),
    "pool": Style("#DDEFFB", "#56B4E9"),
    "resize": Style("#DDEFFB", "#56B4E9"),
    "attention": Style("#F4DDEA", "#CC79A7"),
    "embedding": Style("#F4DDEA", "#CC79A7"),
    "recurrent": Style("#F4DDEA", "#CC79A7"),
    "dropout": Style("#FFFFFF", "#AAAAAA"),
    "merge": Style("#F0F0F0", "#666666"),
    "elementwise": Style("#F7F7F7", "#888888"),
    "reshape": Style("#FFFFFF", "#AAAAAA"),
    "constant": Style("#FFFFFF", "#BBBBBB"),
    "control": Style("#FBE3DE", "#B03A2E"),
    "quantize": Style("#F7F7F7", "#888888"),
    "other": Style("#FFFFFF", "#777777"),
}
assert set(_PAPER) == set(CATEGORIES), set(CATEGORIES) ^ set(_PAPER)

THEMES: dict[str, Theme] = {
    "paper": Theme(
        name="paper",
        font="Helvetica,Arial,sans-serif",
        background="white",
        text="#1A1A1A",
        muted="#555555",
        edge="#4D4D4D",
        cluster_border="#9AA5B1",
        cluster_fill="#FAFBFC",
        styles=_PAPER,
    ),
}
