"""GeoPackages that stall or exhaust a check, made in code: small files, endless reads.

Each holds one ordinary point layer (so it is a valid GeoPackage) plus a hostile object
that GDAL evaluates when it lists or reads the layers.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

# Views GDAL lists as layers although gpkg_contents does not name them: SQLite computes
# them while GDAL counts their rows or reads their first one, and never stops.
HANGS = {
    "recursive-cte": "CREATE VIEW {name} AS WITH RECURSIVE c(x) AS "
    "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c",
    "cross-join": "CREATE VIEW {name} AS WITH RECURSIVE n(i) AS "
    "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
    "SELECT a.i FROM n a, n b, n c",
    "growing-string": "CREATE VIEW {name} AS WITH RECURSIVE c(x) AS "
    "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT group_concat(x) AS g FROM c",
}

# (lon, lat, EPSG) of the ordinary layer: places and CRSs vary, the trick does not.
PLACES = [(127.0, 37.5, 4326), (-77.0, 38.9, 4269), (2.35, 48.85, 4258)]


def _base(path: Path, place: tuple[float, float, int]) -> None:
    lon, lat, epsg = place
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.Point(lon, lat), shapely.Point(lon + 0.01, lat + 0.01)],
        crs=f"EPSG:{epsg}",
    )
    pyogrio.write_dataframe(gdf, path, layer="places", driver="GPKG")


def hanging_gpkg(path: Path, kind: str, place: tuple[float, float, int] = PLACES[0]) -> Path:
    """A GeoPackage whose unregistered view ``kind`` (see ``HANGS``) never finishes."""
    _base(path, place)
    with sqlite3.connect(path) as con:
        con.execute(HANGS[kind].format(name="v_" + kind.replace("-", "_")))
    return path


def memory_gpkg(path: Path, megabytes: int, place: tuple[float, float, int] = PLACES[0]) -> Path:
    """A GeoPackage with a registered feature view whose one geometry is ``megabytes`` MB:
    a GeoPackage blob header and zeros, made by SQLite only when the row is read."""
    _base(path, place)
    epsg = place[2]
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE VIEW huge AS SELECT 1 AS fid, "
            f"CAST(X'4750000100000000' || zeroblob({megabytes * 1_000_000}) AS BLOB) AS geom"
        )
        con.execute("INSERT INTO gpkg_contents(table_name, data_type, identifier, srs_id) "
                    "VALUES ('huge', 'features', 'huge', ?)", (epsg,))  # fmt: skip
        con.execute("INSERT INTO gpkg_geometry_columns VALUES ('huge', 'geom', 'GEOMETRY', ?, 0, 0)",
                    (epsg,))  # fmt: skip
    return path


def plain_gpkg(path: Path, place: tuple[float, float, int] = PLACES[0]) -> Path:
    """The control: the same ordinary layer without a hostile object."""
    _base(path, place)
    return path


def sleep_then_answer(checker: object, seconds: float) -> str:
    """A task for a check pool's worker that takes as long as it is told."""
    import time

    time.sleep(seconds)
    return "done"
