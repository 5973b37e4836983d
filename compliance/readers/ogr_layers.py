"""OGR vector sources: their layers, each layer's geometry fields, and what the driver
does not report (a GML's geometry properties no layer reads, a GeoPackage's raster
tables, a GeoJSON's declared CRS GDAL could not read)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
from pyproj import CRS

from compliance.errors import UnreadableDataset
from compliance.readers.formats import (
    SINGLE_GEOMETRY_DRIVERS,
    SINGLE_LAYER_DRIVERS,
    UPLOAD_VECTOR_DRIVERS,
)
from compliance.readers.gdal_dataset import VectorDataset, open_vector
from compliance.readers.geojson_crs import declared_crs, unreadable_reason
from compliance.readers.gml_properties import scan_gml
from compliance.readers.gpkg_sql import sqlite_catalogue
from compliance.readers.pyogrio_dataset import PyogrioDataset
from compliance.readers.raw.sqlite_pages import SQLITE_MAGIC
from compliance.readers.sources import NO_GEOMETRY, READ_ONLY, LayerInfo, parse_crs
from compliance.readers.upload_guard import UploadScope, refuse_driver

__all__ = [
    "has_vector_geometry",
    "ogr_layers",
    "take_declared_crs",
    "unread_gml_geometries",
]


def _text_fields(info: dict[str, Any]) -> list[str]:
    """The fields of text and binary types (pyogrio's info gives their dtype as object)."""
    if "text_fields" in info:
        return [str(f) for f in info["text_fields"]]
    dtypes = info.get("dtypes")
    fields = info.get("fields", [])
    if dtypes is None:
        return [str(f) for f in fields]  # types unknown: every field may hold text
    return [str(f) for f, t in zip(fields, dtypes, strict=False) if str(t) == "object"]


def _layer_info(info: dict[str, Any], layer_name: str) -> LayerInfo:
    count = info.get("features")
    bounds = info.get("total_bounds")
    return LayerInfo(
        name=layer_name,
        crs=parse_crs(info.get("crs")),
        # pyogrio reports None for a table without geometry; "Unknown" is a geometry layer
        # whose type GDAL does not know.
        geometry_type=NO_GEOMETRY
        if info.get("geometry_type") is None
        else str(info["geometry_type"]),
        feature_count=int(count) if count is not None and count >= 0 else None,
        fields=[str(f) for f in info.get("fields", [])],
        text_fields=_text_fields(info),
        total_bounds=tuple(bounds) if bounds is not None and np.all(np.isfinite(bounds)) else None,
        metadata={str(k): str(v) for k, v in (info.get("layer_metadata") or {}).items()},
    )


def ogr_layers(
    path: Path, reasons: list[str], upload: UploadScope | None
) -> tuple[str, list[LayerInfo], dict[str, str], VectorDataset | PyogrioDataset] | None:
    """The driver, layers and dataset metadata of ``path`` as vector data, and the open
    dataset their geometries stream from (the caller closes it); None, with why in
    ``reasons``, when GDAL does not read it as vector layers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = open_vector(path, _options(path), UPLOAD_VECTOR_DRIVERS if upload else None)
        except (pyogrio.errors.DataSourceError, OSError) as exc:
            reasons.append(str(exc).split(";")[0])
            return None
        try:
            found = _described(dataset, path, reasons, upload)
        except BaseException:
            dataset.close()
            raise
        if found is None:
            dataset.close()
            return None
        return (*found, dataset)


def _options(path: Path) -> dict[str, str]:
    """How ``path`` is opened: read-only and, for an SQLite database (a GeoPackage too),
    with every table listed. By default GDAL lists a plain SQLite database's spatial
    tables only, and a GeoPackage's unregistered tables only while no table is
    registered as attributes: a table of positions beside one would leave unread."""
    try:
        with path.open("rb") as file:
            sqlite = file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        sqlite = False
    return {**READ_ONLY, "LIST_ALL_TABLES": "YES"} if sqlite else READ_ONLY


def _described(
    dataset: VectorDataset | PyogrioDataset,
    path: Path,
    reasons: list[str],
    upload: UploadScope | None,
) -> tuple[str, list[LayerInfo], dict[str, str]] | None:
    """The driver, layers and metadata of an open dataset (None, with why in ``reasons``);
    a single-layer driver's one layer is described by its first answer alone."""
    try:
        first: dict[str, Any] | None = dataset.info(0)
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        reasons.append(str(exc).split(";")[0])
        return None
    except (pyogrio.errors.DataLayerError, IndexError, ValueError):
        # No usable layer 0 (a raster-only GeoPackage, a fuzzed header): the listing decides.
        first = None
    if upload and first is not None:
        refuse_driver(str(first.get("driver")), upload.display)
    if (
        first is not None
        and first.get("driver") in SINGLE_LAYER_DRIVERS
        and first.get("layer_name")
        and path.is_file()
    ):
        layer = _layer_info(first, str(first["layer_name"]))
        return str(first["driver"]), [layer], dict(first.get("dataset_metadata") or {})
    try:
        listed = dataset.layer_names()
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        reasons.append(str(exc).split(";")[0])
        return None
    except (pyogrio.errors.DataLayerError, UnicodeDecodeError) as exc:
        raise UnreadableDataset(f"{path.name}: a layer cannot be read: {exc}") from exc
    if len(listed) == 0:
        return None
    driver, layers, meta = _listed_layers(dataset, listed, first, upload)
    if driver == "SQLite" and path.is_file():
        catalogue, shadows = sqlite_catalogue(path)
        for layer in layers:
            layer.catalogue = layer.geometry_type == NO_GEOMETRY and layer.name.lower() in catalogue
            layer.rtree_shadow = layer.catalogue and layer.name.lower() in shadows
    return driver, layers, meta


def _listed_layers(
    dataset: VectorDataset | PyogrioDataset,
    listed: list[str],
    first: dict[str, Any] | None,
    upload: UploadScope | None,
) -> tuple[str, list[LayerInfo], dict[str, str]]:
    """Each listed layer described (and, where the driver may hold several, one more layer
    per geometry field after the first)."""
    layers: list[LayerInfo] = []
    driver = ""
    dataset_meta: dict[str, str] = {}
    for layer_name in listed:
        if first is not None and first.get("layer_name") == layer_name:
            info = first
        else:
            try:
                info = dataset.info(layer_name)
            except (
                pyogrio.errors.DataSourceError,
                pyogrio.errors.DataLayerError,
                UnicodeDecodeError,  # field names or metadata that are not text
            ) as exc:
                raise UnreadableDataset(f"layer {layer_name!r} cannot be read: {exc}") from exc
        driver = info.get("driver") or driver
        if upload:
            refuse_driver(driver, upload.display)
        dataset_meta.update(info.get("dataset_metadata") or {})
        layer = _layer_info(info, str(layer_name))
        if driver not in SINGLE_GEOMETRY_DRIVERS and layer.geometry_type != NO_GEOMETRY:
            layers.extend(_with_other_geometry_fields(dataset, layer))
        else:
            layers.append(layer)
    return driver, layers, dataset_meta


def take_declared_crs(path: Path, layers: list[LayerInfo]) -> None:
    """Where GDAL could not read the CRS a GeoJSON declares, it quietly took WGS84; the
    layer's CRS is unknown instead."""
    member = declared_crs(path)
    if member is None:
        return
    for layer in layers:
        problem = unreadable_reason(member, layer.crs)
        if problem is not None:
            layer.crs, layer.crs_problem = None, problem


def has_vector_geometry(path: Path, drivers: Collection[str] | None = None) -> bool:
    """Whether GDAL reads ``path`` as vector layers of which one has geometry, opened by
    ``drivers`` only when given. The file is opened read-only, as a check opens it: no
    ``.gfs`` is left beside a GML."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = open_vector(path, READ_ONLY, drivers)
        except (pyogrio.errors.DataSourceError, OSError):
            return False
        try:
            return _any_geometry(dataset)
        finally:
            dataset.close()


def _any_geometry(dataset: VectorDataset | PyogrioDataset) -> bool:
    """Whether any layer of the open dataset has a geometry type."""
    try:
        first: dict[str, Any] | None = dataset.info(0)
    except (pyogrio.errors.DataSourceError, OSError):
        return False
    except (pyogrio.errors.DataLayerError, IndexError, ValueError):
        first = None
    if first is not None and first.get("geometry_type") is not None:
        return True
    try:
        names = dataset.layer_names()
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError):
        return False
    for name in names if first is None else names[1:]:
        try:
            if dataset.info(name).get("geometry_type") is not None:
                return True
        except (pyogrio.errors.DataLayerError, pyogrio.errors.GeometryError, ValueError):
            continue
    return False


_WKB_EXTENSIONS = {b"geoarrow.wkb", b"ogc.wkb"}


def _geometry_fields(
    dataset: VectorDataset | PyogrioDataset, layer_name: str
) -> list[tuple[str, CRS | None]]:
    """Every geometry field of a layer with its CRS, the driver's primary one first."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema, primary = dataset.geometry_schema(layer_name)
            primary = primary or "wkb_geometry"
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise UnreadableDataset(f"layer {layer_name!r} cannot be read: {exc}") from exc
    fields: list[tuple[str, CRS | None]] = []
    for f in schema:
        meta_of = f.metadata or {}
        if f.name != primary and meta_of.get(b"ARROW:extension:name") not in _WKB_EXTENSIONS:
            continue
        try:
            crs_json = json.loads(meta_of.get(b"ARROW:extension:metadata") or b"{}").get("crs")
        except (ValueError, AttributeError):
            crs_json = None
        entry = (f.name, parse_crs(crs_json) if crs_json else None)
        if f.name == primary:
            fields.insert(0, entry)
        else:
            fields.append(entry)
    return fields


def _with_other_geometry_fields(
    dataset: VectorDataset | PyogrioDataset, layer: LayerInfo
) -> list[LayerInfo]:
    """The layer, then a layer per geometry field after its first: a GML feature with a
    coarse outline and a precise position carries both out of the country, and the position
    may be inside a zone."""
    fields = _geometry_fields(dataset, layer.name)
    layer.geometry_fields = tuple(name for name, _ in fields)
    others = [
        LayerInfo(
            name=f"{layer.name}:{name}",
            crs=crs,
            geometry_type="Unknown",
            feature_count=layer.feature_count,
            fields=layer.fields,
            total_bounds=None,
            source_layer=layer.name,
            geometry_column=name,
            geometry_fields=layer.geometry_fields,
        )
        for name, crs in fields[1:]
    ]
    return [layer, *others]


def unread_gml_geometries(
    path: Path, layers: list[LayerInfo]
) -> tuple[list[str], list[str] | None]:
    """``feature type.property`` for each GML geometry property no layer reads (the whole
    file, by name, when its XML cannot be read through to tell), and the document's text
    GDAL does not read (``outside_features``; None when too much to keep)."""
    scan = scan_gml(path)
    if scan is None:
        return [f"{path.name} (its geometry properties could not be listed)"], []
    found = scan.found
    exposed: dict[str, set[str]] = {}
    for layer in layers:
        exposed.setdefault(layer.source_layer or layer.name, set()).update(layer.geometry_fields)
    everywhere = set().union(*exposed.values()) if exposed else set()
    unread = []
    for feature_type, properties in sorted(found.items()):
        read = exposed.get(feature_type, everywhere)
        unread += [f"{feature_type}.{p}" for p in sorted(properties - read)]
    if scan.envelopes.unmatched:
        unread.append(
            f"{scan.envelopes.unmatched} features whose own envelope (gml:boundedBy) is not "
            "the box of their geometries"
        )
    return unread, None if scan.unread.overflow else scan.unread.parts
