"""The one exception type users see: a one-line message naming the problem."""

from __future__ import annotations

from typing import Iterable

__all__ = ["NetdrawError", "check_choice"]


class NetdrawError(Exception):
    """A problem with the user's input or options; ``str()`` is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def check_choice(option: str, value: object, valid: Iterable[object]) -> None:
    """Raise a :class:`NetdrawError` listing the valid choices unless ``value`` is one."""
    valid = tuple(valid)
    if value not in valid:
        raise NetdrawError(f"invalid {option} {value!r}; valid: {', '.join(map(str, valid))}")
