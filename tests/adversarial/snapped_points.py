"""Precise positions around three places, and the same snapped to 0.001 degree: the
payload of the tests where a file's features are coarse and the precise positions lie
elsewhere in it."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

PLACES = {"seoul": (126.978, 37.566), "sydney": (151.209, -33.868), "denver": (-104.99, 39.74)}


def around(place: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` precise lon/lat 20 to 400 m from the place (pyproj's geodesic), and the
    same snapped to 0.001 degree."""
    rng = np.random.default_rng(seed)
    lon, lat, _ = Geod(ellps="WGS84").fwd(
        np.full(n, PLACES[place][0]),
        np.full(n, PLACES[place][1]),
        rng.uniform(0, 360, n),
        rng.uniform(20, 400, n),
    )
    precise = np.column_stack([lon, lat])
    return precise, np.round(precise, 3)


def in_box(place: str, n: int, seed: int, half: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` precise lon/lat within ``half`` a degree's side of the place, and the same
    snapped to 0.001 degree."""
    rng = np.random.default_rng(seed)
    precise = np.array(PLACES[place]) + rng.uniform(-half, half, (n, 2))
    return precise, np.round(precise, 3)
