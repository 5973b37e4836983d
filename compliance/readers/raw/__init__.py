"""Parsers of raw file formats, for what a file holds where GDAL does not look: SQLite
pages, GeoPackage geometry blobs, dBase and shapefile records, EXIF and XMP."""

__all__: list[str] = []
