"""Builders for the leak tests: real files written in tmp_path with rasterio, pyogrio and
sqlite3, and the truth about them computed here, never with the project's helpers."""

from __future__ import annotations

import json
import sqlite3
import struct
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.shutil
import shapely
from pyproj import Transformer
from rasterio.enums import ColorInterp, Resampling
from rasterio.transform import from_origin

# Places outside every built-in pack's territory: with a pack of their own, the only
# thing that can hold a verdict is what the test builds. (lon, lat, CRS, pixel metres)
PLACES = {
    "oslo_utm32": (10.75, 59.91, "EPSG:25832", 0.5),
    "sydney_mga56": (151.21, -33.87, "EPSG:28356", 0.3),
    "buenos_aires_webmerc": (-58.38, -34.60, "EPSG:3857", 1.0),
    "nairobi_wgs84": (36.82, -1.29, "EPSG:4326", 5e-6),
}


def zone_pack(folder: Path) -> Path:
    """A pack without territory that denies any zone hit and allows the rest."""
    path = folder / "zone-deny.yaml"
    path.write_text(
        'pack: zone-deny\nversion: "1"\ntitle: t\njurisdiction: XX\nrules:\n'
        "  - id: ZD-1\n    title: data on a zone\n    when: zones.count > 0\n"
        "    effect: deny\n    reference: Test Act\n"
    )
    return path


def zone_file(folder: Path, zone: shapely.Geometry) -> Path:
    """One zone (lon/lat polygon, no buffer) as GeoJSON."""
    path = folder / "zones.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"zone_id": "Z1", "zone_class": "military", "buffer_m": 0},
                        "geometry": shapely.geometry.mapping(zone),
                    }
                ],
            }
        )
    )
    return path


def origin(place: str) -> tuple[float, float]:
    lon, lat, crs, _ = PLACES[place]
    return Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)


def to_lonlat(crs: str, geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
    t = Transformer.from_crs(crs, 4326, always_xy=True)
    return [shapely.transform(g, lambda xy: np.column_stack(t.transform(*xy.T))) for g in geoms]


# ---- rasters ---------------------------------------------------------------------------


def masked_raster(
    path: Path,
    place: str,
    size: int,
    block: tuple[int, int, int, int],
    kind: str,
    factors: list[int],
    external: bool = False,
    honest: bool = False,
) -> Path:
    """A GeoTIFF whose full resolution masks ``block`` (row0, row1, col0, col1) by
    ``kind`` (nodata, mask, alpha). Its overviews are built before the mask (they still
    show the block) or, ``honest``, after it; ``external`` puts them in a ``.ovr``."""
    _, _, crs, pixel = PLACES[place]
    x, y = origin(place)
    count = 4 if kind == "alpha" else 1
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": count,
        "dtype": "uint8",
        "crs": crs,
        "transform": from_origin(x, y, pixel, pixel),
        "tiled": True,
        "blockxsize": 64,
        "blockysize": 64,
    }
    if kind == "nodata":
        profile["nodata"] = 0
    env = {"GDAL_TIFF_INTERNAL_MASK": True} if kind == "mask" else {}
    r0, r1, c0, c1 = block
    with rasterio.Env(**env):
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(np.full((count, size, size), 200, dtype="uint8"))
            if kind == "alpha":
                dst.colorinterp = [
                    ColorInterp.red,
                    ColorInterp.green,
                    ColorInterp.blue,
                    ColorInterp.alpha,
                ]
                dst.write(np.full((size, size), 255, dtype="uint8"), 4)
            if kind == "mask":
                dst.write_mask(np.full((size, size), 255, dtype="uint8"))
            if not honest and not external:
                dst.build_overviews(factors, Resampling.average)
        if not honest and external:
            with rasterio.Env(TIFF_USE_OVR=True), rasterio.open(path, "r+") as src:
                src.build_overviews(factors, Resampling.average)
        with rasterio.open(path, "r+") as dst:
            if kind == "nodata":
                dst.write(np.zeros((1, r1 - r0, c1 - c0), dtype="uint8"), window=_win(block))
            elif kind == "alpha":
                zero = np.zeros((r1 - r0, c1 - c0), dtype="uint8")
                dst.write(zero, 4, window=_win(block))
            else:
                mask = np.full((size, size), 255, dtype="uint8")
                mask[r0:r1, c0:c1] = 0
                dst.write_mask(mask)
            if honest and not external:
                dst.build_overviews(factors, Resampling.average)
        if honest and external:
            with rasterio.Env(TIFF_USE_OVR=True), rasterio.open(path, "r+") as src:
                src.build_overviews(factors, Resampling.average)
    return path


