"""Errors that mean "the user asked for something we cannot do".

The CLI turns a :class:`UsageError` into one line on stderr and exit status 2; every other
exception is a bug and keeps its traceback.
"""


class UsageError(ValueError):
    """Bad input from the user (a size, a name, a file): reported in one line, exit 2."""
