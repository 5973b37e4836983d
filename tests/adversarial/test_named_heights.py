"""Heights kept in a field named for them, beside 2-D geometry.

The move: 3-D data has rules of its own (India: denied finer than 3 m; Korea: coordinates
removed below 90 m). Contour lines written with their level as a Z coordinate were 3-D;
the same lines written 2-D with the level in a field ``ELEVATION`` (as most contour
products are, shapefiles first) were not, and those rules did not fire: 1 m contours of
Delhi drawn at 2 m came out ``allow``. The format's choice decided it, as it did for GPX's
``ele`` (``test_gpx_heights``).

Claim under test: a field whose name says it holds heights (in English, Korean, Chinese and
more) and that holds numbers (or text that is a number), or a layer so named (contours),
makes the data 3-D, with the rules that follow, as the same lines with the level as Z
are, in three places and three formats;
fields so named that hold no number, the heights formats give every feature of their own
(KML's ``altitudeMode``, GPX's ``geoidheight``) and OSM's ``z_order`` do not; and
``drop_contours`` drops the field or the layer, its derivative then 2-D.

Truth: the rings are drawn here with pyproj's geodesic (a ring every 20 m around a hill,
a vertex every 2 m or 10 m on the ground); what GDAL reads back is pyogrio's answer.
"""

from __future__ import annotations

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Geod

from compliance import Checker, Effect
from tests.adversarial.test_gpx_heights import HEIGHTS_PACK

# place -> (lon, lat, pack, the rule 3-D data fires there, vertex spacing in metres)
PLACES = {
    "delhi": (77.209, 28.614, "in", "IN-VERTICAL-3M", 2.0),  # finer than 3 m
    "seoul": (126.978, 37.566, "kr", "KR-IMAGERY-COORDINATES-3D", 10.0),  # < 90 m
    "busan": (129.075, 35.180, "kr", "KR-IMAGERY-COORDINATES-3D", 10.0),
}
LEVELS = np.arange(200.0, 215.0)  # a contour every metre
FORMATS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON"}


def _rings(place: str, z: bool = False) -> np.ndarray:
    lon, lat, _, _, spacing = PLACES[place]
    geod = Geod(ellps="WGS84")
    rings = []
    for i, level in enumerate(LEVELS):
        radius = 100.0 + 20.0 * i
        n = int(2 * np.pi * radius / spacing)
        azimuths = np.linspace(0.0, 360.0, n, endpoint=False)
        x, y, _ = geod.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, radius))
        xy = np.column_stack([np.append(x, x[0]), np.append(y, y[0])])
        rings.append(
            shapely.linestrings(xy if not z else np.column_stack([xy, np.full(n + 1, level)]))
        )
    return np.array(rings, dtype=object)


def _write(path, place: str, fields: dict[str, object], z: bool = False, layer: str = "lines"):
    geometry = _rings(place, z)
    pyogrio.write_dataframe(
        _frame(geometry, fields), path, driver=FORMATS[path.suffix[1:]], layer=layer
    )
    info = pyogrio.read_info(path)
    assert ("Z" in info["geometry_type"]) == z  # 2-D lines unless asked for Z
    return path


def _frame(geometry: np.ndarray, fields: dict[str, object]):
    import geopandas as gpd

    return gpd.GeoDataFrame(fields, geometry=list(geometry), crs=4326)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("place", PLACES)
def test_a_contour_level_in_elevation_makes_the_lines_three_dimensional(tmp_path, place, suffix):
    checker = Checker(packs=[PLACES[place][2]])
    named = checker.check(_write(tmp_path / f"c.{suffix}", place, {"ELEVATION": LEVELS}))
    as_z = checker.check(
        _write(tmp_path / f"z.{suffix}", place, {"id": range(LEVELS.size)}, z=True)
    )
    assert named.profile.has_z and as_z.profile.has_z
    rules = {f.rule_id for f in named.findings}
    assert PLACES[place][3] in rules
    # Korea's pack also names contours by their fields: one rule more, by that name alone.
    assert rules - {"KR-CONTOURS"} == {f.rule_id for f in as_z.findings}
    assert named.verdict == as_z.verdict
    layer = named.profile.layers[0].name  # a shapefile's is its file's name
    assert "ELEVATION" in named.profile.methods[f"has_z[{layer}]"]


