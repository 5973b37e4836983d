"""Precise positions kept in attribute text written with other digits than ASCII's.

The move: snap the drawn points to a coarse grid and keep each precise position as text
in full-width digits ("３７．５６１２３４", as CJK text often writes digits), Arabic-Indic
digits with the Arabic decimal separator ("٣٧٫٥٦١٢٣٤"), or Devanagari digits; or write
the geometry itself as WKT in full-width forms. Any reader (and Python's ``float``) takes
them for the numbers they are; a scan for ASCII digits finds nothing.

Claim under test: each holds the layer (or the document) for review: numbers in any
text column, in a pair of columns named as coordinates, in a plain table beside the
layer, WKT in a text column, and a GeoJSON member GDAL does not read. The same text
holding the drawn positions, or digits that place nothing (floors, house numbers), does
not.

Truth: the precise positions are drawn here at random around Seoul and carried into
Korea 2000 with pyproj; the other scripts' digits are written by the test's own table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest
import shapely
from pyproj import Transformer

from compliance import Checker, Effect
from tests.adversarial.attribute_layers import held, write_layer


def _script(zero: int, point: str = ".") -> Callable[[str], str]:
    """ASCII number text written with the ten digits from code point ``zero`` on."""
    table = {ord(str(d)): chr(zero + d) for d in range(10)} | {ord("."): point}
    return lambda text: text.translate(table)


SCRIPTS = {
    "full-width": _script(0xFF10, "\uff0e"),
    "full-width, ASCII point": _script(0xFF10),
    "arabic-indic": _script(0x0660, "\u066b"),
    "extended arabic-indic": _script(0x06F0, "\u066b"),
    "devanagari": _script(0x0966),
    "thai": _script(0x0E50),
}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(packs=["kr"])


def _positions(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Precise lon/lat points up to 40 m off a 50 m lattice in Seoul, and the same snapped
    to 0.001 degree (about 100 m)."""
    lattice = np.array([(i % 6, i // 6) for i in range(n)], dtype=float) * 50.0
    offsets = np.random.default_rng(34).uniform(-40.0, 40.0, (n, 2))
    x0, y0 = Transformer.from_crs(4326, 5186, always_xy=True).transform(126.905, 37.552)
    metres = np.array([x0, y0]) + lattice + offsets
    exact = np.column_stack(
        Transformer.from_crs(5186, 4326, always_xy=True).transform(metres[:, 0], metres[:, 1])
    )
    return exact, np.round(exact, 3)


def _korea_2000(lonlat: np.ndarray) -> np.ndarray:
    to = Transformer.from_crs(4326, 5186, always_xy=True)
    return np.column_stack(to.transform(lonlat[:, 0], lonlat[:, 1]))


def _pair(
    write: Callable[[str], str], names: tuple[str, str], xy: np.ndarray, decimals: int
) -> dict[str, pa.Array]:
    """Text columns of the x and the y of ``xy``, written with ``write``'s digits."""
    return {
        name: pa.array([write(f"{v:.{decimals}f}") for v in xy[:, k]])
        for k, name in enumerate(names)
    }


def _found_beside(checker, tmp_path, geoms, epsg, precise: dict, drawn: dict) -> list[str]:  # type: ignore[no-untyped-def]
    """The columns found beside ``geoms`` holding ``precise``; those holding ``drawn`` (the
    control) must not be."""
    path = write_layer(tmp_path / "drawn.gpkg", geoms, epsg, drawn)
    assert _columns(checker.check(path)) == []
    return _columns(checker.check(write_layer(tmp_path / "precise.gpkg", geoms, epsg, precise)))


def _columns(verdict) -> list[str]:
    found = verdict.profile.layers[0].coordinate_columns or []
    if found:
        assert held(verdict)
        assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    return found


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_latitude_and_longitude_text_in_other_digits_holds_the_layer(tmp_path, checker, script):
    write = SCRIPTS[script]
    exact, coarse = _positions()
    geoms = shapely.points(coarse)

    def text(lonlat: np.ndarray) -> pa.Array:
        return pa.array([write(f"위치 {y:.7f}, {x:.7f}") for x, y in lonlat])

    found = checker.check(
        write_layer(tmp_path / "precise.gpkg", geoms, 4326, {"메모": text(exact)})
    )
    assert _columns(found) == ["메모"]
    drawn = checker.check(write_layer(tmp_path / "drawn.gpkg", geoms, 4326, {"메모": text(coarse)}))
    assert _columns(drawn) == []


@pytest.mark.parametrize("script", ["full-width", "arabic-indic"])
def test_eastings_in_other_digits_hold_a_korea_2000_layer(tmp_path, checker, script):
    write = SCRIPTS[script]
    exact, coarse = _positions()
    precise, drawn = _korea_2000(exact), np.round(_korea_2000(coarse), -2)
    found = _found_beside(
        checker, tmp_path, shapely.points(drawn), 5186,
        _pair(write, ("a", "b"), precise, 2), _pair(write, ("a", "b"), drawn, 2),
    )  # fmt: skip
    assert found == ["a", "b"]


def test_a_named_pair_in_full_width_digits_holds_the_layer(tmp_path, checker):
    """``lat``/``lon`` columns of text with the full-width point, which ``float`` refuses
    (it takes the digits, not the point)."""
    write = SCRIPTS["full-width"]
    exact, coarse = _positions()
    found = _found_beside(
        checker, tmp_path, shapely.points(coarse), 4326,
        _pair(write, ("lon", "lat"), exact, 7), _pair(write, ("lon", "lat"), coarse, 7),
    )  # fmt: skip
    assert set(found) == {"lat", "lon"}


def test_full_width_wkt_in_a_text_column_holds_the_layer(tmp_path, checker):
    exact, coarse = _positions()
    geoms = shapely.points(coarse)
    full_width = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}  # ASCII's full-width forms
    outlines = shapely.to_wkt(shapely.buffer(shapely.points(exact), 0.0001, quad_segs=2))
    text = pa.array([w.translate(full_width) for w in outlines])
    path = write_layer(tmp_path / "outlines.gpkg", geoms, 4326, {"비고": text})
    assert _columns(checker.check(path)) == ["비고"]
    # Control: full-width house numbers and floors, as Korean addresses write them.
    notes = pa.array(
        [f"종로구 세종대로 {i + 1}번지 {i % 9 + 1}층".translate(full_width) for i in range(24)]
    )
    path = write_layer(tmp_path / "notes.gpkg", geoms, 4326, {"비고": notes})
    assert _columns(checker.check(path)) == []


@pytest.mark.parametrize("table", ["outlines", "gpkg_outlines"])
def test_full_width_wkt_in_a_plain_table_holds_the_file(tmp_path, checker, table):
    """A table SQLite reads (as stored: bytes), listed by GDAL or not, of outlines as WKT
    in full-width forms (letters too): read as the WKT it is. Three rows, fewer than a
    pair of columns is met on: only the WKT can tell."""
    exact, coarse = _positions()
    full_width = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
    outlines = shapely.to_wkt(shapely.buffer(shapely.points(exact[:3]), 0.0001, quad_segs=8))
    path = write_layer(tmp_path / "sites.gpkg", shapely.points(coarse), 4326, {})
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE {table} (fid INTEGER PRIMARY KEY, note TEXT)")
        db.executemany(
            f"INSERT INTO {table} (note) VALUES (?)",
            [(w.translate(full_width),) for w in outlines],
        )
    verdict = checker.check(path)
    found = {layer.name: layer.coordinate_columns for layer in verdict.profile.layers}
    assert found.get(table) == ["note"], found
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)


def test_a_plain_table_of_full_width_positions_beside_the_layer_holds_the_file(tmp_path, checker):
    write = SCRIPTS["full-width"]
    exact, coarse = _positions()
    path = write_layer(tmp_path / "sites.gpkg", shapely.points(coarse), 4326, {})
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (fid INTEGER PRIMARY KEY, p TEXT, q TEXT)")
        db.executemany(
            "INSERT INTO notes (p, q) VALUES (?, ?)",
            [(write(f"{x:.7f}"), write(f"{y:.7f}")) for x, y in exact],
        )
    verdict = checker.check(path)
    notes = [layer for layer in verdict.profile.layers if layer.name == "notes"]
    assert notes and notes[0].coordinate_columns == ["p", "q"]
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)


def test_a_geojson_member_in_full_width_digits_holds_the_document(tmp_path, checker):
    """One number per Feature, in a member GDAL does not read: the latitude, alone (two
    numbers the size of coordinates are held whatever they say)."""
    write = SCRIPTS["full-width"]
    exact, coarse = _positions()

    def document(member: Callable[[int], str]) -> dict:
        features = [
            {
                "type": "Feature",
                "properties": {"n": i},
                "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
                "at": member(i),
            }
            for i, (x, y) in enumerate(coarse)
        ]
        return {"type": "FeatureCollection", "features": features}

    path = tmp_path / "precise.geojson"
    path.write_text(
        json.dumps(document(lambda i: write(f"{exact[i, 1]:.7f}")), ensure_ascii=False),
        encoding="utf-8",
    )
    verdict = checker.check(path)
    assert any("at (24)" in f.message for f in verdict.findings)
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    # Control: the drawn latitude so written.
    path = tmp_path / "drawn.geojson"
    path.write_text(
        json.dumps(document(lambda i: write(f"{coarse[i, 1]:.7f}")), ensure_ascii=False),
        encoding="utf-8",
    )
    assert not any("at (" in f.message for f in checker.check(path).findings)
