"""Bytes a shapefile carries where every record is read: inside a record past its shape,
and in .dbf records past the count its header gives.

The move: keep the coarse shapes every reader shows, and append to some .shp records a
finer copy of the feature (as WKB) after the shape, with the record's length (and its
.shx entry, and both headers' file lengths) grown to cover it; or append .dbf records
past the count in the .dbf header. GDAL reads the same features and attributes either
way. Claim under test: both are found and hold the verdict (review); shapefiles GDAL
writes (2-D and 3-D, with the optional M values of a Z type or without) are clean.

Truth: the .shp is rewritten here record by record with struct (ESRI Shapefile Technical
Description, 1998), and GDAL's reading is pyogrio's.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pyogrio
import pytest
import shapely

from compliance import Checker, Effect
from tests.adversarial.unindexed_files import CODE, far_zone, features, write
from tests.measure.leak_files import PLACES, zone_file, zone_pack


def _checker(tmp_path: Path, place: str) -> Checker:
    return Checker(packs=[str(zone_pack(tmp_path))], zones=zone_file(tmp_path, far_zone(place)))


def _records(shp: Path) -> list[bytes]:
    data = shp.read_bytes()
    at, out = 100, []
    while at + 8 <= len(data):
        size = 2 * struct.unpack_from(">i", data, at + 4)[0]
        out.append(data[at + 8 : at + 8 + size])
        at += 8 + size
    return out


def _rewrite(shp: Path, contents: list[bytes]) -> None:
    """The .shp and .shx rebuilt around ``contents``, lengths and offsets all consistent."""
    head = bytearray(shp.read_bytes()[:100])
    body, index, at = bytearray(), bytearray(), 100
    for number, content in enumerate(contents, start=1):
        assert len(content) % 2 == 0
        body += struct.pack(">ii", number, len(content) // 2) + content
        index += struct.pack(">ii", at // 2, len(content) // 2)
        at += 8 + len(content)
    struct.pack_into(">i", head, 24, at // 2)
    shp.write_bytes(bytes(head) + bytes(body))
    shx = shp.with_suffix(".shx")
    shx_head = bytearray(shx.read_bytes()[:100])
    struct.pack_into(">i", shx_head, 24, (100 + len(index)) // 2)
    shx.write_bytes(bytes(shx_head) + bytes(index))


def _finer_copy(geom: shapely.Geometry) -> bytes:
    wkb = shapely.to_wkb(shapely.segmentize(geom, 0.05))
    return wkb + b"\0" * (len(wkb) % 2)


@pytest.mark.parametrize(
    ("place", "kind", "z"),
    [
        ("oslo_utm32", "line", False),
        ("sydney_mga56", "polygon", True),
        ("nairobi_wgs84", "point", False),
    ],
)
def test_bytes_past_a_records_shape_hold_the_verdict(tmp_path, place, kind, z):
    crs = PLACES[place][2]
    geoms = features(place, kind, [False] * 12)
    if z:
        geoms = [shapely.force_3d(g, 5.0) for g in geoms]
    shp = write(tmp_path / "roads.shp", crs, geoms)
    before = pyogrio.read_arrow(shp)[1]
    contents = _records(shp)
    for i in (3, 7):
        contents[i] += _finer_copy(geoms[i])
    _rewrite(shp, contents)
    after = pyogrio.read_arrow(shp)[1]
    assert after.num_rows == before.num_rows
    assert after.column("wkb_geometry").equals(before.column("wkb_geometry"))  # GDAL reads the same
    verdict = _checker(tmp_path, place).check(shp)
    leaks = verdict.profile.leaks
    assert leaks.unindexed_records == 0
    assert any("2 records hold" in d and "past their shapes" in d for d in leaks.unindexed_damaged)
    assert CODE in {f.rule_id for f in verdict.findings}
    assert verdict.verdict == Effect.review


@pytest.mark.parametrize(
    ("kind", "z"),
    [("point", False), ("point", True), ("line", True), ("multiline", False), ("polygon", True)],
)
def test_shapefiles_gdal_writes_hold_nothing_past_their_shapes(tmp_path, kind, z):
    place = "oslo_utm32"
    geoms = features(place, kind, [False] * 8)
    if z:
        geoms = [shapely.force_3d(g, 2.0) for g in geoms]
    shp = write(tmp_path / "clean.shp", PLACES[place][2], geoms)
    verdict = _checker(tmp_path, place).check(shp)
    assert verdict.profile.leaks.unindexed_damaged == []
    assert CODE not in {f.rule_id for f in verdict.findings}


def test_a_z_shape_without_its_optional_m_values_is_clean(tmp_path):
    place = "sydney_mga56"
    geoms = [shapely.force_3d(g, 1.0) for g in features(place, "polygon", [False] * 4)]
    shp = write(tmp_path / "no_m.shp", PLACES[place][2], geoms)
    contents = []
    for content in _records(shp):
        parts, points = struct.unpack_from("<ii", content, 36)
        with_m = 44 + 4 * parts + 2 * (16 + 8 * points) + 16 * points
        # Some GDAL versions write the M values (zeros), others leave them out already.
        contents.append(content[: with_m - 16 - 8 * points] if len(content) == with_m else content)
    _rewrite(shp, contents)
    for content in _records(shp):
        parts, points = struct.unpack_from("<ii", content, 36)
        assert len(content) == 44 + 4 * parts + 16 * points + 16 + 8 * points  # Z, no M
    assert pyogrio.read_arrow(shp)[1].num_rows == len(geoms)
    verdict = _checker(tmp_path, place).check(shp)
    assert verdict.profile.leaks.unindexed_damaged == []


def test_dbf_records_past_its_count_hold_the_verdict(tmp_path):
    place = "oslo_utm32"
    geoms = features(place, "line", [False] * 6)
    shp = write(tmp_path / "roads.shp", PLACES[place][2], geoms)
    dbf = shp.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    count, header_size, record_size = struct.unpack_from("<IHH", data, 4)
    end = header_size + count * record_size
    hidden = bytes(data[end - record_size : end]).replace(b"5", b"9")
    data[end:end] = hidden * 3  # three records past the count, before the end marker
    dbf.write_bytes(bytes(data))
    assert pyogrio.read_arrow(shp)[1].num_rows == count  # GDAL reads the count
    verdict = _checker(tmp_path, place).check(shp)
    assert any(
        "roads.dbf: 3 records past the count" in d for d in verdict.profile.leaks.unindexed_damaged
    )
    assert verdict.verdict == Effect.review
