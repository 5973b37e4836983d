"""Service settings: environment variables (``MAPGATE_*``) and an optional TOML/YAML/JSON file.

Precedence, highest first: arguments to ``Settings(...)``, environment variables, the
config file named by ``MAPGATE_CONFIG``, the defaults below. This is the only module that
reads the environment.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

Role = Literal["submitter", "auditor"]
CONFIG_ENV = "MAPGATE_CONFIG"


class ApiKey(BaseModel):
    """One configured API key: who it is, what it may do, and the sha256 of the secret."""

    name: str = Field(min_length=1, max_length=100)
    role: Role
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex sha256 of the key")


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
        default=None, description="Pack names or files to load; null = every built-in pack."
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
    tmp_dir: Path | None = Field(default=None, description="Where uploads are spooled.")
    dev: bool = Field(default=False, description="No keys; loopback clients only.")

    @field_validator("packs", mode="before")
    @classmethod
    def _split_packs(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [p.strip() for p in value.split(",") if p.strip()] or None
        return value

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
