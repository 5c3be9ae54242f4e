"""The FFT-style EUNN of Jing et al. (2017): log2 N butterfly layers of 2x2 unitary rotations.

Layer k rotates the pairs (j, j + 2^k) for every j whose bit k is 0 (the butterfly pattern
of the FFT), with the same 2-parameter rotation as the tunable EUNN's brick layers
(``givens``), then a diagonal phase. N log2 N + N parameters for N a power of two; for other N
a pair whose partner j + 2^k lies beyond N is left out, so a layer may rotate fewer than N/2 pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, log2

from rnnlab.capacity.factors import Diagonal, Factor
from rnnlab.capacity.rotations import GivensLayer


def butterfly_pairs(n: int, stride: int) -> list[tuple[int, int]]:
    return [(j, j + stride) for j in range(n) if not j & stride and j + stride < n]


@dataclass(frozen=True)
class ButterflyLayer(GivensLayer):
    """A :class:`GivensLayer` on the butterfly pairs (j, j + stride)."""

    stride: int = 1

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return butterfly_pairs(self.n, self.stride)


def fft_layers(n: int) -> int:
    return max(ceil(log2(n)), 1) if n > 1 else 1


def eunn_fft_factors(n: int, layers: int) -> list[Factor]:
    depth = fft_layers(n)
    rot = [ButterflyLayer(n, f"B{k + 1}", stride=1 << (k % depth)) for k in range(layers)]
    return [Diagonal(n, "D")] + list(reversed(rot))
