"""Escaping of model-supplied names: one filter per output format.

Names in models are hostile data.  Every renderer passes every name it writes
through the filter for its format, and nothing else:

* :func:`dot_id`   -- a Graphviz ID (always quoted, reversible, no backslashes or quotes);
* :func:`dot_label` -- a quoted Graphviz label of one or more lines (HTML-like labels are
  avoided: the WebAssembly Graphviz is built without them);
* :func:`xml`      -- text in SVG/XML/HTML element content or attribute values;
* :func:`mermaid_text`, :func:`mermaid_id` -- Mermaid labels and node IDs;
* :func:`tex`      -- text in LaTeX/TikZ (the Jinja2 filter ``tex`` of the TikZ templates).
"""

from __future__ import annotations

import re

__all__ = ["dot_id", "dot_label", "xml", "mermaid_text", "mermaid_id", "tex", "shorten"]

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.:/\-]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def dot_id(name: str) -> str:
    """A quoted DOT ID; any character outside ``[A-Za-z0-9.:/-]`` becomes ``_hex_``."""
    return '"' + _ID_UNSAFE.sub(lambda m: f"_{ord(m.group()):x}_", name) + '"'


def xml(text: str) -> str:
    """XML-escaped text with control characters removed (they are invalid in XML 1.0)."""
    text = _CONTROL.sub("", str(text))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def dot_label(*lines: str) -> str:
    """A quoted DOT label: lines escaped (``&``, ``\\``, ``"``), joined by ``\\n``, none empty first."""
    out = []
    for line in lines:
        line = _CONTROL.sub("", re.sub(r"[\r\n\t]+", " ", str(line)))
        # Graphviz decodes HTML entities in plain labels too, so '&' is written as '&amp;'
        out.append(line.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"'))
    while out and not out[0].strip():  # a label starting with an empty line traps the wasm engine
        out.pop(0)
    return '"' + "\\n".join(out) + '"'


def shorten(text: str, *, limit: int = 40) -> str:
    """Cut ``text`` to ``limit`` characters with an ellipsis in the middle."""
    text = str(text)
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: (keep + 1) // 2] + "\u2026" + text[len(text) - keep // 2:]


_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 .,:;/+=×–·()\[\]_\-…']")
_MERMAID_ID_UNSAFE = re.compile(r"[^A-Za-z0-9]")


def mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: every character outside a small safe set (quotes, ``#``,
    ``<``, ``>``, ``&``, backticks, ``*``, non-ASCII...) as a ``#NNN;`` entity code, so no name can
    close the string, start HTML or markdown, or break the line."""
    text = _CONTROL.sub("", re.sub(r"[\r\n\t]+", " ", str(text)))
    return "".join(c if _MERMAID_SAFE.fullmatch(c) else f"#{ord(c)};" for c in text)


def mermaid_id(name: str) -> str:
    """A Mermaid node ID: letters and digits, anything else as ``_hex_`` (never a keyword: the
    raw IDs netdraw passes start with a prefix such as ``n:``)."""
    return _MERMAID_ID_UNSAFE.sub(lambda m: f"_{ord(m.group()):x}_", name)


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "|": r"\textbar{}", '"': r"\textquotedbl{}", "[": "{[}", "]": "{]}",
}
#: characters outside ASCII that pdflatex (utf8 inputenc, T1 fonts) and lualatex both set
_TEX_TEXT = {"×": r"\texttimes{}", "–": "--", "·": r"\textperiodcentered{}", "…": r"\dots{}",
             "—": "---", "’": "'"}


def tex(text: str) -> str:
    """Text for a LaTeX document, safe in any argument: the ten special characters (and ``< > |
    " [ ]``) escaped, so no name can run a command (``\\input``, ``\\write18``) or open a group;
    Latin letters kept; any other character, control characters included, written as ``?``."""
    out = []
    for c in _CONTROL.sub("", re.sub(r"[\r\n\t]+", " ", str(text))):
        if c in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[c])
        elif c in _TEX_TEXT:
            out.append(_TEX_TEXT[c])
        elif " " <= c <= "~" or ("\u00c0" <= c <= "\u00ff" and c not in "\u00d7\u00f7"):
            out.append(c)
        else:
            out.append("?")
    return "".join(out)
