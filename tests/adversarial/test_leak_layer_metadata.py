"""Precise positions written in a vector file's metadata, beside coarse features.

The move: snap the points to about 100 m and write every precise position into the
layer's metadata, which readers show as words: a FlatGeobuf header's description or
title, a GeoPackage layer's description (``gpkg_contents``), as JSON or as plain text
(degrees, or metres in Korea 2000). Nothing read the metadata of a vector file for
positions.

Claim under test: each is held for review with the metadata named
(``MAPGATE-LEAK-METADATA-COORDINATES``); a description in words, with a date and a
version in it, is not.

Truth: the positions are drawn here at random and carried between CRSs with pyproj;
the files are written through GDAL (pyogrio); what GDAL reports is pyogrio's answer.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from compliance import Checker, Effect
from tests.adversarial.test_gpkg_unlisted_tables import _positions

FINDING = "MAPGATE-LEAK-METADATA-COORDINATES"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _coarse() -> gpd.GeoDataFrame:
    _, lonlat = _positions()
    points = shapely.points(np.round(lonlat, 3))
    return gpd.GeoDataFrame({"id": range(len(lonlat))}, geometry=points, crs=4326)


def _texts() -> dict[str, str]:
    xy, lonlat = _positions()
    return {
        "json": json.dumps(lonlat.tolist()),
        "degrees": "; ".join(f"{x:.6f} {y:.6f}" for x, y in lonlat),
        "metres": " / ".join(f"E{x:.1f} N{y:.1f}" for x, y in xy),
    }


@pytest.mark.parametrize("form", ["json", "degrees", "metres"])
@pytest.mark.parametrize("where", ["fgb_description", "fgb_title", "gpkg_description"])
def test_positions_in_a_layer_s_metadata_hold_the_file(tmp_path, checker, form, where):
    text = _texts()[form]
    frame = _coarse()
    if where == "gpkg_description":
        path = tmp_path / "sites.gpkg"
        frame.to_file(path, layer="sites", driver="GPKG", DESCRIPTION=text)
        key = "DESCRIPTION"
    else:
        path = tmp_path / "sites.fgb"
        key = where.removeprefix("fgb_").upper()
        frame.to_file(path, driver="FlatGeobuf", **{key: text})
    assert pyogrio.read_info(path)["layer_metadata"][key] == text  # GDAL hands it over
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert FINDING in {f.rule_id for f in verdict.findings}
    assert verdict.profile.leaks.metadata_coordinates == [
        f"layer 'sites' metadata {key}: 60 numbers the size of coordinates"
    ]


def test_a_position_per_metadata_key_holds_the_file(tmp_path, checker):
    """The positions spread over as many keys of a GeoPackage layer's metadata, one each
    (two numbers a key, a few at most in any one value): counted together."""
    _, lonlat = _positions()
    path = tmp_path / "sites.gpkg"
    items = {f"P{i}": f"{x:.6f} {y:.6f}" for i, (x, y) in enumerate(lonlat)}
    pyogrio.write_dataframe(_coarse(), path, layer="sites", layer_metadata=items)
    assert pyogrio.read_info(path)["layer_metadata"]["P0"] == items["P0"]
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert FINDING in {f.rule_id for f in verdict.findings}
    (trace,) = verdict.profile.leaks.metadata_coordinates
    assert trace.startswith("layer 'sites' metadata P0, P1, P10, P11, P12: 60 numbers"), trace


@pytest.mark.parametrize("driver, suffix", [("FlatGeobuf", ".fgb"), ("GPKG", ".gpkg")])
def test_a_description_in_words_is_clean(tmp_path, checker, driver, suffix):
    path = tmp_path / f"sites{suffix}"
    words = "Building outlines, surveyed 2024-05-01T12:30:00Z, edition 3.2.1 (1:25,000)"
    _coarse().to_file(path, layer="sites", driver=driver, DESCRIPTION=words)
    verdict = checker.check(path)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.leaks.metadata_coordinates == []


def _named_after_positions(tmp_path, where: str):  # type: ignore[no-untyped-def]
    """The coarse points with each precise position in a name: a GeoJSON property per
    feature, a GeoPackage column per position, or a layer per position."""
    _, lonlat = _positions()
    frame = _coarse()
    names = [f"at {x:.7f} {y:.7f}" for x, y in lonlat]
    if where == "geojson_properties":
        path = tmp_path / "sites.geojson"
        features = [
            {"type": "Feature", "properties": {name: 1},
             "geometry": {"type": "Point", "coordinates": list(p.coords[0])}}
            for name, p in zip(names, frame.geometry, strict=True)
        ]  # fmt: skip
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    elif where == "gpkg_columns":
        path = tmp_path / "sites.gpkg"
        gpd.GeoDataFrame({n: [1] * len(frame) for n in names}, geometry=frame.geometry).to_file(
            path, layer="sites"
        )
    else:
        path = tmp_path / "sites.gpkg"
        for i, name in enumerate(names):
            frame.iloc[[i]].to_file(path, layer=name)
    return path, names


@pytest.mark.parametrize("where", ["geojson_properties", "gpkg_columns", "gpkg_layers"])
def test_positions_in_field_and_layer_names_hold_the_file(tmp_path, checker, where):
    path, names = _named_after_positions(tmp_path, where)
    info = [pyogrio.read_info(path, layer=name) for name, _ in pyogrio.list_layers(path)]
    shown = [n for i in info for n in i["fields"]] + [n for n, _ in pyogrio.list_layers(path)]
    assert set(names) <= set(shown)  # GDAL shows every name as a field's or a layer's
    verdict = checker.check(path)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert FINDING in {f.rule_id for f in verdict.findings}
    owner, what = (
        ("dataset", "layer names") if where == "gpkg_layers" else ("layer 'sites'", "field names")
    )
    assert verdict.profile.leaks.metadata_coordinates == [
        f"{owner} metadata {what}: 60 numbers the size of coordinates"
    ]


def test_names_with_years_and_codes_are_clean(tmp_path, checker):
    path = tmp_path / "sites.gpkg"
    frame = _coarse()
    columns = {f"pop_{year}": [1] * len(frame) for year in range(1990, 2012)}
    gpd.GeoDataFrame(columns, geometry=frame.geometry).to_file(path, layer="sites_2024")
    for year in range(2010, 2022):
        frame.to_file(path, layer=f"roads_{year}_v1.2")
    verdict = checker.check(path)
    assert verdict.verdict == Effect.allow, [f.rule_id for f in verdict.findings]
    assert verdict.profile.leaks.metadata_coordinates == []
