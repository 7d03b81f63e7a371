"""The real Netron web app in headless Chromium, for the export tests.

    python tests/netronjs.py      # npm-install puppeteer-core (the CI setup runs this)

Netron (PyPI ``netron``) serves its web app and the model on 127.0.0.1; puppeteer-core drives
Debian's ``chromium`` (no browser download); ``check.mjs`` reports the page's state.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "exporters" / "netronjs"
CACHE = Path(os.environ.get("NETDRAW_CACHE", Path.home() / ".cache" / "netdraw")) / "netronjs"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def install() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    stamp = (HERE / "package.json").read_text()
    fresh = (CACHE / "package.json").exists() and (CACHE / "package.json").read_text() == stamp \
        and (CACHE / "node_modules" / "puppeteer-core").is_dir()
    shutil.copy(HERE / "check.mjs", CACHE / "check.mjs")
    if not fresh:
        shutil.copy(HERE / "package.json", CACHE / "package.json")
        env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"}
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=CACHE, check=True, env=env)
    return CACHE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_date() -> str:
    import netron

    index = Path(netron.__file__).with_name("index.html").read_text(encoding="utf-8")
    m = re.search(r'<meta name="date" content="([^"]+)"', index)
    return m.group(1) if m else ""


def open_in_netron(path: Path) -> dict:
    """Serve ``path`` with Netron on 127.0.0.1 and report what headless Chromium shows."""
    import netron

    folder = install()
    port = _free_port()
    netron.serve(str(path), None, address=("127.0.0.1", port), browse=False)
    try:
        env = {**os.environ, "CHROMIUM": chromium() or "chromium"}
        r = subprocess.run(["node", str(folder / "check.mjs"), f"http://127.0.0.1:{port}/", build_date()],
                           capture_output=True, text=True, timeout=180, cwd=folder, env=env)
    finally:
        netron.stop(("127.0.0.1", port))
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"netron check failed: {r.stderr.strip()[-800:]}")
    return json.loads(lines[-1])


if __name__ == "__main__":
    print(f"puppeteer-core ready in {install()}")
    sys.exit(0)
