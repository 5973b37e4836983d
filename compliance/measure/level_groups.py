"""Levels told apart in values written a little off them.

An exporter who writes each contour's level a few centimetres off (200.004, 199.991, ...)
gives every feature a level of its own: the pieces of one contour then lie as lines of
different levels, touching each other, and a large layer holds more distinct values than
any contour set. Values so drawn fall in groups, each narrower than the gaps between
them: the groups are the levels. Levels written exactly are one value each, and group
nothing.

Or he lifts every other hill's contours by half a step (200.5, 201.5, ...): in the
order of all values, a ring's neighbours one level away are then a step and a half
away, and no hill lies as contours do. The values of each hill still differ by whole
steps: the difference most often found between values is the step, and values read on
it (the steps from the lowest) are levels again, whatever each hill's offset.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "READ_SO",
    "SEPARATION",
    "common_step",
    "group_bounds",
    "level_starts",
    "ranks",
    "readings",
]

# How each reading took a field's values, said after its levels ("lattice":
# ``level_lattice``, read where no other reading parts the values).
READ_SO = {
    "exact": "",
    "grouped": ", each value written a little off its level",
    "stepped": ", read on their common step (levels off each other's step by a share of it)",
    "lattice": ", read on the lattice the values gather about (each written well off its level)",
}
# The gap between two groups is at least this many times the widest group: jitter up to
# a sixth of the step between levels (+-0.16 m on a 1 m step) still parts them.
SEPARATION = 2.0
_TRIED = 16  # partings tried, the clearest first
_FEWER = 10  # a parting merges at least 1/_FEWER of the values
_AHEAD = 32  # each value's differences to the next values above it, counted for the step
_STEP_SHARE = 1 / 3  # the step is found beside this share of the values at least
_SAME = 1e-9  # differences equal within this share of the values' size are one


def level_starts(distinct: np.ndarray, most: int) -> np.ndarray | None:
    """The first value of each group of ``distinct`` (sorted, distinct), where they fall
    in three to ``most`` groups, each at most 1/``SEPARATION`` as wide as the narrowest gap
    between groups and none holding half the values, with a tenth fewer groups than
    values at least. Of several such partings, the clearest (the widest gap between groups
    over the widest left within one): the closest few pairs of values spread at random
    part so too, less clearly, and a few values far off (decoys of a far level) part the
    rest as one group, which holds more than half. None where no parting is found (values
    spread evenly or at random, or written exactly)."""
    n = distinct.size
    top = min(most, n - max(2, n // _FEWER))
    if top < 3:
        return None
    gaps = np.diff(distinct)
    widest_first = np.sort(gaps)[::-1]
    groups = np.arange(3, top + 1)  # k groups are parted by the k - 1 widest gaps
    between, within = widest_first[groups - 2], widest_first[groups - 1]
    ratio = between / np.maximum(within, np.finfo(float).tiny)
    for at in np.argsort(-ratio, kind="stable")[:_TRIED]:
        if ratio[at] < SEPARATION:
            return None
        parted = gaps >= between[at]
        first = np.flatnonzero(np.r_[True, parted])
        last = np.r_[first[1:] - 1, n - 1]
        widest = float((distinct[last] - distinct[first]).max())
        clear = widest * SEPARATION <= gaps[parted].min()
        if clear and first.size <= most and (last - first).max() < n // 2:
            return distinct[first]
    return None


def group_bounds(distinct: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each group's first and last value, sorted: all a later parting needs of a group (its
    width, and the gaps around it), in at most twice as many values as groups."""
    last = np.r_[np.searchsorted(distinct, starts[1:]) - 1, distinct.size - 1]
    bounds = np.sort(np.concatenate([starts, distinct[last]]))
    return bounds[np.r_[True, bounds[1:] != bounds[:-1]]]


def common_step(distinct: np.ndarray, most: int) -> float | None:
    """The difference found most often between a value of ``distinct`` (sorted, distinct)
    and one of the next ``_AHEAD`` above it, of those wider than the narrowest gap (on
    which the values as written lie), where it is found beside a third of the values at
    least and parts their range in at most ``most`` steps; None where there is none.
    (Levels lifted by exactly half a step lie on a lattice of half steps; their whole
    step is found as often as that.)"""
    n = distinct.size
    if n < 4:
        return None
    diffs = np.concatenate([distinct[k:] - distinct[:-k] for k in range(1, min(_AHEAD, n - 1) + 1)])
    size = max(abs(float(distinct[0])), abs(float(distinct[-1])), 1.0)
    keys = np.round(diffs / (size * _SAME))
    narrowest = np.round(float(np.diff(distinct).min()) / (size * _SAME))
    wider = np.sort(keys[keys > narrowest])
    if not wider.size:
        return None
    runs = np.flatnonzero(np.r_[True, wider[1:] != wider[:-1], True])
    longest = int(np.argmax(np.diff(runs)))
    if runs[longest + 1] - runs[longest] < _STEP_SHARE * n:
        return None
    found = np.sort(diffs[keys == wider[runs[longest]]])
    step = float(found[found.size // 2])  # the median (``np.median`` loads ``numpy.ma``)
    return step if (distinct[-1] - distinct[0]) / step < most else None


def readings(distinct: np.ndarray, exact: bool, most: int) -> dict[str, np.ndarray]:
    """A field's levels, each as its first value, read three ways: as written (each
    distinct value a level) where ``exact`` (few enough were seen to keep them all);
    grouped, where the values fall in groups narrower than the gaps between them; and on
    their common step, where they have one (levels off each other's step by a share
    of it)."""
    out = {"exact": distinct} if exact else {}
    starts = level_starts(distinct, most)
    if starts is not None:
        out["grouped"] = starts
    step = common_step(distinct, most) if exact else None
    count = 0 if step is None else int((distinct[-1] - distinct[0]) / step) + 1
    if step is not None and count >= 3:  # fewer are no contour set: lanes 1-4 on a step of 2
        # A millionth of a step below each level: values a whole number of steps above
        # the lowest stay on their level whatever the rounding of the subtraction.
        out["stepped"] = distinct[0] + step * (np.arange(count) - 1e-6)
    return out


def ranks(levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's level: the index of the last level starting at or below it."""
    return np.searchsorted(levels, values, side="right") - 1
