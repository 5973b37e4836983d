"""Prepared geometries kept on disk between processes, used only when verified.

A ``mapgate check`` process would otherwise cut every pack's territory into tiles again
(0.05-0.1 s a run, see ``compliance.zones.territory``). The tiles are kept as WKB in
``compliance.verified_cache``, which reads an entry back only when this user alone could
have written it; here, an entry is used only when every geometry decodes.
"""

from __future__ import annotations

import numpy as np
import shapely

from compliance.verified_cache import load_entry, store_entry

__all__ = ["load_geometries", "store_geometries"]


def _pack(geoms: np.ndarray) -> bytes:
    wkbs = shapely.to_wkb(geoms) if len(geoms) else []
    return b"".join(len(w).to_bytes(8, "big") + w for w in wkbs)


def _unpack(payload: bytes) -> np.ndarray | None:
    wkbs, at = [], 0
    while at < len(payload):
        size = int.from_bytes(payload[at : at + 8], "big")
        wkbs.append(payload[at + 8 : at + 8 + size])
        at += 8 + size
    if at != len(payload) or any(not w for w in wkbs):
        return None
    if not wkbs:
        return np.empty(0, dtype=object)
    geoms = shapely.from_wkb(np.array(wkbs, dtype=object), on_invalid="ignore")
    geoms = np.asarray(geoms, dtype=object).reshape(-1)
    return None if shapely.is_missing(geoms).any() else geoms


def load_geometries(kind: str, key: str) -> np.ndarray | None:
    """The geometries stored under (``kind``, ``key``), or None when there are none that
    can be verified."""
    payload = load_entry(kind, key)
    return None if payload is None else _unpack(payload)


def store_geometries(kind: str, key: str, geoms: np.ndarray) -> None:
    """Keep ``geoms`` under (``kind``, ``key``) for later processes; silently does
    nothing when the cache is off or cannot be written."""
    store_entry(kind, key, _pack(geoms))
