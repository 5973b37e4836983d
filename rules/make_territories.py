"""Rebuild the packs' territory layers (``rules/territories/*.geojson``) from public sources.

Usage::

    python rules/make_territories.py WORLD_ATLAS_DIR KOSTAT_PROVINCES

``WORLD_ATLAS_DIR``
    The unpacked npm package ``world-atlas`` 2.0.2 (``npm pack world-atlas@2.0.2``):
    Natural Earth 4.1.0 admin-0 countries at 1:10m and 1:110m, as TopoJSON. Natural Earth
    is in the public domain; the package is ISC-licensed. Each territory is the union of
    both scales: 1:10m has the islands, while 1:110m's generalised coast and borders reach
    out further in places, and a territory errs on the side of applying.
``KOSTAT_PROVINCES``
    ``kostat/2013/json/skorea_provinces_topo.json`` of the southkorea/southkorea-maps
    repository: Statistics Korea's 2013 province outlines ("free to share or remix"), which
    hold the small islands of the south-west that 1:10m leaves out.

A territory must hold every island and rock its country claims: a pack that does not apply
lets a 0.1 m image of an island leave as if it lay nowhere (Dokdo was 88 km from the
1:110m outline used before, beyond the 22 km buffer). ``territories/islands.csv`` names
them with their positions to a minute of arc; each is added as a disc of ``_DISC_M`` so a
published position a minute off still lies inside, and
``tests/adversarial/test_territory_islands.py`` places data on each. The outlines are grown
by about 1 km and simplified, far below every pack's buffer except Israel's (0 m), whose
outline is kept as Natural Earth draws it.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import Geod

HERE = Path(__file__).resolve().parent / "territories"
_DISC_M = 2_000.0
# Outlines that take a buffer of kilometres are grown by _GROW_DEG and then simplified by
# half that: every point of the outline stays inside (the simplified edge strays at most
# _TOLERANCE_DEG from the grown one), and the islets of a coast merge into few parts, so a
# territory loads in milliseconds instead of most of a second.
_GROW_DEG = 0.01  # about 1 km
_TOLERANCE_DEG = 0.005
_GEOD = Geod(ellps="WGS84")

# territory code -> (Natural Earth admin-0 names, simplify?)
_COUNTRIES = {
    "kr": (["South Korea"], True),
    "in": (["India", "Siachen Glacier"], True),
    "il": (["Israel", "Palestine"], False),
}


def _union(geoms: np.ndarray) -> shapely.Geometry:
    return shapely.make_valid(shapely.union_all(shapely.make_valid(geoms)))


def _disc(lon: float, lat: float) -> shapely.Polygon:
    azimuths = np.linspace(0.0, 360.0, 64, endpoint=False)
    lons, lats, _ = _GEOD.fwd(
        np.full(azimuths.size, lon),
        np.full(azimuths.size, lat),
        azimuths,
        np.full(azimuths.size, _DISC_M),
    )
    return shapely.Polygon(np.column_stack([lons, lats]))


def _islands() -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = {}
    with open(HERE / "islands.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["territory"], []).append(row)
    return rows


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    return shapely.multipolygons(parts[shapely.get_type_id(parts) == 3])


def build(world_atlas: str, kostat_provinces: str) -> dict[str, shapely.Geometry]:
    scales = [
        pyogrio.read_dataframe(Path(world_atlas) / f"countries-{s}.json", layer="countries")
        for s in ("10m", "110m")
    ]
    kostat = pyogrio.read_dataframe(kostat_provinces)
    islands = _islands()
    out = {}
    for code, (names, simplify) in _COUNTRIES.items():
        outlines = [w[w["name"].isin(names)].geometry.values for w in scales]
        if len(outlines[0]) != len(names):
            raise SystemExit(f"{code}: Natural Earth 1:10m lacks one of {names}")
        geom = _union(np.concatenate(outlines))
        if code == "kr":
            geom = _union(np.array([geom, _union(kostat.geometry.values)]))
        if simplify:
            geom = shapely.simplify(shapely.buffer(geom, _GROW_DEG, quad_segs=4), _TOLERANCE_DEG)
        discs = [_disc(float(r["lon"]), float(r["lat"])) for r in islands.get(code, [])]
        out[code] = _polygonal(_union(np.array([geom, *discs])))
    return out


def write(code: str, geom: shapely.Geometry, names: list[str]) -> None:
    source = (
        "Natural Earth 4.1.0 admin-0 1:10m and 1:110m ("
        + ", ".join(names)
        + ")"
        + (" + KOSTAT 2013 provinces" if code == "kr" else "")
        + " + islands.csv"
    )
    doc = {
        "type": "FeatureCollection",
        "name": code,
        "features": [
            {
                "type": "Feature",
                "properties": {"name": code, "source": source},
                "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-6))),
            }
        ],
    }
    (HERE / f"{code}.geojson").write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def main(world_atlas: str, kostat_provinces: str) -> None:
    for code, geom in build(world_atlas, kostat_provinces).items():
        write(code, geom, _COUNTRIES[code][0])
        print(
            code,
            shapely.get_num_geometries(geom),
            "parts",
            shapely.get_num_coordinates(geom),
            "vertices",
        )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
