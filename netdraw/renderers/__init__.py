"""The back ends: each turns a prepared graph into one format, with keyword-only options.

``scene`` (what a diagram shows, format-independent), ``dot`` and ``engine`` (Graphviz: the one
module that runs it), ``layout`` (Graphviz's coordinates for other back ends), ``tikz`` and
``latex`` (LaTeX figures; the one module that runs pdflatex), ``mermaid``, ``mpl`` (a matplotlib
Axes), ``thumbs`` (activation pictures), ``notebook`` (Jupyter), ``theme`` and ``escape`` (one
escaping filter per format).  Choosing the depth, fitting the page and writing files is
:mod:`netdraw.api`'s work; nothing here imports it.
"""
