"""Service settings: environment variables (``MAPGATE_*``) and an optional TOML/YAML/JSON file.

Precedence, highest first: arguments to ``Settings(...)``, environment variables, the
config file named by ``MAPGATE_CONFIG``, the defaults below. This is the only module that
reads the environment.
"""

from __future__ import annotations

import json
import os
import tomllib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

__all__ = [
    "CONFIG_ENV",
    "ApiKey",
    "RetiredKey",
    "Role",
    "Settings",
    "get_settings",
    "read_config_file",
]

Role = Literal["submitter", "auditor"]
CONFIG_ENV = "MAPGATE_CONFIG"


class ApiKey(BaseModel):
    """One configured API key: who it is, what it may do, and the sha256 of the secret."""

    name: str = Field(min_length=1, max_length=100)
    role: Role
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex sha256 of the key")


class RetiredKey(BaseModel):
    """A signing key no longer in use: its public key, published with the period it signed."""

    path: Path = Field(description="The retired key's public key PEM.")
    not_before: datetime | None = Field(default=None, description="First use (UTC).")
    not_after: datetime = Field(description="Last use (UTC): later signatures are refused.")


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Settings read from the file named by ``MAPGATE_CONFIG`` (.toml, .yaml/.yml or .json)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        name = os.environ.get(CONFIG_ENV)
        return read_config_file(Path(name)) if name else {}


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a config file into a mapping of setting names to values.

    Raises
    ------
    ValueError
        The file does not exist, has an unknown suffix, or is not a mapping.
    """
    if not path.is_file():
        raise ValueError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        data: Any = tomllib.loads(text)
    elif suffix in {".yaml", ".yml"}:
        data = yaml.safe_load(text)
    elif suffix == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"config file {path}: use .toml, .yaml, .yml or .json")
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a mapping of settings")
    return data


class Settings(BaseSettings):
    """Everything the service can be told; validated when built."""

    model_config = SettingsConfigDict(env_prefix="MAPGATE_", extra="forbid")

    packs: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Packs every check runs (names or files); null = every built-in pack.",
    )
    optional_packs: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Packs loaded too, run only when a submitter's `packs` field asks for them.",
    )
    zones: str | None = Field(default=None, description="Sensitive-zones source; null = built-in.")
    store_url: str = Field(
        default="sqlite:///mapgate-audit.sqlite",
        description="SQLAlchemy URL of the audit store (sqlite:///file or postgresql://...).",
    )
    keys: list[ApiKey] = Field(default_factory=list, description="API keys (hashed) and roles.")
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_form_field_bytes: int = Field(default=4096, gt=0)
    check_concurrency: int = Field(
        default=0,
        ge=0,
        description="Checks run at once per process; 0 = CPUs divided among the workers.",
    )
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")
    tmp_dir: Path | None = Field(
        default=None, description="Where uploads are spooled and archives unpacked."
    )
    max_unpacked_bytes: int = Field(
        default=0, ge=0, description="Bytes an archive may unpack to; 0 = 2 x max_upload_bytes."
    )
    check_rate_per_minute: float = Field(
        default=30.0, ge=0, description="Checks per minute per submitter key; 0 = no limit."
    )
    check_burst: int = Field(default=20, ge=1, description="Checks a submitter key may burst.")
    read_rate_per_minute: float = Field(
        default=300.0, ge=0, description="Other requests per minute per submitter key; 0 = none."
    )
    read_burst: int = Field(default=60, ge=1, description="Other requests a key may burst.")
    probe_window_s: float = Field(
        default=3600.0, gt=0, description="Window in which uploads near one zone are counted."
    )
    probe_threshold: int = Field(
        default=20, ge=2, description="Uploads by one key near one zone that raise the alarm."
    )
    check_timeout_s: float = Field(
        default=120.0, gt=0, description="Seconds one check may run before it is stopped (422)."
    )
    check_memory_mb: int = Field(
        default=4096,
        ge=64,
        description="MB of memory one check may add to its warm worker process before it fails.",
    )
    shutdown_grace_s: float = Field(
        default=10.0, ge=0, description="On SIGTERM, seconds running checks get to finish."
    )
    remediation_dir: Path | None = Field(
        default=None,
        description="Where derivatives wait to be downloaded; null = mapgate-remediations "
        "in tmp_dir (or the system's temporary folder).",
    )
    remediation_ttl_s: float = Field(
        default=3600.0, gt=0, description="Seconds a derivative may be downloaded, then removed."
    )
    dev: bool = Field(default=False, description="No keys; loopback clients only.")
    signing_key: Path | None = Field(
        default=None,
        description="Ed25519 private key PEM: every verdict is signed (docs/attestations.md).",
    )
    signing_key_not_before: datetime | None = Field(
        default=None, description="Since when the signing key is in use, as GET /v1/keys says."
    )
    retired_keys: list[RetiredKey] = Field(
        default_factory=list, description="Former signing keys, published by GET /v1/keys."
    )

    @field_validator("packs", "optional_packs", mode="before")
    @classmethod
    def _split_packs(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            names = [p.strip() for p in value.split(",") if p.strip()]
            return names or (None if info.field_name == "packs" else [])
        return value

    @property
    def unpacked_bytes_limit(self) -> int:
        """What an uploaded archive may unpack to: a small multiple of the upload limit."""
        return self.max_unpacked_bytes or 2 * self.max_upload_bytes

    @model_validator(mode="after")
    def _require_keys(self) -> Settings:
        if not self.dev and not self.keys:
            raise ValueError("no API keys configured: set MAPGATE_KEYS (or use dev mode)")
        names = [k.name for k in self.keys]
        if len(names) != len(set(names)):
            raise ValueError("API key names must be unique")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _ConfigFileSource(settings_cls)


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment and config file."""
    return Settings()
