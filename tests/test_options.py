"""Each option is declared once (netdraw.options); the CLI, Sphinx, MkDocs and render() are made from it."""

from __future__ import annotations

import pytest

from netdraw import options
from netdraw.errors import NetdrawError


def test_the_cli_render_command_has_every_declared_option_with_its_choices_and_default():
    from netdraw.cli import render

    params = {p.name: p for p in render.params}
    for o in options.RENDER:
        p = params[o.name]
        assert o.cli in p.opts
        if o.kind == "choice":
            assert tuple(p.type.choices) == o.choices
        if o.kind not in ("patterns", "rules"):
            assert p.default == o.default, o.name


def test_sphinx_and_mkdocs_offer_the_docs_options_and_render_checks_them_all():
    pytest.importorskip("sphinx")
    from netdraw.api import OPTIONS
    from netdraw.mkdocs import _KEYS
    from netdraw.sphinx import NetdrawDirective

    docs = {o.cli.lstrip("-") for o in options.RENDER if o.docs}
    assert docs <= set(NetdrawDirective.option_spec)
    assert not {o.cli.lstrip("-") for o in options.RENDER if not o.docs} & set(NetdrawDirective.option_spec)
    assert _KEYS == {"source", "input", "kwarg"} | {o.name for o in options.RENDER if o.docs}
    assert {o.name for o in options.RENDER} <= set(OPTIONS)
    for o in options.RENDER:
        if o.name not in ("label", "renderer"):  # label as a tuple; renderer: graphviz unless a .tex asks
            assert OPTIONS[o.name] == o.default, o.name


def test_the_modules_use_the_declared_choices():
    from netdraw.analysis import reduce
    from netdraw.frontends import pytorch
    from netdraw.renderers import engine, latex, scene, theme, tikz

    assert engine.ENGINES is options.ENGINES and latex.LATEX is options.LATEX and tikz.STYLES is options.STYLES
    assert scene.RANKDIRS is options.RANKDIRS and tuple(theme.THEMES) == options.THEME_NAMES
    assert reduce.RANKS is options.RANKS and pytorch.MODES is options.MODES


@pytest.mark.parametrize("name, text, value", [
    ("hide", "a.b, c  d", ["a.b", "c", "d"]), ("fold", "Conv > BN; Add > Relu", ["Conv > BN", "Add > Relu"]),
    ("max_nodes", "40", 40), ("roll", "no", False), ("roll", "yes", True), ("layout_timeout", "2.5", 2.5),
    ("theme", "dark", "dark"),
])
def test_docs_values_are_parsed_from_words(name, text, value):
    assert options.from_words(name, text) == value


@pytest.mark.parametrize("name, text, message", [
    ("theme", "neon", "invalid theme 'neon'; valid: paper, dark"), ("max_nodes", "0", "valid: a number >= 1"),
    ("max_nodes", "many", "valid: a number"), ("colour", "x", "unknown option 'colour'; valid: source, input"),
])
def test_bad_docs_values_are_one_line(name, text, message):
    with pytest.raises(NetdrawError, match=message):
        options.from_words(name, text)
