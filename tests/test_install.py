"""An installed mapgate works outside the checkout, and a plain install stays lean.

A wheel is built from a copy of the source tree, installed into a fresh virtual
environment that sees no other site-packages (its dependencies come from the package
index, as a user's would), and run from a folder outside the checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache",
    ".mypy_cache", ".ruff_cache", "node_modules", "tests",
)  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _clean_env() -> dict[str, str]:
    """The environment without anything that would let the checkout's code or rules in."""
    return {k: v for k, v in os.environ.items()
            if k not in {"PYTHONPATH", "MAPGATE_RULES_DIR", "VIRTUAL_ENV", "PYTHONHOME"}}  # fmt: skip


def _run(args: list[str | Path], cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=_clean_env(), capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its dependencies only; its bin folder."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    built = _run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-q",
                  "-w", base / "wheels"], cwd=base)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (base / "wheels").glob("mapgate-*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", venv], cwd=base)
    assert made.returncode == 0, made.stderr
    pip = _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], cwd=base)
    assert pip.returncode == 0, pip.stderr
    return venv / "bin"


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_installed_wheel_checks_a_sample_outside_the_checkout(installed: Path, tmp_path: Path):
    sample = tmp_path / "kr_5k_buildings.gpkg"
    shutil.copyfile(SAMPLES / "kr_5k_buildings.gpkg", sample)
    result = _run([installed / "mapgate", "check", sample.name, "--format", "json"], cwd=tmp_path)
    assert result.returncode == 30, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "deny"
    assert {p["name"] for p in verdict["packs"]} == {"in", "kr", "us-kba"}
    # The built-in rules and demo zones came from the package, not the checkout.
    assert verdict["zones"]["sha256"] == _sha256(ROOT / "rules" / "zones" / "demo_zones.geojson")
    where = _run([installed / "python", "-c",
                  "import compliance.locations as l; print(l.rules_dir())"], cwd=tmp_path)  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(installed.parent / "lib")
    assert str(ROOT) not in result.stdout
    allowed = _run([installed / "mapgate", "check", str(SAMPLES / "kr_50k_roads.gpkg"), "-q"],
                   cwd=tmp_path)  # fmt: skip
    assert (allowed.returncode, allowed.stdout) == (0, "")


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_plain_install_leaves_the_service_and_dask_out(installed: Path, tmp_path: Path):
    probe = ("import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None "
             "for m in ('fastapi', 'sqlalchemy', 'psycopg', 'uvicorn', 'dask', 'distributed', "
             "'compliance', 'pycountry')}))")  # fmt: skip
    found = json.loads(_run([installed / "python", "-c", probe], cwd=tmp_path).stdout)
    assert found == {"fastapi": False, "sqlalchemy": False, "psycopg": False, "uvicorn": False,
                     "dask": False, "distributed": False, "compliance": True, "pycountry": True}  # fmt: skip
    typed = _run([installed / "python", "-c",
                  "import compliance, pathlib; print((pathlib.Path(compliance.__file__).parent"
                  " / 'py.typed').is_file())"], cwd=tmp_path)  # fmt: skip
    assert typed.stdout.strip() == "True"
    serve = _run([installed / "mapgate", "serve", "--dev"], cwd=tmp_path, timeout=60)
    assert serve.returncode == 2
    assert "pip install 'mapgate[service]'" in serve.stderr and "Traceback" not in serve.stderr
