"""Territory tiles cached on disk between processes: read back only when verified.

The attacker's aim: make a later check believe a territory is smaller than it is, so that
data inside it escapes the pack's rules. Every altered, copied or exposed cache entry must
be rebuilt from the territory itself, and the check must still deny.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, verified_cache
from compliance.zones import prepared_cache, territory
from compliance.zones.territory import load_territory

# Territories off every built-in pack's, each a quadrilateral in its own CRS (its corners in
# lon/lat), spanning a few whole degrees so that it is cut into several tiles.
PLACES = {
    "chile-utm19s": ("EPSG:32719", [(-71.9, -35.8), (-69.1, -35.6), (-69.3, -32.2), (-72.0, -32.5)]),
    "norway-etrs33": ("EPSG:25833", [(9.2, 60.1), (13.8, 60.3), (13.6, 62.9), (9.1, 62.6)]),
    "australia-lonlat": ("EPSG:4326", [(140.2, -30.9), (144.7, -30.6), (144.9, -27.3), (140.1, -27.5)]),
}  # fmt: skip
PACK_RULE = (
    "rules:\n  - id: T-1\n    title: wholly inside\n    when: territory.fraction > 0.99\n"
    "    effect: deny\n    reference: Test Act\n"
)


def _write_layer(path: Path, geoms: list[shapely.Geometry], crs: str) -> Path:
    table = pa.table({"n": np.arange(len(geoms)), "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(
        table, path, driver="GeoJSON", geometry_name="geometry", geometry_type="Polygon", crs=crs
    )
    return path


def _territory(folder: Path, place: str) -> tuple[Path, shapely.Geometry]:
    """A pack with one rule (deny what lies wholly in its territory), and the territory in
    lon/lat as the test computes it (corners carried by pyproj, the edges straight in the
    territory's own CRS and densified before they are carried)."""
    crs, corners = PLACES[place]
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    own = shapely.Polygon([to_crs.transform(lon, lat) for lon, lat in corners])
    _write_layer(folder / "territory.geojson", [own], crs)
    (folder / "t.yaml").write_text(
        f'pack: t\nversion: "1"\ntitle: t\njurisdiction: XX\nterritory: territory.geojson\n'
        f"territory_buffer_m: 0\n{PACK_RULE}"
    )
    step = 1e-3 if crs == "EPSG:4326" else 200.0
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    dense = shapely.segmentize(own, step)
    lonlat = shapely.transform(dense, lambda xy: np.column_stack(back.transform(*xy.T)))
    return folder / "t.yaml", lonlat


def _data_inside(folder: Path, land: shapely.Geometry) -> Path:
    """Twenty 30 m buildings around the territory's centre, in lon/lat."""
    c = land.representative_point()
    boxes = [shapely.box(c.x + i * 1e-3, c.y, c.x + i * 1e-3 + 3e-4, c.y + 3e-4) for i in range(20)]
    return _write_layer(folder / "inside.geojson", boxes, "EPSG:4326")


def _data_footprint(path: Path) -> shapely.Geometry:
    table = pyogrio.read_arrow(path)[1]
    return shapely.union_all(shapely.from_wkb(table["wkb_geometry"].to_numpy(False)))


def _fresh_process() -> None:
    """What a new process starts with: nothing cut yet in memory."""
    load_territory.cache_clear()
    territory._tiles_of.cache_clear()


def _key(stored: list[tuple[str, str]], territory_file: Path) -> tuple[str, str]:
    """The cache key the territory's tiles were stored under (the built-in packs' are
    stored beside them): it begins with the file's content hash."""
    content = hashlib.sha256(territory_file.read_bytes()).hexdigest()
    (found,) = {k for k in stored if k[1].startswith(content)}
    return found


def _union_matches(tiles: np.ndarray, land: shapely.Geometry) -> bool:
    union = shapely.union_all(tiles)
    return shapely.area(shapely.symmetric_difference(union, land)) < 1e-6 * land.area


@pytest.fixture
def warm(tmp_path, monkeypatch):
    """A pack and data in each place, checked once with the cache in ``tmp_path/cache``;
    the key of the territory's entry is recorded as the cache stores it."""
    keys: list[tuple[str, str]] = []
    store = territory.store_geometries

    def recording(kind: str, key: str, geoms: np.ndarray) -> None:
        keys.append((kind, key))
        store(kind, key, geoms)

    monkeypatch.setattr(territory, "store_geometries", recording)
    monkeypatch.setenv("MAPGATE_CACHE_DIR", str(tmp_path / "cache"))
    _fresh_process()
    yield keys
    _fresh_process()


@pytest.mark.parametrize("place", sorted(PLACES))
def test_tiles_are_cut_once_then_read_back(tmp_path, warm, monkeypatch, place):
    pack, land = _territory(tmp_path, place)
    data = _data_inside(tmp_path, land)
    assert Checker(packs=[pack]).check(data).verdict.value == "deny"
    kind, key = _key(warm, tmp_path / "territory.geojson")
    entry = verified_cache._entry(tmp_path / "cache", kind, key)
    assert entry.stat().st_mode & 0o077 == 0
    assert (tmp_path / "cache").stat().st_mode & 0o077 == 0

    _fresh_process()

    def never(_geom: shapely.Geometry) -> np.ndarray:
        raise AssertionError("the territory was cut again instead of read from the cache")

    monkeypatch.setattr(territory, "_tiles", never)
    checker = Checker(packs=[pack])
    assert _union_matches(checker.territories["t"].areas._raw, land)
    assert checker.check(data).verdict.value == "deny"


def _attack_tiles(tiles: np.ndarray, how: str) -> np.ndarray:
    if how == "dropped":
        return np.empty(0, dtype=object)
    if how == "shrunk":
        return np.array([shapely.affinity.scale(t, 0.01, 0.01) for t in tiles], dtype=object)
    return shapely.transform(tiles, lambda xy: xy + [30.0, 0.0])  # moved 30° east


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("how", ["dropped", "shrunk", "moved"])
@pytest.mark.parametrize("attack", ["entry-from-another-cache", "entry-and-secret-in-open-folder"])
def test_an_altered_entry_is_rebuilt_and_the_check_still_denies(
    tmp_path, warm, monkeypatch, place, how, attack
):
    pack, land = _territory(tmp_path, place)
    data = _data_inside(tmp_path, land)
    victim = tmp_path / "cache"
    assert Checker(packs=[pack]).check(data).verdict.value == "deny"
    kind, key = _key(warm, tmp_path / "territory.geojson")
    entry = verified_cache._entry(victim, kind, key)
    true_tiles = prepared_cache.load_geometries(kind, key)
    assert true_tiles is not None and _union_matches(true_tiles, land)

    # The attacker writes a well-formed entry for the same key in a cache of their own
    # (with their own secret), then puts it where the victim's cache will read it.
    attacker = tmp_path / "attacker"
    monkeypatch.setenv("MAPGATE_CACHE_DIR", str(attacker))
    prepared_cache.store_geometries(kind, key, _attack_tiles(true_tiles, how))
    assert prepared_cache.load_geometries(kind, key) is not None  # valid where it was made
    shutil.copyfile(attacker / entry.name, entry)
    if attack == "entry-and-secret-in-open-folder":
        shutil.copyfile(attacker / "secret", victim / "secret")
        victim.chmod(0o777)
    monkeypatch.setenv("MAPGATE_CACHE_DIR", str(victim))
    _fresh_process()

    checker = Checker(packs=[pack])

    assert _union_matches(checker.territories["t"].areas._raw, land)
    assert checker.territories["t"].fraction_of(_data_footprint(data)) == 1.0
    assert checker.check(data).verdict.value == "deny"


def test_control_data_outside_the_territory_is_allowed(tmp_path, warm):
    pack, land = _territory(tmp_path, "norway-etrs33")
    outside = _write_layer(
        tmp_path / "outside.geojson", [shapely.box(20.0, 65.0, 20.0003, 65.0003)], "EPSG:4326"
    )
    Checker(packs=[pack])  # warms the cache
    _fresh_process()
    assert Checker(packs=[pack]).check(outside).verdict.value == "allow"


def test_a_changed_territory_is_cut_again(tmp_path, warm):
    pack, land = _territory(tmp_path, "chile-utm19s")
    Checker(packs=[pack])
    _fresh_process()
    moved, moved_land = _territory(tmp_path, "australia-lonlat")  # same files, new content
    assert moved == pack
    checker = Checker(packs=[pack])
    assert _union_matches(checker.territories["t"].areas._raw, moved_land)
    before = _key(warm, tmp_path / "territory.geojson")
    assert verified_cache._entry(tmp_path / "cache", *before).exists()


def test_the_cache_can_be_turned_off_and_defaults_to_the_user_cache(tmp_path, monkeypatch):
    pack, _ = _territory(tmp_path, "norway-etrs33")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("MAPGATE_CACHE_DIR", "none")
    _fresh_process()
    Checker(packs=[pack])
    assert not (tmp_path / "xdg").exists()

    monkeypatch.delenv("MAPGATE_CACHE_DIR")
    _fresh_process()
    Checker(packs=[pack])
    assert list((tmp_path / "xdg" / "mapgate").glob("territory-tiles-*.bin"))
    _fresh_process()


def test_a_cache_that_cannot_be_written_is_passed_over(tmp_path, monkeypatch):
    pack, land = _territory(tmp_path, "chile-utm19s")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("MAPGATE_CACHE_DIR", str(blocker / "cache"))
    _fresh_process()
    checker = Checker(packs=[pack])
    assert _union_matches(checker.territories["t"].areas._raw, land)
    assert blocker.read_text() == ""
    _fresh_process()
