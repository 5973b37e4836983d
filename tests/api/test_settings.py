"""Settings from the environment and config files; API key hashing and lookup; serve()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from api.auth import bearer_token, find_caller, hash_key
from api.settings import ApiKey, Settings, read_config_file
from compliance.cli.serve import serve

KEY = {"name": "ci", "role": "submitter", "sha256": hash_key("s3cret")}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("MAPGATE_"):
            monkeypatch.delenv(name)


def test_environment_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPGATE_KEYS", json.dumps([KEY]))
    monkeypatch.setenv("MAPGATE_PACKS", "kr, jp")
    monkeypatch.setenv("MAPGATE_MAX_UPLOAD_BYTES", "1234")
    monkeypatch.setenv("MAPGATE_STORE_URL", "postgresql://u@h/db")
    s = Settings()
    assert s.keys == [ApiKey(**KEY)]
    assert s.packs == ["kr", "jp"]
    assert s.max_upload_bytes == 1234
    assert s.store_url == "postgresql://u@h/db"
    assert s.dev is False


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".json"])
def test_config_file_and_env_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    data = {"packs": ["kr"], "max_upload_bytes": 99, "keys": [KEY], "zones": "z.geojson"}
    path = tmp_path / f"mapgate{suffix}"
    if suffix == ".toml":
        key = "\n".join(f'{k} = "{v}"' for k, v in KEY.items())
        path.write_text(
            f'packs = ["kr"]\nmax_upload_bytes = 99\nzones = "z.geojson"\n[[keys]]\n{key}\n'
        )
    elif suffix == ".yaml":
        import yaml

        path.write_text(yaml.safe_dump(data))
    else:
        path.write_text(json.dumps(data))
    monkeypatch.setenv("MAPGATE_CONFIG", str(path))
    s = Settings()
    assert (s.packs, s.max_upload_bytes, s.zones) == (["kr"], 99, "z.geojson")
    monkeypatch.setenv("MAPGATE_MAX_UPLOAD_BYTES", "7")
    assert Settings().max_upload_bytes == 7


def test_bad_config_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        read_config_file(tmp_path / "nope.toml")
    (tmp_path / "a.ini").write_text("x=1")
    with pytest.raises(ValueError, match="use .toml"):
        read_config_file(tmp_path / "a.ini")
    (tmp_path / "b.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="mapping"):
        read_config_file(tmp_path / "b.yaml")


def test_unknown_settings_and_bad_keys_are_rejected() -> None:
    with pytest.raises(ValueError):
        Settings(dev=True, colour="blue")  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Settings(keys=[{"name": "x", "role": "admin", "sha256": "0" * 64}])
    with pytest.raises(ValueError):
        Settings(keys=[{"name": "x", "role": "auditor", "sha256": "s3cret"}])  # not a hash
    with pytest.raises(ValueError, match="unique"):
        Settings(keys=[KEY, KEY])


def test_keys_are_matched_by_hash() -> None:
    keys = [ApiKey(**KEY), ApiKey(name="aud", role="auditor", sha256=hash_key("other"))]
    assert hash_key("s3cret") == "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"
    caller = find_caller(keys, "s3cret")
    assert caller is not None and (caller.name, caller.role) == ("ci", "submitter")
    assert find_caller(keys, "other").role == "auditor"  # type: ignore[union-attr]
    assert find_caller(keys, "S3cret") is None
    assert find_caller(keys, KEY["sha256"]) is None  # the hash itself is not a key


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_serve_refuses_dev_mode_off_loopback() -> None:
    with pytest.raises(typer.BadParameter, match="loopback"):
        serve(host="0.0.0.0", dev=True)


def test_serve_refuses_to_start_without_keys() -> None:
    with pytest.raises(typer.BadParameter, match="no API keys"):
        serve(host="127.0.0.1", port=1)


@pytest.mark.parametrize(
    ("workers", "setting", "expected"), [(1, 0, 4), (2, 0, 2), (8, 0, 1), (2, 3, 3)]
)
def test_worker_processes_share_the_cpus_for_checks(
    monkeypatch: pytest.MonkeyPatch, workers: int, setting: int, expected: int
) -> None:
    import os

    from api.main import create_app

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    app = create_app(Settings(keys=[ApiKey(**KEY)], workers=workers, check_concurrency=setting))
    assert app.state.check_limiter.total_tokens == expected
