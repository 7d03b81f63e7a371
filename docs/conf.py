"""Sphinx configuration of netdraw's docs; the gallery's diagrams are drawn by netdraw.sphinx at build time."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))                   # gallery_models.py
sys.path.insert(0, str(HERE.parent / "examples"))  # models.py

project = "netdraw"
extensions = ["netdraw.sphinx"]
netdraw_fail_on_error = True  # a gallery diagram that cannot be drawn is a bug
exclude_patterns = ["_build"]
html_theme = "alabaster"
