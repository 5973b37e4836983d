"""The measuring stage computes from what the readers found: it never opens the file again.

Every open of a file (GDAL through pyogrio or rasterio, SQLite, zip) is recorded with the
code that asked for it, the real function doing the work. An open asked for from the
measuring stage is allowed only as the source's own stream of a layer's geometries (or of
the boxes its file keeps beside them).
"""

from __future__ import annotations

import sqlite3
import sys
import zipfile
from pathlib import Path
from types import FrameType

import numpy as np
import pyogrio
import pytest
import rasterio
from shapely.geometry import box

import compliance
from compliance import Checker
from tests.builders import write_vector

_PACKAGE = Path(compliance.__file__).resolve().parent
_MEASURE = str(_PACKAGE / "measure") + "/"
# A layer's own streams: its geometries, and the boxes its file keeps beside them.
_SOURCE_STREAMS = {
    "wkb_batches",
    "driver_extent",
    "index_tables",
    "envelope_batches",
    "rtree_leaves",
    "rtree_cells",
    "fgb_index",
}
_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Placemark><name>pin</name><Point><coordinates>127.025,37.465</coordinates></Point></Placemark>
  <GroundOverlay><name>ortho</name><Icon><href>ortho.png</href></Icon>
    <LatLonBox><north>37.47</north><south>37.46</south><east>127.03</east>
    <west>127.02</west><rotation>{rotation}</rotation></LatLonBox></GroundOverlay>
</Document></kml>
"""
# 0.01 deg of longitude at 37.465 N is 884.67 m on the WGS84 ellipsoid: 2,000 pixels
# across are 0.4423 m.
_PIXEL_M = 884.667 / 2000


def _callers() -> list[str]:
    frames: list[str] = []
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        frames.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")
        frame = frame.f_back
    return frames


class _Opens:
    """Every recorded open: what was opened and the stack that asked for it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def by_measure(self) -> list[str]:
        """Opens asked for from the measuring stage other than a source's layer stream."""
        found = []
        for what, stack in self.calls:
            measuring = any(f.startswith(_MEASURE) for f in stack)
            streaming = any(f.rsplit(":", 1)[1] in _SOURCE_STREAMS for f in stack)
            if measuring and not streaming:
                found.append(f"{what} from {[f for f in stack if f.startswith(str(_PACKAGE))]}")
        return found


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> _Opens:
    record = _Opens()

    def wrap(owner: object, name: str) -> None:
        real = getattr(owner, name)

        def recording(*args: object, **kwargs: object) -> object:
            record.calls.append((f"{name}({args[0] if args else ''})", _callers()))
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, recording)

    for name in ("read_info", "read_arrow", "open_arrow", "list_layers", "read_dataframe"):
        wrap(pyogrio, name)
    wrap(rasterio, "open")
    wrap(sqlite3, "connect")

    class RecordingZipFile(zipfile.ZipFile):
        def __init__(self, *args: object, **kwargs: object) -> None:
            record.calls.append((f"ZipFile({args[0] if args else ''})", _callers()))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile, "ZipFile", RecordingZipFile)
    return record


def _png(path: Path, size: int = 2000) -> Path:
    with rasterio.open(
        path, "w", driver="PNG", width=size, height=size, count=1, dtype="uint8"
    ) as dst:
        dst.write(np.zeros((1, size, size), dtype=np.uint8))
    return path


@pytest.mark.parametrize("rotation", [0, 30, -75])
def test_a_kml_check_opens_its_files_only_through_the_readers(
    tmp_path: Path, opens: _Opens, rotation: int
) -> None:
    _png(tmp_path / "ortho.png")
    kml = tmp_path / "overlay.kml"
    kml.write_text(_KML.format(rotation=rotation))
    inspection, _ = Checker(packs=[]).inspect(kml)
    (overlay,) = inspection.profile.image_overlays
    assert overlay.resolution_m == pytest.approx(_PIXEL_M, rel=1e-3)
    assert inspection.files_read == [(tmp_path / "ortho.png").resolve()]
    # The readers read the overlay layer and opened its image.
    assert {"read_arrow", "open"} <= {what.split("(")[0] for what, _ in opens.calls}
    assert opens.by_measure() == []


@pytest.mark.parametrize("extra", [{}, {"notes/positions.csv": "x,y\n127.02,37.46\n"}])
def test_a_kmz_check_opens_its_files_only_through_the_readers(
    tmp_path: Path, opens: _Opens, extra: dict[str, str]
) -> None:
    image = _png(tmp_path / "ortho.png")
    kmz = tmp_path / "overlay.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", _KML.format(rotation=10))
        z.write(image, "ortho.png")
        for name, text in extra.items():
            z.writestr(name, text)
    inspection, _ = Checker(packs=[]).inspect(kmz)
    (overlay,) = inspection.profile.image_overlays
    assert overlay.resolution_m == pytest.approx(_PIXEL_M, rel=1e-3)
    assert inspection.unchecked_files == sorted(extra)
    assert inspection.files_read == []  # the image is inside the KMZ
    assert opens.by_measure() == []


_ISO = (
    "<gmd:MD_Metadata><gmd:equivalentScale><gmd:MD_RepresentativeFraction><gmd:denominator>"
    "<gco:Integer>{}</gco:Integer></gmd:denominator></gmd:MD_RepresentativeFraction>"
    "</gmd:equivalentScale></gmd:MD_Metadata>"
)


@pytest.mark.parametrize(
    ("crs", "denominator"), [("EPSG:4326", 25_000), ("EPSG:3857", 5_000), ("EPSG:32652", 50_000)]
)
def test_a_geopackage_check_opens_it_only_through_the_readers(
    tmp_path: Path, opens: _Opens, crs: str, denominator: int
) -> None:
    from pyproj import Transformer

    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, y0 = to_crs.transform(127.38, 36.35)
    x1, y1 = to_crs.transform(127.39, 36.36)
    path = write_vector(tmp_path / "sheet.gpkg", [box(x0, y0, x1, y1)], crs)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER PRIMARY KEY, md_scope TEXT, "
            "md_standard_uri TEXT, mime_type TEXT, metadata TEXT)"
        )
        conn.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES ('dataset', 'http://www.isotc211.org/2005/gmd', 'text/xml', ?)",
            (_ISO.format(denominator),),
        )
    opens.calls.clear()
    inspection, _ = Checker(packs=[]).inspect(path)
    assert inspection.profile.declared_scale_denominator == denominator
    assert any(what.startswith("connect") for what, _ in opens.calls)
    assert opens.by_measure() == []
