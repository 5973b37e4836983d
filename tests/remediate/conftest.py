"""Builders for remediation tests: a secret zone, packs that ask for each condition, and
vector datasets of every geometry type written with pyogrio in several CRSs.

Truth is computed here with pyproj and shapely alone: the zone is buffered on the ground in
an azimuthal equidistant projection centred on it, independently of mapgate's zones code.
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS, Transformer

from compliance import Checker

# A fictional military zone near Seoul and its buffer on the ground.
ZONE_LONLAT = shapely.box(127.000, 37.500, 127.010, 37.508)
ZONE_BUFFER_M = 300.0
CENTRE = (127.005, 37.504)
LOCAL = CRS.from_proj4(f"+proj=aeqd +lon_0={CENTRE[0]} +lat_0={CENTRE[1]} +datum=WGS84 +units=m")
CRSS = (5186, 32652, 4326, 3857)

MASK_PACK = """\
pack: mask-test
version: "1"
title: Data over a zone must be masked
jurisdiction: XX
rules:
  - id: T-ZONES
    title: Data over a sensitive zone
    when: zones.count > 0
    effect: deny
    conditions: [mask_zones]
    reference: test fixture
  - id: T-ATTRIBUTES
    title: Features at a zone may not carry attributes
    when: zones.count > 0 && dataset.kind == "vector"
    effect: allow_with_conditions
    conditions: [strip_sensitive_attributes]
    reference: test fixture
"""


def to_local(geoms: np.ndarray, crs: int | CRS) -> np.ndarray:
    """Geometries in ``crs`` into the metric frame centred on the zone (pyproj alone)."""
    t = Transformer.from_crs(CRS.from_user_input(crs), LOCAL, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def buffered_zone_local() -> shapely.Geometry:
    """The zone grown by its buffer on the ground, in the local metric frame."""
    lonlat = shapely.segmentize(ZONE_LONLAT, 0.0002)
    return to_local(np.array([lonlat]), 4326)[0].buffer(ZONE_BUFFER_M, quad_segs=64)


def from_lonlat(geoms: list[shapely.Geometry], epsg: int) -> np.ndarray:
    t = Transformer.from_crs(4326, epsg, always_xy=True)
    arr = np.asarray(geoms, dtype=object)
    return shapely.transform(arr, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def sha256_files(path: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(path.parent.glob(path.stem + ".*")):
        digest.update(f.name.encode() + f.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def zones_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zones") / "zones.geojson"
    feature = {
        "type": "Feature",
        "properties": {"zone_id": "T-MIL-1", "zone_class": "military", "buffer_m": ZONE_BUFFER_M},
        "geometry": shapely.geometry.mapping(ZONE_LONLAT),
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def write_pack(folder: Path, text: str, name: str = "pack.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def mask_checker(tmp_path_factory: pytest.TempPathFactory, zones_file: Path) -> Checker:
    pack = write_pack(tmp_path_factory.mktemp("pack"), MASK_PACK)
    return Checker(packs=[pack], zones=zones_file)


def shapes_lonlat(kind: str, stride_deg: float, offset: float = 0.0) -> list[shapely.Geometry]:
    """Features of one geometry type on a grid across the zone and well beyond it."""
    xs = np.arange(126.985 + offset, 127.030, stride_deg)
    ys = np.arange(37.488 + offset, 37.522, stride_deg)
    d = stride_deg / 4
    out: list[shapely.Geometry] = []
    for x in xs:
        for y in ys:
            if kind == "Point":
                out.append(shapely.Point(x, y))
            elif kind == "LineString":
                out.append(shapely.LineString([(x, y), (x + 2 * d, y + d), (x + 3 * d, y)]))
            elif kind == "Polygon":
                out.append(shapely.box(x, y, x + d, y + d))
            elif kind == "MultiPoint":
                out.append(shapely.MultiPoint([(x, y), (x + d, y + d)]))
            elif kind == "MultiLineString":
                out.append(
                    shapely.MultiLineString([[(x, y), (x + d, y)], [(x, y + d), (x + d, y + d)]])
                )
            elif kind == "MultiPolygon":
                out.append(
                    shapely.MultiPolygon(
                        [
                            shapely.box(x, y, x + d, y + d),
                            shapely.box(x + 2 * d, y, x + 3 * d, y + d),
                        ]
                    )
                )
    return out


GEOMETRY_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")


@dataclass
class Written:
    path: Path  # what is remediated (a file, or a zip)
    layers: dict[str, tuple[np.ndarray, int]]  # layer -> (geometries in its CRS, EPSG)


def write_gpkg(path: Path, layers: dict[str, tuple[list[shapely.Geometry], int]]) -> Written:
    """A GeoPackage with one layer per entry (geometries given in lon/lat, written in the EPSG)."""
    out = {}
    for name, (lonlat, epsg) in layers.items():
        geoms = from_lonlat(lonlat, epsg)
        frame = gpd.GeoDataFrame(
            {
                "name": [f"{name}-{i}" for i in range(len(geoms))],
                "height": np.arange(len(geoms)) * 1.5,
            },
            geometry=list(geoms),
            crs=epsg,
        )
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", promote_to_multi=False)
        out[name] = (geoms, epsg)
    return Written(path, out)


def write_zipped_shapefile(folder: Path, lonlat: list[shapely.Geometry], epsg: int) -> Written:
    geoms = from_lonlat(lonlat, epsg)
    frame = gpd.GeoDataFrame(
        {"name": [f"f{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=epsg
    )
    shp = folder / "shp" / "roads.shp"
    shp.parent.mkdir()
    pyogrio.write_dataframe(frame, shp)
    archive = folder / "roads.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in shp.parent.iterdir():
            z.write(f, f.name)
    return Written(archive, {"roads": (geoms, epsg)})


def read_layer(path: Path, layer: str) -> tuple[np.ndarray, list[bytes], dict[str, list]]:
    """A derivative's layer, read with pyogrio alone: geometries, their WKB and attributes."""
    meta, table = pyogrio.read_arrow(path, layer=layer)
    column = meta["geometry_name"] or "wkb_geometry"
    wkb = table.column(column).to_pylist()
    attrs = {n: table.column(n).to_pylist() for n in table.column_names if n != column}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a NaN coordinate some tests write
        geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
    return geoms, wkb, attrs
