"""A reader that stops early (``rnnlab ... | head``) ends the command quietly.

Python raises BrokenPipeError on the next write to a closed pipe, and again when it flushes
stdout at exit; :func:`closed_pipe_safe` runs a command so that neither shows a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

# What a shell reports for a process ended by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141


def closed_pipe_safe(command: Callable[[], int]) -> int:
    """``command()``, with stdout flushed; a closed pipe gives EXIT_BROKEN_PIPE and no traceback."""
    try:
        rc = command()
        sys.stdout.flush()
        return rc
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's own flush at exit cannot fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # stdout is not a real file (a test, a tee)
            pass
        return EXIT_BROKEN_PIPE
