"""The one exception type users see: a one-line message naming the problem."""

from __future__ import annotations

from typing import Iterable

__all__ = ["NetdrawError", "check_choice", "first_line"]


class NetdrawError(Exception):
    """A problem with the user's input or options; ``str()`` is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def check_choice(option: str, value: object, valid: Iterable[object]) -> None:
    """Raise a :class:`NetdrawError` listing the valid choices unless ``value`` is one."""
    valid = tuple(valid)
    if value not in valid:
        raise NetdrawError(f"invalid {option} {value!r}; valid: {', '.join(map(str, valid))}")


def first_line(exc: BaseException, *, limit: int | None = None, kind: bool = False) -> str:
    """The first line of ``exc``'s message (at most ``limit`` characters) for a one-line error;
    the type's name when the message is empty, and in front of it (``ValueError: ...``) with
    ``kind=True``."""
    text = str(exc).strip()
    line = text.splitlines()[0][:limit].strip() if text else ""
    if not line:
        return type(exc).__name__
    return f"{type(exc).__name__}: {line}" if kind else line
