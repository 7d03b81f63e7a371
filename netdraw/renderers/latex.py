"""The one module that runs LaTeX: a TikZ document to PDF with pdflatex or lualatex."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from netdraw.errors import NetdrawError, check_choice

__all__ = ["LATEX", "compile_pdf", "latex_available"]

from netdraw.options import LATEX  # noqa: E402  (declared with every option)
_INSTALL = "install TeX Live (e.g. apt-get install texlive-latex-base texlive-pictures texlive-latex-extra)"


def latex_available(program: str = "pdflatex") -> bool:
    return shutil.which(program) is not None


def compile_pdf(source: str, *, program: str = "pdflatex", timeout: float = 300,
                files: dict[str, bytes] | None = None) -> tuple[bytes, str]:
    """Compile a standalone document; returns the PDF and the log.  The same source gives the
    same bytes (SOURCE_DATE_EPOCH pins the dates and the document ID).  A LaTeX error is one line.
    ``files`` (relative path -> bytes) are written beside the document first (its images)."""
    check_choice("latex", program, LATEX)
    exe = shutil.which(program)
    if exe is None:
        raise NetdrawError(f"{program} is not on PATH; {_INSTALL}, or write a .tex file")
    with tempfile.TemporaryDirectory(prefix="netdraw-tex-") as tmp:
        (Path(tmp) / "figure.tex").write_text(source, encoding="utf-8")
        for rel, data in (files or {}).items():
            target = (Path(tmp) / rel).resolve()
            if Path(tmp).resolve() not in target.parents:
                raise NetdrawError(f"refusing to write {rel!r} outside the LaTeX folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1", "openout_any": "p",
               "shell_escape": "f"}
        try:
            r = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                                "figure.tex"], cwd=tmp, env=env, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise NetdrawError(f"{program} took longer than {timeout:.0f} s") from None
        log_path = Path(tmp) / "figure.log"
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        pdf = Path(tmp) / "figure.pdf"
        if r.returncode != 0 or not pdf.exists():
            m = re.search(r"^! (.*)$", log, re.M)
            raise NetdrawError(f"{program} failed: {m.group(1) if m else f'exit code {r.returncode}'}")
        return pdf.read_bytes(), log
