"""Progress on stderr: a status line when stderr is a terminal and the work is long, nothing otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from netdraw import progress
from tests.passes.test_elide import chain


def _chain_file(tmp_path):
    import netdraw

    path = tmp_path / "chain.json"
    netdraw.render(chain(20000), path)
    return path


def _run_on_a_terminal(args, cwd, env):
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "netdraw", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env={**os.environ, **env})
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(timeout=120), seen.decode("utf-8", "replace")


def test_a_long_render_on_a_terminal_shows_its_steps_and_erases_them(tmp_path):
    src = _chain_file(tmp_path)
    code, seen = _run_on_a_terminal(["render", src.name, "-o", "out.svg"], tmp_path, {"NETDRAW_PROGRESS_DELAY": "0"})
    assert code == 0
    assert "\rnetdraw: reading chain.json (" in seen
    assert "\rnetdraw: preparing the diagram (20,000 ops) (" in seen
    assert "\rnetdraw: laying out " in seen
    last = seen.rsplit("\r", 2)
    assert last[-1] == "" and set(last[-2]) == {" "}  # the line is blanked at the end


def test_nothing_is_shown_when_stderr_is_not_a_terminal(tmp_path):
    src = _chain_file(tmp_path)
    res = subprocess.run([sys.executable, "-m", "netdraw", "render", src.name, "-o", "out.svg"], cwd=tmp_path,
                         capture_output=True, env={**os.environ, "NETDRAW_PROGRESS_DELAY": "0"})
    assert res.returncode == 0 and res.stderr == b""


def test_a_quick_command_shows_nothing_before_the_delay(tmp_path):
    src = _chain_file(tmp_path)
    code, seen = _run_on_a_terminal(["inspect", src.name], tmp_path, {"NETDRAW_PROGRESS_DELAY": "60"})
    assert code == 0 and "netdraw:" not in seen


def test_step_outside_a_command_does_nothing():
    progress.step("anything")  # no status line is active: no error, no output
