"""A ``mapgate check`` process imports what that check needs and nothing else.

Each check runs as the console command does, in a fresh interpreter, which then lists the
modules it loaded. A vector check must not load rasterio, the audit's pools, remediation,
signing, the service's web stack or the other subcommands; a raster check loads rasterio
and the raster measures, and still none of the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin

# Run as the `mapgate` console script does: compliance.cli.main.main() with sys.argv.
_RUN = (
    "import json, sys\n"
    "out, sys.argv = sys.argv[1], ['mapgate', *sys.argv[2:]]\n"
    "from compliance.cli.main import _run\n"
    "code = _run()\n"
    "with open(out, 'w') as f:\n"
    "    json.dump({'code': code, 'modules': sorted(sys.modules)}, f)\n"
)

# Loaded by no check: other subcommands and what only they need.
_NEVER_FOR_CHECK = (
    "compliance.batch",
    "compliance.remediate",
    "compliance.attestation",
    "compliance.isolation",
    "compliance.cli.audit",
    "compliance.cli.serve",
    "compliance.cli.remediate",
    "compliance.cli.attest",
    "compliance.outputs.sarif",
    "api",
    "fastapi",
    "starlette",
    "uvicorn",
    "dask",
    "distributed",
    "jinja2",
    "cryptography",
    "pandas",
    "geopandas",
    "pyarrow.compute",  # 50 ms, loaded by pyarrow on the first is_null, take or flatten
    "numpy.ma",  # 8 ms, loaded by np.unique's first call (compliance.arrays.distinct instead)
)
# Loaded only when the file turns out to be a raster.
_RASTER_ONLY = (
    "rasterio",
    "compliance.measure.raster_inspection",
    "compliance.measure.valid_pixels",
)


def _check_modules(
    tmp_path: Path, path: Path, env: dict[str, str] | None = None
) -> tuple[int, set[str], str]:
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", _RUN, str(out), "check", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    return report["code"], set(report["modules"]), result.stdout


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def _buildings(lon: float, lat: float, crs: str, n: int = 40) -> np.ndarray:
    """``n`` 10 m squares around (lon, lat), in ``crs``'s own units."""
    x0, y0 = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    step = 10.0 if not crs.endswith("4326") else 1e-4
    xs = x0 + np.arange(n) * 3 * step
    return shapely.box(xs, y0, xs + step, y0 + step)


@pytest.mark.parametrize(
    ("name", "driver", "crs", "place"),
    [
        ("buildings.geojson", "GeoJSON", "EPSG:4326", (126.98, 37.57)),  # Seoul
        ("buildings.gpkg", "GPKG", "EPSG:5186", (129.07, 35.18)),  # Busan, Korea 2000
        ("buildings.shp", "ESRI Shapefile", "EPSG:32618", (-74.0, 40.7)),  # New York, UTM
    ],
)
def test_a_vector_check_loads_no_raster_audit_service_or_remediation_code(
    tmp_path, name, driver, crs, place
):
    geoms = _buildings(*place, crs)
    path = tmp_path / name
    # A number and a name, as buildings have: both are read for levels.
    names = [f"building {i}" for i in range(len(geoms))]
    table = pa.table({"n": np.arange(len(geoms)), "name": names, "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(
        table, path, driver=driver, geometry_name="geometry", geometry_type="Polygon", crs=crs
    )

    code, modules, stdout = _check_modules(tmp_path, path)

    verdict = json.loads(stdout)
    assert verdict["profile"]["kind"] == "vector"
    assert code in {0, 10, 20, 30}
    assert "compliance.checker" in modules and "compliance.cli.check" in modules
    assert [m for m in (*_NEVER_FOR_CHECK, *_RASTER_ONLY) if _loaded(modules, m)] == []


def test_a_raster_check_loads_rasterio_and_still_no_audit_or_remediation_code(tmp_path):
    path = tmp_path / "ortho.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=16, height=16, count=1, dtype="uint8",
        crs="EPSG:5186", transform=from_origin(200_000, 550_000, 0.5, 0.5),
    ) as dst:  # fmt: skip
        dst.write(np.full((1, 16, 16), 7, dtype="uint8"))

    code, modules, stdout = _check_modules(tmp_path, path)

    assert json.loads(stdout)["profile"]["kind"] == "raster"
    assert code in {0, 10, 20, 30}
    assert [m for m in _RASTER_ONLY if not _loaded(modules, m)] == []
    assert [m for m in _NEVER_FOR_CHECK if _loaded(modules, m)] == []


def test_packs_parsed_once_are_read_back_without_loading_yaml(tmp_path):
    """The first process parses the packs' YAML and keeps them in the verified cache; the
    next reads them back as JSON, gives the same verdict, and never imports PyYAML."""
    geoms = _buildings(126.98, 37.57, "EPSG:4326")
    path = tmp_path / "buildings.geojson"
    table = pa.table({"n": np.arange(len(geoms)), "geometry": shapely.to_wkb(geoms)})
    pyogrio.write_arrow(
        table, path, driver="GeoJSON", geometry_name="geometry", geometry_type="Polygon",
        crs="EPSG:4326",
    )  # fmt: skip
    env = {**os.environ, "MAPGATE_CACHE_DIR": str(tmp_path / "cache")}

    first_code, first_modules, first_out = _check_modules(tmp_path, path, env)
    second_code, second_modules, second_out = _check_modules(tmp_path, path, env)

    assert "yaml" in first_modules and "yaml" not in second_modules
    assert list((tmp_path / "cache").glob("pack-json-*.bin"))
    first, second = json.loads(first_out), json.loads(second_out)
    assert second_code == first_code
    assert [(p["name"], p["sha256"]) for p in second["packs"]] == [
        (p["name"], p["sha256"]) for p in first["packs"]
    ]
    assert first["findings"] and second["findings"] == first["findings"]
    assert (second["verdict"], second["conditions"]) == (first["verdict"], first["conditions"])


@pytest.mark.parametrize(
    "name",
    [
        "vectors/fiona/issue627.geojson",  # lists of numbers in its properties
        "vectors/fiona/test_tin.shp",  # TINs: rows decoded by GEOS, not read from the WKB
        "vectors/gdal_autotest2/poly/poly.shp",  # polygons with fields read as levels
        "korea/skorea_provinces_geo_simple.json",  # provinces meeting each other
        "vectors/gdal_autotest2/geometries.kml",  # collections and 3-D placemarks
    ],
)
def test_real_files_load_no_module_a_small_check_spares(tmp_path, real_data, name):
    """Files from other projects, each reaching a path where pyarrow's kernels or
    ``numpy.ma`` were once loaded (Arrow's take, flatten, dictionary_encode; np.median)."""
    code, modules, _ = _check_modules(tmp_path, real_data / name)
    assert code in {0, 10, 20, 30}
    assert [m for m in ("pyarrow.compute", "numpy.ma", "pandas") if _loaded(modules, m)] == []