@pytest.mark.parametrize(
    "name",
    [
        "elev_m",
        "Height",
        "contour",
        "DEPTH",
        "z",
        "alt",
        "HOEHE",
        "Höhe",
        "COTA",
        "QUOTA",
        "hauteur",
        "hoogte",
        "высота",
        "높이",
        "高程",
        "標高",
    ],  # fmt: skip
)
def test_heights_under_other_names_count_too(tmp_path, name):
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", "delhi", {name: LEVELS}))
    assert verdict.profile.has_z
    assert verdict.verdict == Effect.deny
    assert "IN-VERTICAL-3M" in {f.rule_id for f in verdict.findings}


@pytest.mark.parametrize("layer", ["contours", "Contour_Lines", "등고선", "elevation"])
def test_a_layer_named_as_heights_draws_them_whatever_its_fields(tmp_path, layer):
    fields = {"v": LEVELS}
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", "delhi", fields, layer=layer))
    assert verdict.profile.has_z and verdict.verdict == Effect.deny
    assert verdict.profile.methods[f"has_z[{layer}]"] == "a layer named as heights"


def test_heights_written_as_text_count(tmp_path):
    text = [f"{v:.1f}" for v in LEVELS]
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", "delhi", {"elev": text}))
    assert verdict.profile.has_z and verdict.verdict == Effect.deny


@pytest.mark.parametrize(
    "fields",
    [
        {"v": LEVELS * 0 + 1},  # a name that says nothing of heights
        {"elevation_source": ["LIDAR survey"] * LEVELS.size},  # named so, holds no number
        {"height": [None] * LEVELS.size},  # named so, empty
        {"z_order": range(LEVELS.size)},  # osm2pgsql's drawing order
    ],
    ids=["unnamed", "text", "empty", "z_order"],
)
def test_fields_that_hold_no_heights_leave_the_lines_two_dimensional(tmp_path, fields):
    verdict = Checker(packs=["in"]).check(_write(tmp_path / "c.gpkg", "delhi", fields))
    assert not verdict.profile.has_z
    assert "IN-VERTICAL-3M" not in {f.rule_id for f in verdict.findings}


def test_the_heights_a_format_gives_every_feature_are_not_the_data_s(tmp_path):
    """KML's altitudeMode and GPX's geoidheight are in every feature GDAL reads of them."""
    kml = tmp_path / "p.kml"
    kml.write_text(
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>a</name><LineString><altitudeMode>clampToGround</altitudeMode>"
        "<coordinates>77.20900,28.61400 77.20902,28.61400 77.20904,28.61401</coordinates>"
        "</LineString></Placemark></Document></kml>"
    )
    gpx = tmp_path / "p.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        '<wpt lat="28.61400" lon="77.20900"><geoidheight>-45.2</geoidheight></wpt>'
        '<wpt lat="28.61401" lon="77.20902"><geoidheight>-45.2</geoidheight></wpt></gpx>'
    )
    assert "geoidheight" in pyogrio.read_info(gpx, layer="waypoints")["fields"]
    for path in (kml, gpx):
        assert not Checker(packs=["in"]).check(path).profile.has_z, path.name


def test_drop_contours_drops_a_field_named_for_heights(tmp_path):
    pack = tmp_path / "heights.yaml"
    pack.write_text(HEIGHTS_PACK)
    source = _write(tmp_path / "c.gpkg", "busan", {"hgt": LEVELS, "kind": ["c"] * LEVELS.size})
    report = Checker(packs=[str(pack)]).remediate(source, tmp_path / "out.gpkg")
    (action,) = report.actions
    assert action.condition == "drop_contours" and action.status == "applied"
    assert "lines.hgt" in action.changes.fields_dropped
    fields = list(pyogrio.read_info(tmp_path / "out.gpkg", layer="lines")["fields"])
    assert fields == ["kind"]
    assert report.verdict.verdict == Effect.allow and not report.verdict.profile.has_z


def test_drop_contours_drops_a_layer_named_for_heights(tmp_path):
    """Named in German, which the pack's own pattern does not read: the layer goes all
    the same, since the check takes it for heights."""
    pack = tmp_path / "heights.yaml"
    pack.write_text(HEIGHTS_PACK)
    source = _write(tmp_path / "c.gpkg", "busan", {"v": LEVELS}, layer="Hoehenlinien")
    pyogrio.write_dataframe(
        _frame(_rings("busan")[:3], {"name": ["a", "b", "c"]}), source, layer="roads"
    )
    report = Checker(packs=[str(pack)]).remediate(source, tmp_path / "out.gpkg")
    (action,) = report.actions
    assert action.status == "applied" and action.changes.layers_dropped == ["Hoehenlinien"]
    assert [str(n) for n, _ in pyogrio.list_layers(tmp_path / "out.gpkg")] == ["roads"]
    assert report.verdict.verdict == Effect.allow and not report.verdict.profile.has_z
