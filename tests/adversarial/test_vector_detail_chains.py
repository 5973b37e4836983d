"""Class 1 (continued): fine linework chained into a few lines among coarse padding.

The claim under test: "if a layer carries large-scale detail in a meaningful part of it,
the resolution shows it". The detail ranked among lines (each line's shortest segment)
counts a line of 2,000 fine buildings joined end to end, by long jumps between them, as
one line: with 100 coarse lines beside it, 1% of the lines is the coarse padding. Every
segment is ranked too, and the finer of the two ranks decides, so the chained buildings'
4,000 steps of 1.5 m show whatever the number of lines.

Truth is measured here with pyproj (Geod.inv on WGS84) over the coordinates read back from
the file with pyogrio: each line's and ring's shortest segment, and every segment. Each
variant's control is the same buildings as polygons beside the same padding, which must
read the same detail and give the same verdict. Ordinary data (separate buildings, coarse
roads) measures what its lines and rings alone give: the segment rank is the coarser
there, and the finer of the two is the lines' own.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

from compliance import Checker
from tests.adversarial.test_vector_detail import (
    _origin,
    _to_crs,
    ground_lines,
    ground_segments,
    ranked,
)

SUFFIX = {"GPKG": ".gpkg", "GeoJSON": ".geojson"}


@pytest.fixture(scope="module")
def kr() -> Checker:
    return Checker(packs=["kr"])


def _write(path, geoms: np.ndarray, crs: str, driver: str, layer: str = "data", append=False):
    table = pa.table({"id": np.arange(geoms.size), "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(
        table, path, layer=layer, driver=driver, geometry_name="geometry",
        geometry_type="Unknown", crs=crs, append=append,
    )  # fmt: skip
    return str(path)


def _read_back(path: str) -> np.ndarray:
    """Every geometry of every layer, as the file holds it (pyogrio, not the checker)."""
    found = []
    for name, _ in pyogrio.list_layers(path):
        meta, table = pyogrio.read_arrow(path, layer=name)
        found.append(shapely.from_wkb(table[meta["geometry_name"] or "wkb_geometry"]))
    return np.concatenate(found)


def _buildings(place: str, n: int) -> np.ndarray:
    """``n`` buildings 8 m x 6 m with a 1.5 m step in one corner, 40 m apart (UTM 52N)."""
    x0, y0 = _origin(place)
    k = np.arange(n)
    x, y = x0 + (k % 50) * 40.0, y0 + (k // 50) * 40.0
    outline = np.array([(0, 0), (8, 0), (8, 4.5), (6.5, 4.5), (6.5, 6), (0, 6), (0, 0)])
    rings = outline[np.newaxis] + np.column_stack([x, y])[:, np.newaxis]
    return shapely.polygons(rings)


def _padding(place: str, n: int) -> np.ndarray:
    """``n`` straight 1 km lines of two vertices, 1.2 km apart, 20 km east of the buildings."""
    x0, y0 = _origin(place)
    k = np.arange(n)
    x, y = x0 + 20_000 + (k % 100) * 1200.0, y0 + (k // 100) * 1200.0
    return shapely.linestrings(
        np.stack([np.column_stack([x, y]), np.column_stack([x + 1000, y])], 1)
    )


def _chained(polygons: np.ndarray, chains: int) -> np.ndarray:
    """The buildings' outlines joined end to end into ``chains`` lines."""
    parts = np.array_split(polygons, chains)
    return np.array(
        [shapely.LineString(shapely.get_coordinates(shapely.get_exterior_ring(p))) for p in parts],
        dtype=object,
    )


def _file(path, payload, padding, crs, driver, layers):
    """The payload and padding carried to ``crs``, in one layer or two."""
    payload, padding = _to_crs(payload, crs), _to_crs(padding, crs)
    if layers == 1:
        return _write(path, np.concatenate([payload, padding]), crs, driver)
    _write(path, payload, crs, driver, layer="payload")
    return _write(path, padding, crs, driver, layer="padding", append=True)


