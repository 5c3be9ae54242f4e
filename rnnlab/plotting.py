"""Small helpers shared by the figure functions (which return Figures and choose no backend)."""

from __future__ import annotations

import math
from collections.abc import Iterable


def integer_ticks(ax, values: Iterable[float], axis: str = "x") -> list[int]:
    """Put ticks of an axis over integers (N, steps t) at integers written plainly: "4", not
    "4x10^0". On a log axis they are 1, 2, 5 x 10^k inside the data's range (the data's own
    values when that leaves fewer than three); on a linear axis the values, thinned to about
    eight. Returns the ticks."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    values = sorted({int(round(v)) for v in values if v > 0 or axis == "x"})
    target = ax.xaxis if axis == "x" else ax.yaxis
    log = (ax.get_xscale() if axis == "x" else ax.get_yscale()) == "log"
    ticks = values
    if log and values:
        lo, hi = values[0], values[-1]
        decades = range(int(math.floor(math.log10(max(lo, 1)))), int(math.log10(max(hi, 1))) + 1)
        nice = [m * 10**k for k in decades for m in (1, 2, 5) if lo <= m * 10**k <= hi]
        if len(nice) >= 3:
            ticks = nice
    if len(ticks) > 10:
        ticks = ticks[:: -(-len(ticks) // 8)]
    target.set_major_locator(FixedLocator(ticks))
    target.set_minor_locator(NullLocator())
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{int(round(v))}"))
    return ticks
