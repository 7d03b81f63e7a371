"""Colours and fonts for each op category, as data."""

from __future__ import annotations

from typing import NamedTuple

from netdraw.ops import CATEGORIES
from netdraw.options import THEME_NAMES

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

# The same hues on a dark ground: deep fills, the Okabe-Ito colours (lightened) as borders.
_DARK = {
    "input": Style("#2E2E2E", "#BBBBBB"),
    "output": Style("#2E2E2E", "#BBBBBB"),
    "module": Style("#243447", "#8FB3E0"),
    "conv": Style("#0F3550", "#56A8E0"),
    "linear": Style("#4A2712", "#F08A4B"),
    "norm": Style("#0E3B2E", "#3CC49A"),
    "activation": Style("#45340C", "#F2B53A"),
    "softmax": Style("#45340C", "#F2B53A"),
    "pool": Style("#143A4F", "#7CC8F0"),
    "resize": Style("#143A4F", "#7CC8F0"),
    "attention": Style("#47243A", "#E29BC4"),
    "embedding": Style("#47243A", "#E29BC4"),
    "recurrent": Style("#47243A", "#E29BC4"),
    "dropout": Style("#262626", "#777777"),
    "merge": Style("#333333", "#AAAAAA"),
    "elementwise": Style("#2B2B2B", "#999999"),
    "reshape": Style("#262626", "#777777"),
    "constant": Style("#262626", "#666666"),
    "control": Style("#4A1F1A", "#E5786B"),
    "quantize": Style("#2B2B2B", "#999999"),
    "other": Style("#262626", "#999999"),
}
assert set(_DARK) == set(CATEGORIES), set(CATEGORIES) ^ set(_DARK)

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
    "dark": Theme(
        name="dark",
        font="Helvetica,Arial,sans-serif",
        background="#16181D",
        text="#E8E8E8",
        muted="#A8A8A8",
        edge="#9A9A9A",
        cluster_border="#4F5B69",
        cluster_fill="#1F232A",
        styles=_DARK,
    ),
}

assert tuple(THEMES) == THEME_NAMES, "a theme's name is declared in netdraw.options"