def _win(block: tuple[int, int, int, int]) -> rasterio.windows.Window:
    r0, r1, c0, c1 = block
    return rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)


def leaked_pixels(path: Path) -> int:
    """Truth: per overview level, pixels valid where every pixel of the level above it,
    within one of that level's pixels of the cell, is masked (rasterio's masks, read
    whole: the test rasters are small)."""
    with rasterio.open(path) as ds:
        levels = [ds.dataset_mask() > 0]
        for i in range(len(ds.overviews(1))):
            with rasterio.open(path, overview_level=i) as ov:
                levels.append(ov.dataset_mask() > 0)
    total = 0
    for finer, coarser in zip(levels, levels[1:], strict=False):
        ry = finer.shape[0] / coarser.shape[0]
        rx = finer.shape[1] / coarser.shape[1]
        for i, j in zip(*np.nonzero(coarser), strict=True):
            rows = slice(max(0, int(np.floor(i * ry)) - 1), int(np.ceil((i + 1) * ry)) + 1)
            cols = slice(max(0, int(np.floor(j * rx)) - 1), int(np.ceil((j + 1) * rx)) + 1)
            total += not finer[rows, cols].any()
    return total


# ---- GeoPackages and shapefiles ------------------------------------------------------


def squares(place: str, n: int, side_m: float, step_m: float) -> list[shapely.Geometry]:
    """``n`` squares in a row eastward from the place, in its CRS (metres, or degrees)."""
    _, lat, crs, _ = PLACES[place]
    x, y = origin(place)
    scale = 1.0
    if crs == "EPSG:4326":
        scale = 1.0 / 111_320.0
    out = []
    for i in range(n):
        left = x + i * step_m * scale / (np.cos(np.radians(lat)) if scale != 1 else 1)
        out.append(shapely.box(left, y, left + side_m * scale, y + side_m * scale))
    return out


def gpkg_with_deletions(
    path: Path, place: str, geoms: list[shapely.Geometry], deleted: list[int], how: str
) -> Path:
    """A GeoPackage of ``geoms`` (layer ``features``) from which the rows ``deleted``
    (0-based) are then deleted with sqlite3: ``keep`` leaves their bytes (no
    secure_delete, no VACUUM), ``vacuum`` runs VACUUM after, ``secure`` zeroes them."""
    crs = PLACES[place][2]
    frame = gpd.GeoDataFrame({"n": list(range(len(geoms)))}, geometry=geoms, crs=crs)
    frame.to_file(path, layer="features", driver="GPKG")
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA secure_delete = {'ON' if how == 'secure' else 'OFF'}")
        db.executemany("DELETE FROM features WHERE n = ?", [(i,) for i in deleted])
        db.commit()
        if how == "vacuum":
            db.execute("VACUUM")
    return path


def shapefile_with_deletions(
    path: Path, crs: str, geoms: list[shapely.Geometry], deleted: list[int]
) -> Path:
    """A shapefile of ``geoms`` whose ``.dbf`` then marks ``deleted`` (0-based) with the
    dBase deletion flag ``*``, written into the file by hand."""
    frame = gpd.GeoDataFrame({"n": list(range(len(geoms)))}, geometry=geoms, crs=crs)
    frame.to_file(path, driver="ESRI Shapefile")
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    header_size, record_size = struct.unpack_from("<HH", data, 8)
    for i in deleted:
        data[header_size + i * record_size] = ord("*")
    dbf.write_bytes(bytes(data))
    return path


