"""One-line errors: the choice check and the first line of a foreign exception."""

from __future__ import annotations

import pytest

from netdraw.errors import NetdrawError, check_choice, first_line


def test_first_line_of_an_exception():
    assert first_line(ValueError("bad shape\n  at line 3\n")) == "bad shape"
    assert first_line(ValueError("  \n\n")) == "ValueError"  # no message: the type names it
    assert first_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("x" * 500), limit=120) == "x" * 120
    assert first_line(RuntimeError("mat1 and mat2\nmore"), kind=True) == "RuntimeError: mat1 and mat2"
    assert first_line(OSError(""), kind=True) == "OSError"


def test_a_netdraw_error_is_one_line_and_lists_valid_choices():
    assert str(NetdrawError("a\n  b\tc")) == "a b c"
    with pytest.raises(NetdrawError, match=r"^invalid format 'gif'; valid: svg, png$"):
        check_choice("format", "gif", ("svg", "png"))
    check_choice("format", "svg", ("svg", "png"))
