"""The MkDocs hook, through real `mkdocs build` runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ROOT

pytest.importorskip("mkdocs")

PAGE = """# Models

```netdraw
source: models.py:LeNet5
input: 1x1x28x28
depth: max
theme: dark
engine: wasm
```

Some text.

```python
print("other fences are left alone")
```
"""


def _site(tmp_path, page: str, hook: str = "from netdraw.mkdocs import on_page_markdown  # noqa: F401\n"
          ) -> subprocess.CompletedProcess:
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "examples" / "models.py", tmp_path / "models.py")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\nhooks:\n  - hook.py\n")
    (tmp_path / "hook.py").write_text(hook)
    (tmp_path / "docs" / "index.md").write_text(page)
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=tmp_path, capture_output=True,
                          text=True)


def test_netdraw_blocks_become_inline_svg(tmp_path):
    r = _site(tmp_path, PAGE)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert html.count('<div class="netdraw"><svg style="max-width:100%;height:auto"') == 1
    assert "other fences are left alone" in html and "```netdraw" not in html
    svg = html[html.index("<svg"):html.index("</svg>") + 6]
    root = ET.fromstring(svg)
    shapes = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"]
    assert len(shapes) == 10  # LeNet-5's 8 drawn ops (convs folded with their activations), input, output
    assert 'fill="#16181d"' in svg.lower()


def test_a_block_that_cannot_be_drawn_stops_the_build_with_one_line(tmp_path):
    r = _site(tmp_path, "```netdraw\nsource: models.py:Nope\ninput: 1x1x32x32\n```\n")
    assert r.returncode != 0
    assert "netdraw: index.md: " in r.stderr and "Nope" in r.stderr
    (tmp_path / "b").mkdir()
    r2 = _site(tmp_path / "b", "```netdraw\nsource: models.py:LeNet5\ncolour: red\n```\n")
    assert r2.returncode != 0 and "line 2 of a netdraw block" in r2.stderr


def test_format_html_embeds_the_interactive_view(tmp_path):
    from netdraw.renderers.html import runtime_js

    page = "# Views\n\n```netdraw\nsource: models.py:LeNet5\ninput: 1x1x28x28\nformat: html\n```\n"
    r = _site(tmp_path, page, "from netdraw.mkdocs import on_page_markdown, on_post_build  # noqa: F401\n")
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert html.count('<div class="netdraw-view" id="netdraw-view-1" data-netdraw>') == 1
    assert '<script src="assets/netdraw-view.js"></script>' in html and "WASM_B64" not in html
    assert (tmp_path / "site" / "assets" / "netdraw-view.js").read_text() == runtime_js()
