"""Levels found as a lattice in values written well off them.

Values written a little off their levels fall in groups (``level_groups``), up to a sixth
of the step between levels. Written further off (each contour's level plus up to a third
of a step of noise), the groups touch, yet the values still gather about points a step
apart: their spectrum (the histogram's Fourier transform) peaks at one cycle a step, and
the peak's phase places the points. Each value's level is then the point it lies nearest.
Random values and values spread evenly have no such peak; values written exactly on a
step are read as written already.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_POWER", "lattice_of", "lattice_starts"]

# The peak's height (the mean of the values' phasors at that frequency): noise of a third
# of a step either way leaves 0.5, of 0.38 a step 0.25.
MIN_POWER = 0.25
_NOISE = 4.0  # the peak stands this many times above random values' (1 / sqrt(n))
_BINS = 1 << 15  # histogram bins over the values' range (most levels: a step of 8 bins)
_REFINE = 33  # frequencies tried about the peak, within one bin of the transform
_SAMPLE = 2048  # values the lattice is found in at most
_SCALLOP = 0.6
_SHARP = 3.0  # the peak over the median power from half its frequency to twice it
_TAIL = 100  # the lowest and highest 1/_TAIL of the values (decoys far off) not binned


def lattice_of(values: np.ndarray, most: int) -> tuple[float, float] | None:
    """The lattice (step, a point of it) the values gather about, where at most ``most``
    steps span them; None where their spectrum has no clear peak."""
    values = values[np.isfinite(values)]
    if values.size > _SAMPLE:  # at random: values taken evenly by rank are evenly spread
        values = np.random.default_rng(0).choice(values, _SAMPLE, replace=False)
    ordered = np.sort(values)
    n = ordered.size
    if n < 8:
        return None
    low, high = ordered[n // _TAIL], ordered[n - 1 - n // _TAIL]
    span = float(high - low)
    if span <= 0:
        return None
    inside = ordered[(ordered >= low) & (ordered <= high)]
    bins = np.minimum(((inside - low) / span * _BINS).astype(np.int64), _BINS - 1)
    power = np.abs(np.fft.rfft(np.bincount(bins, minlength=_BINS))) / inside.size
    # Three levels at least: below, a skewed spread of values (areas) peaks as well.
    top = min(most, _BINS // 8)
    if top < 3:
        return None
    cycles = 3 + int(np.argmax(power[3 : top + 1]))
    # A lattice peaks at each multiple of its frequency as well: the lowest as high is it.
    for divisor in (2, 3, 5, 7):
        while (
            cycles % divisor == 0
            and cycles // divisor >= 3
            and power[cycles // divisor] >= 0.9 * power[cycles]
        ):
            cycles //= divisor
    # A peak between two bins shows at 2/pi of its height in either: measured after.
    needed = max(MIN_POWER, _NOISE / np.sqrt(inside.size))
    if power[cycles] < _SCALLOP * needed:
        return None
    # A lattice's peak is sharp; a skewed spread of values (lengths, areas) has power at
    # every low frequency, falling slowly: the peak stands well above its neighbourhood.
    # Its median by partition: ``np.median`` loads ``numpy.ma``, which a small check spares.
    around = power[max(3, cycles // 2) : 2 * cycles + 1]
    if power[cycles] < _SHARP * np.partition(around, around.size // 2)[around.size // 2]:
        return None
    tried = (cycles + np.linspace(-1.0, 1.0, _REFINE)) / span  # cycles per unit
    centred = inside - low  # phases measured from the lowest value: no precision lost
    phasors = np.exp(2j * np.pi * tried[:, None] * centred[None, :]).mean(axis=1)
    best = int(np.argmax(np.abs(phasors)))
    if np.abs(phasors[best]) < needed:
        return None
    step = 1.0 / float(tried[best])
    point = float(low) + float(np.angle(phasors[best])) / (2 * np.pi) * step
    return step, point


def lattice_starts(
    lattice: tuple[float, float], low: float, high: float, most: int
) -> np.ndarray | None:
    """Where each level of the lattice starts (half a step below its point), over the
    values from ``low`` to ``high``; None where more than ``most`` levels span them."""
    step, point = lattice
    first = np.floor((low - point) / step + 0.5)
    last = np.floor((high - point) / step + 0.5)
    if last - first + 1 > most:
        return None
    return point + (np.arange(first, last + 1) - 0.5) * step
