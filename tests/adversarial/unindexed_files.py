"""Builders for the unindexed-records tests: shapefiles and FlatGeobuf files written with
pyogrio (through geopandas), then patched here byte by byte so that GDAL skips some of
the records they hold; and the truth about them (walks of the records, the features'
ground), computed here with struct, shapely and pyproj, never with the project's helpers."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from compliance import Effect
from compliance.disclosure import undisclosed_verdict
from tests.measure.leak_files import PLACES, origin, to_lonlat

CODE = "MAPGATE-LEAK-UNINDEXED-RECORDS"


def features(place: str, kind: str, fine: list[bool]) -> list[shapely.Geometry]:
    """One feature per flag, 60 m apart eastward from the place, in its CRS: coarse ones
    drawn with 10 m steps, fine ones with 5 cm steps (a point is a point either way)."""
    _, lat, crs, _ = PLACES[place]
    x, y = origin(place)
    ux = uy = 1.0
    if crs == "EPSG:4326":
        uy = 1.0 / 111_320.0
        ux = uy / np.cos(np.radians(lat))
    out = []
    for i, is_fine in enumerate(fine):
        step = 0.05 if is_fine else 10.0
        x0 = x + i * 60.0 * ux
        ticks = np.arange(21)
        line = np.column_stack([x0 + ticks * step * ux, y + (ticks % 2) * step * uy])
        if kind == "point":
            out.append(shapely.Point(x0, y))
        elif kind == "line":
            out.append(shapely.LineString(line))
        elif kind == "multiline":
            out.append(shapely.MultiLineString([line, line + [0.0, 30.0 * uy]]))
        else:
            box = shapely.box(x0, y, x0 + 20.0 * ux, y + 20.0 * uy)
            out.append(shapely.segmentize(box, step * uy))
    return out


def zone_over(place: str, geoms: list[shapely.Geometry], first: int, last: int) -> shapely.Geometry:
    """A lon/lat box over the features ``first`` to ``last`` (inclusive)."""
    lonlat = to_lonlat(PLACES[place][2], geoms[first : last + 1])
    return shapely.box(*shapely.total_bounds(lonlat))


def far_zone(place: str) -> shapely.Geometry:
    """A zone 50 km north of the place: nothing meets it."""
    lon, lat, _, _ = PLACES[place]
    return shapely.box(lon - 0.01, lat + 0.45, lon + 0.01, lat + 0.46)


def meeting(crs: str, geoms: list[shapely.Geometry], zone: shapely.Geometry) -> list[int]:
    """Which of ``geoms`` meet ``zone``, computed on their lon/lat with pyproj."""
    t = Transformer.from_crs(crs, 4326, always_xy=True)
    lonlat = [shapely.transform(g, lambda xy: np.column_stack(t.transform(*xy.T))) for g in geoms]
    return [i for i, g in enumerate(lonlat) if g.intersects(zone)]


def write(path: Path, crs: str, geoms: list[shapely.Geometry], **options: str) -> Path:
    frame = gpd.GeoDataFrame({"n": list(range(len(geoms)))}, geometry=geoms, crs=crs)
    frame.to_file(path, **options)
    return path


# ---- shapefiles ----------------------------------------------------------------------


def shp_walk(shp: Path) -> list[int]:
    """Truth: the byte offset of every record of a ``.shp``, from its record headers."""
    data = shp.read_bytes()
    at, starts = 100, []
    while at + 8 <= len(data):
        starts.append(at)
        at += 8 + 2 * struct.unpack_from(">i", data, at + 4)[0]
    assert at == len(data)
    return starts


def _shx_entries(shx: Path) -> list[bytes]:
    data = shx.read_bytes()
    return [data[i : i + 8] for i in range(100, len(data), 8)]


def _with_shx(shx: Path, entries: list[bytes], counted: int | None = None) -> None:
    head = bytearray(shx.read_bytes()[:100])
    words = (100 + 8 * (len(entries) if counted is None else counted)) // 2
    head[24:28] = struct.pack(">i", words)
    shx.write_bytes(bytes(head) + b"".join(entries))


def shapefile_trick(
    folder: Path, crs: str, geoms: list[shapely.Geometry], read: list[int], how: str
) -> Path:
    """A shapefile of every one of ``geoms`` whose ``.shx`` and ``.dbf`` let GDAL read only
    the records ``read`` (0-based, in order): ``short`` (the ``.shx`` and ``.dbf`` of a
    file of those features alone, which must come first), ``skip`` (a ``.shx`` listing
    them alone, wherever they are), ``shx_header`` (every entry kept, the header's length
    counting fewer), ``dbf_cut`` (the ``.dbf`` cut after them), ``repeats`` (the entries
    past them pointing again at the first records)."""
    folder.mkdir()
    shp = write(folder / "roads.shp", crs, geoms)
    shx, dbf = shp.with_suffix(".shx"), shp.with_suffix(".dbf")
    entries = _shx_entries(shx)
    if how in ("short", "skip"):
        alone = folder / "alone"
        alone.mkdir()
        written = write(alone / "roads.shp", crs, [geoms[i] for i in read])
        shutil.copy(written.with_suffix(".dbf"), dbf)
        if how == "short":
            assert read == list(range(len(read)))
            shutil.copy(written.with_suffix(".shx"), shx)
            # The whole file's box in the index's header too, as in the .shp's (else the
            # headers differ, a finding of its own).
            index = bytearray(shx.read_bytes())
            index[36:100] = shp.read_bytes()[36:100]
            shx.write_bytes(bytes(index))
        else:
            _with_shx(shx, [entries[i] for i in read])
        shutil.rmtree(alone)
    elif how == "shx_header":
        _with_shx(shx, entries, counted=len(read))
    elif how == "dbf_cut":
        data = dbf.read_bytes()
        header_size, record_size = struct.unpack_from("<HH", data, 8)
        dbf.write_bytes(data[: header_size + len(read) * record_size])
    else:
        k = len(read)
        _with_shx(shx, entries[:k] + entries[: len(entries) - k])
    return shp


# ---- FlatGeobuf ----------------------------------------------------------------------


def fgb_walk(path: Path, first: int) -> list[int]:
    """Truth: the byte offset of every feature of a FlatGeobuf from ``first``, from the
    size that leads each."""
    data = path.read_bytes()
    at, starts = first, []
    while at + 4 <= len(data):
        starts.append(at)
        at += 4 + struct.unpack_from("<I", data, at)[0]
    assert at == len(data)
    return starts


def header_end(path: Path) -> int:
    """Where a FlatGeobuf's header ends (magic, then its size)."""
    return 12 + struct.unpack_from("<I", path.read_bytes(), 8)[0]


