"""Mermaid's real parser for the tests: installed once with npm into ~/.cache/netdraw/mermaidjs.

    python tests/mermaidjs.py      # install (the CI setup runs this)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "renderers" / "mermaidjs"
CACHE = Path(os.environ.get("NETDRAW_CACHE", Path.home() / ".cache" / "netdraw")) / "mermaidjs"


def install() -> Path:
    """npm-install the pinned mermaid and jsdom next to a copy of check.mjs; returns the folder."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stamp = (HERE / "package.json").read_text()
    if (CACHE / "package.json").exists() and (CACHE / "package.json").read_text() == stamp \
            and (CACHE / "node_modules" / "mermaid").is_dir():
        shutil.copy(HERE / "check.mjs", CACHE / "check.mjs")
        return CACHE
    for name in ("package.json", "package-lock.json", "check.mjs"):
        if (HERE / name).exists():
            shutil.copy(HERE / name, CACHE / name)
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=CACHE, check=True)
    return CACHE


def check(*paths: Path) -> list[dict]:
    """Parse each file with mermaid.parse; one dict per file: ok, type, vertices, edges, subgraphs."""
    folder = install()
    r = subprocess.run(["node", str(folder / "check.mjs"), *map(str, paths)], capture_output=True, text=True,
                       timeout=120, cwd=folder)
    out = []
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    if len(out) != len(paths):
        raise RuntimeError(f"mermaid check failed: {r.stderr.strip()[:500]}")
    return out


if __name__ == "__main__":
    print(f"mermaid parser ready in {install()}")
    sys.exit(0)
