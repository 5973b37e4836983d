"""Derive the packs' territory layers from Natural Earth (public domain).

Usage: python rules/make_territories.py NATURALEARTH_LOWRES.shp KOR.geo.json SKOREA_PROVINCES.json

Korea also takes the KOSTAT 2013 province outlines (southkorea-maps, "free to share or
remix"), because the 1:110m outline leaves out Jeju and other islands.

The outlines are Natural Earth 1:110m; each pack buffers its territory on the ground
(``territory_buffer_m``) to cover the generalised coastline and territorial sea.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

OUT = Path(__file__).resolve().parent / "territories"


def main(lowres: str, korea: str, provinces: str) -> None:
    world = gpd.read_file(lowres).to_crs(4326)
    outline = gpd.read_file(korea).to_crs(4326).geometry.union_all()
    islands = gpd.read_file(provinces).to_crs(4326).geometry.make_valid().union_all()
    kor = gpd.GeoDataFrame(
        {"name": ["South Korea"], "source": ["Natural Earth 110m + KOSTAT 2013 provinces"]},
        geometry=[outline.union(islands)],
        crs=4326,
    )
    ind = world[world["name"] == "India"][["name", "geometry"]].assign(
        source="Natural Earth 110m (naturalearth_lowres)"
    )
    isr = world[world["name"].isin(["Israel", "Palestine"])][["name", "geometry"]].assign(
        source="Natural Earth 110m (naturalearth_lowres)"
    )
    OUT.mkdir(exist_ok=True)
    for code, frame in {"kr": kor, "in": ind, "il": isr}.items():
        if frame.empty:
            raise SystemExit(f"no outline for {code}")
        gpd.GeoDataFrame(pd.DataFrame(frame), crs=4326).to_file(
            OUT / f"{code}.geojson", driver="GeoJSON"
        )
        print(code, len(frame), frame.total_bounds)


if __name__ == "__main__":
    main(*sys.argv[1:4])
