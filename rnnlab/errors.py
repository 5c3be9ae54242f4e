"""Errors that mean "the user asked for something we cannot do".

The CLI turns a :class:`UsageError` into one line on stderr and exit status 2; every other
exception is a bug and keeps its traceback.
"""

import numbers


class UsageError(ValueError):
    """Bad input from the user (a size, a name, a file): reported in one line, exit 2."""


def check_int(value, what: str, minimum: int = 1) -> int:
    """``value`` if it is an integer (a bool is not) of at least ``minimum``; else a
    :class:`UsageError` naming ``what``, e.g. "n must be a positive integer, got 0"."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        bound = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        raise UsageError(f"{what} must be {bound}, got {value!r}")
    return value
