"""Builders the tests share: real rasters and vectors written to a folder, a listener that
notes calls, where the repository and the real-data corpus are."""

from __future__ import annotations

import socket
import threading
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.transform import Affine, from_origin

__all__ = [
    "zip_of",
    "REAL_DATA",
    "REPO",
    "SAMPLES",
    "GMT_POINT",
    "Listener",
    "append_raster_table",
    "ers_header",
    "write_pack_across_the_antimeridian",
    "write_raster",
    "write_vector",
]

REPO = Path(__file__).resolve().parent.parent  # tests/ is one level down
REAL_DATA = REPO.parent / "shared" / "real_data"
SAMPLES = REPO / "sample_maps"
# A GMT vector file of one point in Seoul: harmless, and read by a driver off the upload list.
GMT_POINT = (
    b'# @VGMT1.0 @GPOINT\n# @Jp"+proj=longlat +datum=WGS84 +no_defs"\n# FEATURE_DATA\n'
    b">\n127.025 37.465\n"
)


def ers_header(data: str) -> bytes:
    """A georeferenced ERS header (200 x 200 pixels at 127.02 E, 37.47 N) whose pixels are
    the file ``data``, a path the header may give any way it likes."""
    return f"""DatasetHeader Begin
    Version = "6.0"
    DataFile = "{data}"
    DataSetType = ERStorage
    DataType = Raster
    ByteOrder = LSBFirst
    CoordinateSpace Begin
        Datum = "WGS84"
        Projection = "GEODETIC"
        CoordinateType = LATLONG
    CoordinateSpace End
    RasterInfo Begin
        CellType = Unsigned8BitInteger
        CellInfo Begin
            Xdimension = 0.0001
            Ydimension = 0.0001
        CellInfo End
        NrOfLines = 200
        NrOfCellsPerLine = 200
        RegistrationCoord Begin
            Longitude = 127:01:00.0
            Latitude = 37:28:00.0
        RegistrationCoord End
        NrOfBands = 1
    RasterInfo End
DatasetHeader End
""".encode()


class Listener:
    """A local address that notes every call made to it and hangs up at once, so that a
    check which calls it fails its test rather than waiting for an answer."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._answer, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _answer(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                self.calls.append(conn.recv(300))

    def close(self) -> None:
        self._sock.close()


def write_raster(
    path: Path,
    crs: str | None,
    transform: Affine,
    width: int = 32,
    height: int = 32,
    count: int = 1,
    dtype: str = "uint8",
    **extra: object,
) -> Path:
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": dtype,
        "transform": transform,
    }
    if crs is not None:
        profile["crs"] = crs
    profile.update(extra)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.zeros((count, height, width), dtype=dtype))
    return path


def append_raster_table(
    path: Path, table: str, res_m: float, side: int = 64, count: int = 1, fill: int = 0
) -> Path:
    """A table of tiles added to a GeoPackage: ``side`` x ``side`` pixels of ``res_m`` metres
    in UTM 52N, from about 126.99 E 37.47 N (Seoul)."""
    profile = {"driver": "GPKG", "width": side, "height": side, "count": count,
               "dtype": "uint8", "crs": "EPSG:32652",
               "transform": from_origin(322_000, 4_148_000, res_m, res_m)}  # fmt: skip
    with rasterio.open(path, "w", RASTER_TABLE=table, APPEND_SUBDATASET="YES", **profile) as dst:
        dst.write(np.full((count, side, side), fill, dtype="uint8"))
    return path


def write_vector(
    path: Path, geoms: list, crs: object, driver: str | None = None, **fields: list
) -> Path:
    frame = gpd.GeoDataFrame(fields or {"n": list(range(len(geoms)))}, geometry=geoms, crs=crs)
    frame.to_file(path, driver=driver)
    return path


def write_pack_across_the_antimeridian(folder: Path, buffer_m: float = 0.0) -> Path:
    """A pack whose territory lies on both sides of 180° (178..180°E and 180..178°W, 15 to
    19°S, written as most data has it), with one rule: deny data wholly inside it."""
    gpd.GeoDataFrame(
        {"name": ["west", "east"]},
        geometry=[
            shapely.box(178.0, -19.0, 180.0, -15.0),
            shapely.box(-180.0, -19.0, -178.0, -15.0),
        ],
        crs=4326,
    ).to_file(folder / "fiji.geojson")
    pack = folder / "fj.yaml"
    pack.write_text(
        'pack: fj\nversion: "1"\ntitle: t\njurisdiction: FJ\nterritory: fiji.geojson\n'
        f"territory_buffer_m: {buffer_m}\nrules:\n"
        "  - id: FJ-1\n    title: wholly inside\n    when: territory.fraction > 0.99\n"
        "    effect: deny\n    reference: Test Act\n"
    )
    return pack


def zip_of(path: Path, members: dict[str, str | bytes | Path]) -> Path:
    """A zip (or KMZ) of text, bytes, or copies of files, by member name."""
    with zipfile.ZipFile(path, "w") as z:
        for name, content in members.items():
            if isinstance(content, Path):
                z.write(content, name)
            else:
                z.writestr(name, content)
    return path
