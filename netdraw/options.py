"""Every option, declared once: its name, type or choices, default and help.

The CLI's click options (:func:`click_options`), the Sphinx directive's ``option_spec``
(:func:`sphinx_spec`), the MkDocs hook's keys (:data:`DOC_KEYS`, parsed by :func:`from_words`)
and :func:`netdraw.render`'s checking (``netdraw.api.check_options``) are all made from
:data:`RENDER` and the choice tuples here; the modules that use a choice import it from here.

This module imports nothing of netdraw's but the error type: every layer may read it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Iterable

from netdraw.errors import NetdrawError

__all__ = ["HEADS", "METRICS", "SLIDES", "Option", "RENDER", "BY_NAME", "DOC_KEYS", "FORMATS", "RENDERERS", "ENGINES", "RANKDIRS", "THEME_NAMES",
           "STYLES", "LATEX", "LABEL_FIELDS", "DEFAULT_LABEL", "RANKS", "TOKENS", "CAPTURES", "MODES", "DEVICES", "PHASES",
           "DEFAULT_MAX_NODES", "DEFAULT_MAX_WIDTH", "DEFAULT_LAYOUT_TIMEOUT", "click_options", "sphinx_spec",
           "from_words"]

FORMATS = ("svg", "png", "pdf", "dot", "mermaid", "tex", "json", "html", "drawio", "pptx")
#: how a .pptx splits a figure: one slide, or one slide per top-level module
SLIDES = ("one", "modules")
RENDERERS = ("graphviz", "tikz")
ENGINES = ("auto", "native", "wasm")
RANKDIRS = ("TB", "LR", "BT", "RL")
THEME_NAMES = ("paper", "dark")
STYLES = ("auto", "boxes", "graph")
LATEX = ("pdflatex", "lualatex")
LABEL_FIELDS = ("name", "type", "shape", "params", "flops", "value")
DEFAULT_LABEL = ("name", "type", "shape", "params")
RANKS = ("max", "mean")
TOKENS = ("auto", "matrix", "grid")
CAPTURES = ("eager", "export")
MODES = ("auto", "meta", "fake", "real")
DEVICES = ("cpu", "meta")
PHASES = ("test", "train")  # Caffe's
#: task heads a model built from a config can get (netdraw.frontends.hf)
HEADS = ("base", "causal-lm", "masked-lm", "seq2seq-lm", "seq-cls", "token-cls", "qa", "image-cls",
         "speech-seq2seq")

#: what ``--color-by`` can colour nodes by, besides a file of the user's own values
METRICS = ("params", "macs", "latency", "memory", "activations")

#: the node budget of ``depth="auto"``
DEFAULT_MAX_NODES = 60
#: with ``depth="auto"``, the widest figure (inches at the theme's 10 pt) before a shallower level
#: is tried: scaled to the 6.3 in text width of an A4 page its labels stay at 7 pt or more
DEFAULT_MAX_WIDTH = 9.0
#: seconds Graphviz may spend on one layout before the render stops with a one-line error
DEFAULT_LAYOUT_TIMEOUT = 20.0


@dataclasses.dataclass(frozen=True)
class Option:
    """One option of a diagram.  ``kind``: ``choice``, ``int``, ``float``, ``text``, ``patterns``
    (a list: words in docs), ``rules`` (a list: ``;``-separated in docs) or ``flag``."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    #: the CLI's flag when it is not ``--name`` (``--no-roll`` sets roll=False)
    flag: str | None = None
    #: offered by the Sphinx directive and the MkDocs hook
    docs: bool = True
    metavar: str | None = None

    @property
    def cli(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


RENDER: tuple[Option, ...] = (
    Option("depth", "text", "auto",
           "Collapse modules below this depth: an integer >= 1, 'max' (every op), 'leaves' or 'auto'."),
    Option("max_nodes", "int", DEFAULT_MAX_NODES, "Node budget for --depth auto.", minimum=1),
    Option("max_width", "float", DEFAULT_MAX_WIDTH,
           "For --depth auto: go up a level while the figure is wider (inches).", minimum=0, docs=False),
    Option("fit", "text", None,
           "Fit a paper's column: 3.3in, 6.9in or WIDTHxHEIGHT (in, cm, mm or pt; height 9in when not given), "
           "every text at least 6 pt at that size: picks --rankdir, wraps the flow into rows, shortens labels or "
           "draws less depth, in that order, and says what it chose.", metavar="SIZE"),
    Option("engine", "choice", "auto",
           "Graphviz layout engine: native dot, embedded WebAssembly, or native when on PATH.", ENGINES),
    Option("layout_timeout", "float", DEFAULT_LAYOUT_TIMEOUT,
           "Seconds Graphviz may spend on a layout before the render stops.", minimum=0),
    Option("rankdir", "choice", "TB", "Direction of the flow.", RANKDIRS),
    Option("theme", "choice", "paper",
           "paper: print-friendly, colour-blind-safe; dark: for slides and dark pages.", THEME_NAMES),
    Option("label", "text", ",".join(DEFAULT_LABEL),
           f"What nodes show, comma-separated: {', '.join(LABEL_FIELDS)} (flops: MACs)."),
    Option("fold", "rules", None,
           "Fold chains into one node, e.g. 'Conv > BN > ReLU'; 'default' adds the built-in rules, 'none' "
           "turns folding off (default: the built-in rules).", metavar="RULE"),
    Option("roll", "flag", True, "Draw every repeated block instead of one block ×N.", flag="--no-roll"),
    Option("hide", "patterns", (),
           "Leave out modules or ops matching a path glob or type (e.g. 'Dropout', 'encoder.layer.*.attention').",
           metavar="PATTERN"),
    Option("keep", "patterns", (), "Draw only the modules or ops matching this.", metavar="PATTERN"),
    Option("expand", "patterns", (),
           "Open matching modules one level deeper than --depth ('encoder*' opens all below).", metavar="PATTERN"),
    Option("color_by", "text", None,
           f"Colour nodes by {', '.join(METRICS)} or a JSON/CSV file of module path -> number, with a colour "
           "bar (latency and memory run the model on --input).", metavar="WHAT"),
    Option("repeat", "int", 10, "--color-by latency/memory: measured runs after a warm-up (the median is drawn).",
           minimum=1, docs=False),
    Option("slides", "choice", "one", "--format pptx: one slide, or one slide per top-level module.", SLIDES,
           docs=False),
    Option("renderer", "choice", None,
           "graphviz (svg/png/pdf/dot/mermaid), or tikz: a LaTeX figure (.tex; .pdf compiles it). "
           "Default: tikz for .tex, else graphviz.", RENDERERS),
    Option("style", "choice", "auto",
           "TikZ style: boxes (3D blocks for CNNs), graph (a flowchart of any model); auto picks.", STYLES),
    Option("preamble", "flag", True, "TikZ: write only the tikzpicture, to \\input in a paper.",
           flag="--no-preamble", docs=False),
    Option("latex", "choice", "pdflatex", "TikZ: the program that compiles -o fig.pdf.", LATEX, docs=False),
)

BY_NAME = {o.name: o for o in RENDER}

#: the keys of a ``netdraw`` block in MkDocs (and, with dashes, the Sphinx directive's options)
DOC_KEYS = ("source", "input", "kwarg", *(o.name for o in RENDER if o.docs))


def click_options(names: Iterable[str]) -> Callable[[Any], Any]:
    """A decorator adding the click options of ``names`` (in that order on the help page)."""
    import click

    def decorate(f: Any) -> Any:
        for name in reversed(list(names)):
            o = BY_NAME[name]
            kw: dict[str, Any] = {"help": o.help}
            if o.kind == "flag":
                f = click.option(o.cli, o.name, is_flag=True, flag_value=not o.default, default=o.default,
                                 help=o.help)(f)
                continue
            if o.kind == "choice":
                kw.update(type=click.Choice(o.choices), default=o.default, show_default=o.default is not None)
            elif o.kind == "int":
                kw.update(type=click.IntRange(min=int(o.minimum or 0)), default=o.default, show_default=True)
            elif o.kind == "float":
                kw.update(type=click.FloatRange(min=o.minimum, min_open=True), default=o.default, show_default=True)
            elif o.kind in ("patterns", "rules"):
                kw.update(multiple=True, metavar=o.metavar)
            else:
                kw.update(default=o.default, show_default=o.default is not None)
                if o.metavar:
                    kw["metavar"] = o.metavar
            f = click.option(o.cli, o.name, **kw)(f)
        return f
    return decorate


def from_words(name: str, text: str) -> Any:
    """An option's value from the text a docs page gives it (``hide: a b``, ``fold: A > B; C``,
    ``max_nodes: 40``, ``roll: false``), checked as the CLI checks it."""
    o = BY_NAME.get(name)
    if o is None:
        raise NetdrawError(f"unknown option {name!r}; valid: {', '.join(DOC_KEYS)}")
    text = text.strip()
    if o.kind == "patterns":
        return [w for w in re.split(r"[\s,]+", text) if w]
    if o.kind == "rules":
        return [r.strip() for r in text.split(";") if r.strip()]
    if o.kind == "flag":
        return text.lower() not in ("false", "no", "0", "off")
    if o.kind in ("int", "float"):
        try:
            value = int(text) if o.kind == "int" else float(text)
        except ValueError:
            raise NetdrawError(f"invalid {name} {text!r}; valid: a number") from None
        if o.minimum is not None and value < o.minimum:
            raise NetdrawError(f"invalid {name} {text!r}; valid: a number >= {o.minimum:g}")
        return value
    if o.kind == "choice" and text not in o.choices:
        raise NetdrawError(f"invalid {name} {text!r}; valid: {', '.join(o.choices)}")
    return text


def sphinx_spec(directives: Any) -> dict[str, Any]:
    """The directive's ``option_spec`` entries for the render options (dashes for underscores; a
    flag that defaults to True is ``:no-name:``)."""
    spec: dict[str, Any] = {}
    for o in RENDER:
        if not o.docs:
            continue
        if o.kind == "flag":
            spec[o.cli.lstrip("-")] = directives.flag
        elif o.kind == "choice":
            spec[o.cli.lstrip("-")] = (lambda choices: lambda a: directives.choice(a, choices))(o.choices)
        elif o.kind == "int":
            spec[o.cli.lstrip("-")] = directives.positive_int
        else:
            spec[o.cli.lstrip("-")] = directives.unchanged
    return spec
