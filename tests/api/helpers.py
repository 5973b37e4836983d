"""Helpers of the API tests: data made in code, keys, settings, real server processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import rasterio
from affine import Affine

with warnings.catch_warnings():
    # Starlette asks for ``httpx2``; the TestClient works the same with httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient as TestClient  # re-exported for the tests

from api.auth import hash_key
from api.settings import Settings

REPO = Path(__file__).resolve().parents[2]

# name -> (secret, role)
KEYS = {
    "alice": ("alice-submitter-key", "submitter"),
    "bob": ("bob-submitter-key", "submitter"),
    "carol": ("carol-auditor-key", "auditor"),
}

PACK_YAML = """\
pack: api-test
version: "1.2.3"
title: API test pack
jurisdiction: nowhere
rules:
  - id: deny-military
    title: Data over a military zone
    when: 'zones.classes != null && "military" in zones.classes'
    effect: deny
    reference: test fixture
  - id: raster-attribution
    title: Rasters need attribution
    when: 'dataset.kind == "raster"'
    effect: allow_with_conditions
    conditions: [attribution]
    reference: test fixture
"""

# One military square at 10..11 E, 10..11 N.
ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"zone_id": "mil-001", "zone_class": "military"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]],
            },
        }
    ],
}


def auth(name: str) -> dict[str, str]:
    """The Authorization header of a configured key."""
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


def key_config() -> list[dict[str, str]]:
    return [{"name": n, "role": r, "sha256": hash_key(s)} for n, (s, r) in KEYS.items()]


def point_geojson(lon: float, lat: float, n: int = 1) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"i": i, "note": "x" * 20},
            "geometry": {"type": "Point", "coordinates": [lon + i * 1e-5, lat]},
        }
        for i in range(n)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def write_geotiff(path: Path, size: int = 64, lon: float = 30.0, lat: float = 40.0) -> Path:
    data = (np.arange(size * size, dtype=np.uint16) % 251).reshape(1, size, size)
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "uint16",
        "crs": "EPSG:4326",
        "transform": Affine(0.0001, 0, lon, 0, -0.0001, lat),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


@dataclass(frozen=True)
class ApiData:
    """Files made in code: a pack, zones, and samples that trigger each outcome."""

    root: Path
    pack: Path
    zones: Path
    in_zone: Path  # GeoJSON points inside the military zone -> deny
    clear: Path  # GeoJSON points far from any zone -> allow
    raster: Path  # small GeoTIFF -> allow_with_conditions
    garbage: Path  # not geodata -> 422


def make_settings(store_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"store_url": store_url, "keys": key_config()}
    values.update(overrides)
    return Settings(**values)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(api_data: ApiData, store_url: str, tmp_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a ``mapgate serve`` subprocess configured like the in-process apps."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPGATE_")}
    env.update(
        MAPGATE_PACKS=str(api_data.pack),
        MAPGATE_ZONES=str(api_data.zones),
        MAPGATE_STORE_URL=store_url,
        MAPGATE_KEYS=json.dumps(key_config()),
        MAPGATE_TMP_DIR=str(tmp_dir),
        TMPDIR=str(tmp_dir),  # the library's own temporary files land there too
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    port: int
    log: Path


def start_server(env: dict[str, str], log: Path, timeout: float = 60.0) -> Server:
    """``python -m compliance.cli.serve --port N`` (the function behind ``mapgate serve``), ready to answer."""
    port = free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "compliance.cli.serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    server = Server(process, f"http://127.0.0.1:{port}", port, log)
    wait_ready(server, timeout)
    return server


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    """Poll /readyz until it answers 200; kill the server and raise if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.process.kill()
    raise RuntimeError(f"server did not become ready: {server.log.read_text()[-3000:]}")


def stop_server(server: Server, timeout: float = 15) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextmanager
def servers(
    folder: Path, api_data: ApiData, uploads: Path, stop_timeout: float = 15, **defaults: str
) -> Iterator[Callable[..., Server]]:
    """Start real ``mapgate serve`` processes on demand (``start(store_url=None, **env)``,
    ``defaults`` under ``env``), each stopped when the block ends."""
    started: list[Server] = []

    def start(store_url: str | None = None, **env: str) -> Server:
        url = store_url or sqlite_url(folder / "audit.sqlite")
        env = defaults | env
        s = start_server(server_env(api_data, url, uploads, **env), folder / "server.log")
        started.append(s)
        return s

    try:
        yield start
    finally:
        for s in started:
            stop_server(s, stop_timeout)


def mapgate_temp_entries(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if p.name.startswith("mapgate-")}
