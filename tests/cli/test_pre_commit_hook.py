"""The repository's pre-commit hook, run by pre-commit in a real git repository: a commit
of a map that gets ``deny`` is blocked, one that gets ``allow`` goes through."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.builders import SAMPLES

REPO = Path(__file__).resolve().parents[2]


def _hook() -> dict:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return hook


def _git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git repository whose pre-commit config runs this repository's hook definition.

    The hook is declared ``repo: local`` with the published id, file pattern and arguments;
    only its command is this checkout's (pre-commit would otherwise build a fresh
    environment from the package index for ``language: python``).
    """
    hook = _hook()
    command, *args = shlex.split(hook["entry"])
    assert command == "mapgate"
    entry = shlex.join([sys.executable, "-m", "compliance.cli.main", *args])
    local = {k: v for k, v in hook.items() if k not in {"entry", "language"}}
    config = {"repos": [{"repo": "local",
                         "hooks": [{**local, "entry": entry, "language": "system"}]}]}  # fmt: skip
    root = tmp_path / "maps"
    root.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "PYTHONPATH": str(REPO)}  # fmt: skip
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert _git(root, "init", "-q", env=env).returncode == 0
    installed = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=root,
                               env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    _git(root, "add", ".pre-commit-config.yaml", env=env)
    assert _git(root, "commit", "-q", "-m", "config", env=env).returncode == 0
    return root, env


def test_a_deny_is_blocked_and_an_allow_goes_through(repo: tuple[Path, dict[str, str]]):
    root, env = repo
    shutil.copyfile(SAMPLES / "kr_5k_buildings.gpkg", root / "kr_5k_buildings.gpkg")
    _git(root, "add", "kr_5k_buildings.gpkg", env=env)
    blocked = _git(root, "commit", "-m", "add a 1:5,000 map", env=env)
    assert blocked.returncode != 0
    assert "mapgate-check" in blocked.stdout + blocked.stderr
    assert "DENY" in blocked.stdout + blocked.stderr
    log = _git(root, "log", "--format=%s", env=env).stdout.split("\n")
    assert "add a 1:5,000 map" not in log
    _git(root, "rm", "-q", "--cached", "kr_5k_buildings.gpkg", env=env)
    (root / "kr_5k_buildings.gpkg").unlink()
    for name in ("kr_50k_roads.gpkg", "sat_10m_korea.tif"):  # allow, and review (below deny)
        shutil.copyfile(SAMPLES / name, root / name)
    _git(root, "add", "kr_50k_roads.gpkg", "sat_10m_korea.tif", env=env)
    passed = _git(root, "commit", "-m", "add a 1:50,000 map", env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert _git(root, "log", "-1", "--format=%s", env=env).stdout.strip() == "add a 1:50,000 map"


def test_the_hook_matches_map_files_only():
    import re

    pattern = re.compile(_hook()["files"])
    assert all(pattern.search(n) for n in ("a.tif", "b/C.GPKG", "roads.shp", "x.geojson"))
    assert not any(pattern.search(n) for n in ("roads.dbf", "package.json", "README.md"))


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_the_published_hook_installs_and_blocks_a_deny(repo: tuple[Path, dict[str, str]]):
    """pre-commit builds the hook's own environment from this repository (``language:
    python``: a plain install with its dependencies from the package index) and runs it."""
    if not (REPO / ".git").exists():
        pytest.skip("needs this repository as a git checkout")
    root, env = repo
    env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    for name in ("kr_5k_buildings.gpkg", "kr_50k_roads.gpkg"):
        shutil.copyfile(SAMPLES / name, root / name)
    _git(root, "add", ".", env=env)

    def try_repo(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(REPO),
                               "mapgate-check", "--files", name], cwd=root, env=env,
                              capture_output=True, text=True, timeout=2000)  # fmt: skip

    denied = try_repo("kr_5k_buildings.gpkg")
    assert denied.returncode == 1, denied.stdout + denied.stderr
    assert "DENY" in denied.stdout
    allowed = try_repo("kr_50k_roads.gpkg")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