@pytest.mark.parametrize(
    ("chains", "padding", "crs", "driver", "place", "layers"),
    [
        (1, 100, "EPSG:5186", "GPKG", "daejeon", 1),
        (5, 500, "EPSG:4326", "GeoJSON", "gwangju", 1),
        (20, 3_000, "EPSG:32652", "GPKG", "cheongju", 2),  # padding in a layer of its own
    ],
)
def test_fine_buildings_chained_into_few_lines_among_coarse_padding(
    tmp_path, kr, chains, padding, crs, driver, place, layers
):
    buildings, pad = _buildings(place, 2_000), _padding(place, padding)
    suffix = SUFFIX[driver]
    path = _file(
        tmp_path / f"chained{suffix}", _chained(buildings, chains), pad, crs, driver, layers
    )
    control = _file(tmp_path / f"control{suffix}", buildings, pad, crs, driver, layers)
    written = _read_back(path)
    assert shapely.get_num_geometries(written).sum() == chains + padding
    rings, segments = ground_lines(written, crs), ground_segments(written, crs)
    # Ranked by lines the chains are lost among the padding: 1% of them is a 1 km line.
    assert ranked(rings) == pytest.approx(1000.0, rel=0.01)
    want = min(ranked(rings), ranked(segments))
    assert want == pytest.approx(1.5, rel=0.01)  # the 1.5 m steps of the buildings
    verdict, alone = kr.check(path), kr.check(control)
    assert verdict.profile.resolution_m == pytest.approx(want, rel=1e-6)
    assert verdict.profile.scale_denominator == pytest.approx(2000 * want, rel=1e-6)
    assert verdict.verdict != "allow"
    detail = verdict.profile.detail
    assert detail is not None
    assert (detail.lines_measured, detail.segments_measured) == (rings.size, segments.size)
    document = detail.model_dump(mode="json")
    assert document["segments_measured"] == segments.size
    assert "finest_segments_m" not in document and "finest_m" not in document
    # The control: the same buildings as polygons, each its own ring, read the same detail.
    truth = _read_back(control)
    assert ranked(ground_lines(truth, crs)) == pytest.approx(1.5, rel=0.01)
    assert alone.profile.resolution_m == pytest.approx(want, rel=1e-3)
    assert alone.verdict == verdict.verdict


def _ordinary(place: str, crs: str, seed: int) -> np.ndarray:
    """600 separate rectangular buildings of random sizes (6-20 m by 3-10 m more) and 100
    roads of four 150-400 m segments, as a town's layer draws them (UTM 52N to ``crs``)."""
    rng = np.random.default_rng(seed)
    x0, y0 = _origin(place)
    k = np.arange(600)
    x, y = x0 + (k % 30) * 60.0, y0 + (k // 30) * 60.0
    w = rng.uniform(6.0, 20.0, k.size)
    h = w + rng.uniform(3.0, 10.0, k.size)
    buildings = shapely.box(x, y, x + w, y + h)
    steps = rng.uniform(150.0, 400.0, (100, 4))
    along = np.cumsum(np.c_[np.zeros(100), steps], axis=1)
    rx = x0 + 3_000 + along
    ry = y0 + np.arange(100)[:, np.newaxis] * 50.0 + np.zeros((1, 5))
    roads = shapely.linestrings(np.stack([rx, ry], axis=-1))
    return _to_crs(np.concatenate([buildings, roads]), crs)


@pytest.mark.parametrize(
    ("crs", "driver", "place"),
    [("EPSG:5186", "GPKG", "daejeon"), ("EPSG:4326", "GeoJSON", "gwangju"),
     ("EPSG:32652", "GPKG", "cheongju")],
)  # fmt: skip
def test_ordinary_data_measures_its_lines_and_rings_own_detail(tmp_path, kr, crs, driver, place):
    # 700 lines and rings: rank 7, the 7th finest building's short side. 2,800 segments:
    # rank 28, about the 14th finest building's (each has two short sides). The finer of
    # the two is the lines' own: the value the lines and rings alone have always given.
    path = _write(tmp_path / f"town{SUFFIX[driver]}", _ordinary(place, crs, 7), crs, driver)
    written = _read_back(path)
    rings, segments = ground_lines(written, crs), ground_segments(written, crs)
    assert ranked(segments) > ranked(rings) * (1 + 1e-4)
    verdict = kr.check(path)
    assert verdict.profile.resolution_m == pytest.approx(ranked(rings), rel=1e-6)
    assert 6.0 < verdict.profile.resolution_m < 8.0
    detail = verdict.profile.detail
    assert detail is not None
    assert (detail.lines_measured, detail.segments_measured) == (700, 2_800)