def still_in_file(
    path: Path, geoms: list[shapely.Geometry], which: list[int], srs_id: int
) -> list[int]:
    """Truth for a GeoPackage: the rows of ``which`` whose geometry blob start is still
    somewhere in the file's bytes. GDAL writes little-endian blobs; points bare, anything
    else with an XY envelope (minx, maxx, miny, maxy) after the SRS id."""
    data = path.read_bytes()
    found = []
    for i in which:
        g = geoms[i]
        if g.geom_type == "Point":
            head = b"GP\x00\x01" + struct.pack("<i", srs_id) + shapely.to_wkb(g, byte_order=1)
        else:
            minx, miny, maxx, maxy = g.bounds
            head = b"GP\x00\x03" + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy)
        if head in data:
            found.append(i)
    return found


# ---- images that cannot be placed ----------------------------------------------------


def plain_image(path: Path, driver: str, size: int = 32, **tags: str) -> Path:
    """An image without georeferencing (no CRS, no geotransform, no sidecar), with
    ``tags`` as GDAL metadata items."""
    source = path.with_name(path.stem + "-source.tif")
    with rasterio.open(
        source, "w", driver="GTiff", width=size, height=size, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.full((1, size, size), 90, dtype="uint8"))
        if tags:
            dst.update_tags(**tags)
    if driver == "GTiff":
        source.rename(path)
    else:
        rasterio.shutil.copy(source, path, driver=driver)
        source.unlink()
    for aux in path.parent.glob("*.aux.xml"):
        aux.unlink()
    return path


def dms(value: float) -> tuple[int, int, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return degrees, minutes, round((value - degrees - minutes / 60) * 3600, 2)


def exif_gps_block(lat: float, lon: float) -> bytes:
    """A little-endian EXIF (TIFF) structure whose IFD0 points to a GPS IFD holding the
    position in degrees, minutes and hundredths of seconds (CIPA DC-008)."""
    gps_ifd = 26
    data = gps_ifd + 2 + 4 * 12 + 4

    def rationals(v: float) -> bytes:
        d, m, s = dms(abs(v))
        return struct.pack("<6I", d, 1, m, 1, round(s * 100), 100)

    entries = [
        struct.pack("<HHI4s", 1, 2, 2, (b"N" if lat >= 0 else b"S") + b"\x00\x00\x00"),
        struct.pack("<HHII", 2, 5, 3, data),
        struct.pack("<HHI4s", 3, 2, 2, (b"E" if lon >= 0 else b"W") + b"\x00\x00\x00"),
        struct.pack("<HHII", 4, 5, 3, data + 24),
    ]
    return (
        b"II*\x00"
        + struct.pack("<I", 8)
        + struct.pack("<H", 1)
        + struct.pack("<HHII", 34853, 4, 1, gps_ifd)
        + struct.pack("<I", 0)
        + struct.pack("<H", len(entries))
        + b"".join(entries)
        + struct.pack("<I", 0)
        + rationals(lat)
        + rationals(lon)
    )


def with_exif(path: Path, exif: bytes) -> Path:
    """Put an EXIF block into a JPEG (an APP1 segment after SOI) or a PNG (an eXIf chunk
    after IHDR)."""
    data = path.read_bytes()
    if data[:2] == b"\xff\xd8":
        body = b"Exif\x00\x00" + exif
        data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:]
    else:
        import zlib

        chunk = b"eXIf" + exif
        inserted = struct.pack(">I", len(exif)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        data = data[:33] + inserted + data[33:]
    path.write_bytes(data)
    return path