def with_count(path: Path, was: int, now: int) -> Path:
    """Patch the header's features_count (the one uint64 in the header equal to ``was``)."""
    data = bytearray(path.read_bytes())
    end = header_end(path)
    hits = [o for o in range(12, end - 7) if struct.unpack_from("<Q", data, o)[0] == was]
    assert len(hits) == 1, hits
    data[hits[0] : hits[0] + 8] = struct.pack("<Q", now)
    path.write_bytes(bytes(data))
    return path


def fgb_trick(folder: Path, crs: str, geoms: list[shapely.Geometry], read: int, how: str) -> Path:
    """A FlatGeobuf holding every one of ``geoms`` of which GDAL reads the first ``read``:
    ``count`` (no index, the header's count lowered) or ``indexed`` (a file of those
    features with its spatial index, the others' feature records appended after them)."""
    folder.mkdir()
    whole = write(folder / "whole.fgb", crs, geoms, driver="FlatGeobuf", SPATIAL_INDEX="NO")
    if how == "count":
        return with_count(whole, len(geoms), read)
    path = write(folder / "roads.fgb", crs, geoms[:read], driver="FlatGeobuf")
    data = whole.read_bytes()
    starts = fgb_walk(whole, header_end(whole))
    with path.open("ab") as f:
        f.write(data[starts[read] :])
    whole.unlink()
    return path


# ---- assertions ----------------------------------------------------------------------


def assert_held(verdict, unread: int, in_zone: int, read: int, zone_met: bool) -> None:  # type: ignore[no-untyped-def]
    """The records GDAL skips are counted, placed and met with the zone; the verdict is
    held (denied where anything meets the zone); the zone count stays a zone fact."""
    leaks = verdict.profile.leaks
    assert (leaks.unindexed_records, leaks.unindexed_records_unplaced) == (unread, 0)
    assert leaks.unindexed_records_in_zones == in_zone
    assert leaks.unindexed_damaged == []
    assert verdict.profile.feature_count == read  # what GDAL reads
    assert verdict.verdict != Effect.allow
    assert verdict.verdict == (Effect.deny if zone_met else Effect.review)
    finding = next(f for f in verdict.findings if f.rule_id == CODE)
    assert finding.effect == Effect.review
    assert finding.facts["dataset.unindexed_records"] == unread
    assert finding.facts["zones.unindexed_records"] == in_zone
    shown = undisclosed_verdict(verdict.model_dump(mode="json"))
    leak = next(f for f in shown["findings"] if f["rule_id"] == CODE)
    assert "zones.unindexed_records" not in leak["facts"]
    assert "unindexed_records_in_zones" not in shown["profile"]["leaks"]


def assert_clean(verdict, zone_met: bool) -> None:  # type: ignore[no-untyped-def]
    """A control: every record read, no leak finding, the verdict the zone alone gives."""
    assert verdict.profile.leaks.unindexed_records == 0
    assert verdict.profile.leaks.unindexed_damaged == []
    assert not [f for f in verdict.findings if f.rule_id.startswith("MAPGATE-LEAK")]
    assert verdict.verdict == (Effect.deny if zone_met else Effect.allow)
