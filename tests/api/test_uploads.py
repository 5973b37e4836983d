"""Uploads in several parts (a shapefile's), lone parts, and the destination field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
import shapely
from pyproj import Transformer

from api.main import create_app
from compliance import Checker
from tests.api.fixtures import *  # noqa: F403 - fixtures
from tests.api.helpers import TestClient, auth, make_settings, mapgate_temp_entries, sqlite_url


@pytest.fixture
def client(tmp_path: Path, api_checker: Checker, uploads: Path) -> Iterator[TestClient]:
    settings = make_settings(sqlite_url(tmp_path / "audit.sqlite"), tmp_dir=uploads)
    with TestClient(create_app(settings, checker=api_checker)) as c:
        yield c


def write_shapefile(folder: Path, name: str, crs: str, lon: float, lat: float, n: int) -> Path:
    """Points near (lon, lat), written in ``crs``: a .shp with its .shx, .dbf, .prj, .cpg."""
    import geopandas as gpd

    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    points = [shapely.Point(*to_crs.transform(lon + i * 1e-4, lat + i * 1e-4)) for i in range(n)]
    frame = gpd.GeoDataFrame({"name": [f"p{i}" for i in range(n)]}, geometry=points, crs=crs)
    path = folder / f"{name}.shp"
    pyogrio.write_dataframe(frame, path)
    return path


def post_parts(c: TestClient, paths: list[Path], who: str = "carol", **form: str):
    handles = [p.open("rb") for p in paths]
    try:
        files = [
            ("file", (p.name, h, "application/octet-stream"))
            for p, h in zip(paths, handles, strict=True)
        ]
        return c.post("/v1/checks", files=files, data=form, headers=auth(who))
    finally:
        for h in handles:
            h.close()


def parts_of(shp: Path) -> list[Path]:
    return sorted(p for p in shp.parent.iterdir() if p.stem == shp.stem)


@pytest.mark.parametrize(
    ("crs", "lon", "lat", "n", "verdict"),
    [
        ("EPSG:4326", 10.5, 10.5, 3, "deny"),  # inside the military square
        ("EPSG:3857", 10.2, 10.9, 7, "deny"),  # the same square, in web mercator metres
        ("EPSG:32632", 9.0, 45.0, 5, "allow"),  # UTM 32N, far from any zone
    ],
)
def test_a_shapefiles_parts_are_one_dataset(
    client: TestClient, api_checker: Checker, uploads: Path, tmp_path: Path,
    crs: str, lon: float, lat: float, n: int, verdict: str,
) -> None:  # fmt: skip
    shp = write_shapefile(tmp_path, "sites", crs, lon, lat, n)
    assert {p.suffix for p in parts_of(shp)} >= {".shp", ".shx", ".dbf", ".prj"}
    r = post_parts(client, parts_of(shp))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == verdict
    assert body["input"]["name"] == "sites.shp"
    assert body["profile"]["feature_count"] == n
    direct = api_checker.check(shp)
    assert body["input"]["sha256"] == direct.input.sha256  # every part hashed, as for a path
    assert body["zones"]["classes"] == direct.zones.classes
    assert mapgate_temp_entries(uploads) == set()


@pytest.mark.parametrize(
    ("keep", "missing"),
    [({".shp"}, "sites.shx, sites.dbf"), ({".shp", ".shx", ".prj"}, "sites.dbf"),
     ({".shp", ".dbf"}, "sites.shx")],
)  # fmt: skip
def test_an_incomplete_shapefile_asks_for_its_parts(
    client: TestClient, uploads: Path, tmp_path: Path, keep: set[str], missing: str
) -> None:
    shp = write_shapefile(tmp_path, "sites", "EPSG:4326", 10.5, 10.5, 3)
    r = post_parts(client, [p for p in parts_of(shp) if p.suffix in keep], who="alice")
    assert r.status_code == 422
    problem = r.json()
    assert problem["title"] == "Incomplete shapefile"
    assert missing in problem["detail"] and "zip" in problem["detail"]
    assert "SHAPE_RESTORE_SHX" not in r.text and str(uploads) not in r.text
    assert "/" not in problem["detail"]
    assert mapgate_temp_entries(uploads) == set()


def test_two_datasets_in_one_form_are_refused(client: TestClient, uploads: Path, tmp_path: Path):
    a = write_shapefile(tmp_path, "a", "EPSG:4326", 10.5, 10.5, 2)
    b = write_shapefile(tmp_path, "b", "EPSG:4326", -40, -20, 2)
    r = post_parts(client, parts_of(a) + parts_of(b))
    assert r.status_code == 422 and "2 datasets" in r.json()["detail"]
    stray = tmp_path / "notes.prj"
    stray.write_text("x")
    r = post_parts(client, [*parts_of(a), stray])
    assert r.status_code == 422 and "'notes.prj' is not part of 'a.shp'" in r.json()["detail"]
    r = post_parts(client, [parts_of(a)[0], parts_of(a)[0]])
    assert r.status_code == 422 and "both named" in r.json()["detail"]
    assert mapgate_temp_entries(uploads) == set()


@pytest.mark.parametrize("value", ["XX", "united states", "USA", "U", "K R", "ÜS", "1"])
def test_destination_must_be_an_alpha2_code(client: TestClient, api_data, value: str) -> None:
    r = post_parts(client, [api_data.clear], who="alice", destination=value)
    assert r.status_code == 422, r.text
    assert r.json()["title"] == "Invalid destination"
    assert "ISO 3166-1 alpha-2" in r.json()["detail"]


def test_destination_is_normalised_and_named_when_guessable(client: TestClient, api_data):
    r = post_parts(client, [api_data.clear], who="alice", destination=" kr ")
    assert r.status_code == 200 and r.json()["request"]["destination"] == "KR"
    r = post_parts(client, [api_data.clear], who="alice", destination="Korea, Republic of")
    assert r.status_code == 422 and "did you mean KR" in r.json()["detail"]
