"""netdraw's interactive pages in headless Chromium, for the HTML tests.

puppeteer-core (installed by ``tests/netronjs.py``, which the CI setup runs) drives Debian's
``chromium``; ``renderers/htmljs/drive.mjs`` opens a page from ``file://``, runs steps (script
calls, clicks, keys) and reports the results, console errors and every request the page made.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.netronjs import chromium, install

DRIVER = Path(__file__).resolve().parent / "renderers" / "htmljs" / "drive.mjs"


def firefox() -> str | None:
    return shutil.which("firefox-esr") or shutil.which("firefox")


def drive(page: Path, steps: list[dict[str, Any]], *, hash: str = "", allow: Path | None = None,
          browser: str = "chromium") -> dict[str, Any]:
    """Open ``page`` in headless Chromium and run ``steps`` (see ``drive.mjs``); ``allow``: a
    folder whose files the page may load (a docs site's runtime), every other request is refused
    and reported."""
    folder = install()
    shutil.copy(DRIVER, folder / "drive.mjs")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(steps, fh)
    try:
        env = {**os.environ, "CHROMIUM": chromium() or "chromium", "HASH": hash,
               "ALLOW_FILES": Path(allow).resolve().as_uri() + "/" if allow else "",
               "FIREFOX": (firefox() or "firefox") if browser == "firefox" else ""}
        r = subprocess.run(["node", str(folder / "drive.mjs"), str(Path(page).resolve()), fh.name],
                           capture_output=True, text=True, timeout=300, cwd=folder, env=env)
    finally:
        os.unlink(fh.name)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"the page driver failed: {r.stderr.strip()[-1500:]}")
    return json.loads(lines[-1])
