"""What a GeoPackage lists beside its layers, read on one connection: each table asked for
on its own, so that one that is missing hides nothing of the other."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shapely.geometry import box

from compliance.readers.gpkg_sql import gpkg_catalogue
from tests.builders import append_raster_table, write_vector

_ISO = "<gmd:MD_Metadata>scale 1:5000</gmd:MD_Metadata>"


def _with_tiles(path: Path) -> Path:
    write_vector(path, [box(126.5, 36.5, 126.51, 36.51)], 4326)
    return append_raster_table(path, "ortho", res_m=0.5, fill=7)


def test_raster_tables_and_metadata_documents_together(tmp_path: Path) -> None:
    path = _with_tiles(tmp_path / "sheet.gpkg")
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE gpkg_metadata (id INTEGER PRIMARY KEY, md_scope TEXT, "
            "md_standard_uri TEXT, mime_type TEXT, metadata TEXT)"
        )
        db.execute("INSERT INTO gpkg_metadata (metadata) VALUES (?), (''), (NULL)", (_ISO,))
    catalogue = gpkg_catalogue(path)
    assert catalogue.raster_tables == ["ortho"]
    assert catalogue.metadata_documents == [_ISO]


def test_a_missing_metadata_table_hides_no_raster_table(tmp_path: Path) -> None:
    path = _with_tiles(tmp_path / "sheet.gpkg")
    with sqlite3.connect(path) as db:
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_metadata'").fetchall()
    catalogue = gpkg_catalogue(path)
    assert catalogue.raster_tables == ["ortho"] and catalogue.metadata_documents == []


def test_a_file_that_is_not_sqlite_lists_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sheet.gpkg"
    path.write_bytes(b"not a database" * 100)
    catalogue = gpkg_catalogue(path)
    assert catalogue.raster_tables == [] and catalogue.metadata_documents == []
    assert catalogue == gpkg_catalogue(tmp_path / "absent.gpkg")
