"""``make test`` stops the PostgreSQL server it started, also when the tests fail."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WITH_POSTGRES = REPO / ".ci" / "with-postgres.sh"

pytestmark = pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("bash") is None,
    reason="needs PostgreSQL's server binaries",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def cluster() -> tuple[dict[str, str], int, Path]:
    # The server runs as the postgres user when the tests run as root: its folder must be
    # one that user can reach, so not under pytest's private tmp_path.
    folder = Path(tempfile.mkdtemp(prefix="mapgate-pg-test-"))
    os.chmod(folder, 0o755)
    port = _free_port()
    env = {**os.environ, "MAPGATE_PG_PORT": str(port), "MAPGATE_PG_DIR": str(folder / "pg")}
    yield env, port, folder
    subprocess.run(["bash", str(REPO / ".ci" / "postgres.sh"), "stop"], env=env, timeout=120,
                   capture_output=True)  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("status", [0, 7])
def test_the_server_started_for_the_tests_is_stopped_after_them(cluster, status: int) -> None:
    env, port, _ = cluster
    seen = f'test "$MAPGATE_TEST_PG_URL" = "postgresql://postgres@127.0.0.1:{port}/postgres"'
    script = f"{seen} && (exec 3<>/dev/tcp/127.0.0.1/{port}) && exit {status}"
    result = subprocess.run(["bash", str(WITH_POSTGRES), "bash", "-c", script], env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == status, result.stderr
    assert not _answers(port)


def test_a_server_that_was_already_running_is_left_running(cluster) -> None:
    env, port, _ = cluster
    started = subprocess.run(["bash", str(REPO / ".ci" / "postgres.sh")], env=env,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert started.returncode == 0, started.stderr
    result = subprocess.run(["bash", str(WITH_POSTGRES), "false"], env=env, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 1
    assert _answers(port)


def test_make_test_runs_the_suite_through_it() -> None:
    recipe = subprocess.run(["make", "-n", "-W", "pyproject.toml", "test", "VENV=.venv-none"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "bash .ci/with-postgres.sh .venv-none/bin/python -m pytest" in recipe.stdout
