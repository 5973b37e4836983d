"""``compliance.tracks``: series met with their rows' boxes in every unit, batch by batch.

Truth: positions drawn here at random, written in each unit by the test's arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest

from compliance.tracks import FrameTracks

RNG = np.random.default_rng(5)
N = 8  # rows: fewer than the ten a diluted column needs, so every row must follow


def _points(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Precise eastings and northings, and each row's box: the point snapped to 100 m."""
    precise = np.array([322_000.0, 4_152_000.0]) + RNG.uniform(0, 2_000, (n, 2))
    coarse = np.round(precise / 100.0) * 100.0
    return precise, np.column_stack([coarse, coarse])


def _following(series: dict[str, np.ndarray], boxes: np.ndarray, cuts: list[int]) -> set[str]:
    tracks: FrameTracks[str] = FrameTracks(False)
    for start, end in zip([0, *cuts], [*cuts, len(boxes)], strict=True):
        part = {k: v[start:end] for k, v in series.items()}
        tracks.add(part, boxes[start:end], np.ones(end - start, dtype=bool))
    return tracks.following()


@pytest.mark.parametrize("cuts", [[], [1], [3], [2, 5], list(range(1, N))])
def test_a_series_in_batches_is_judged_as_the_whole_column(cuts):
    precise, boxes = _points()
    ids = 7919.0 * np.arange(N)  # far from every box in every unit but a few
    late = precise[:, 0] / 1000.0  # kilometres ...
    late[:3] = ids[:3]  # ... after three rows of ids: not every row follows
    series = {"km": precise[:, 0] / 1000.0, "ids": ids, "late": late, "y_cm": precise[:, 1] * 100}
    assert _following(series, boxes, cuts) == {"km", "y_cm"}


def test_a_series_on_the_boxes_in_one_unit_does_not_follow_in_a_close_one():
    """The drawn positions in US survey feet lie on the boxes (a frame in US feet); in
    international feet, two parts in a million away, they lie a few feet off them."""
    precise, boxes = _points()
    us_foot = 1200.0 / 3937.0
    boxes_ft, precise_ft = boxes * (1.0 / us_foot), precise * (1.0 / us_foot)
    tracks: FrameTracks[str] = FrameTracks(False, us_foot)
    series = {"drawn": boxes_ft[:, 0].copy(), "precise": precise_ft[:, 0].copy()}
    tracks.add(series, boxes_ft, np.ones(N, dtype=bool))
    assert tracks.following() == {"precise"}
    assert tracks.repeating() == {"drawn"}
