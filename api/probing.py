"""Noticing a key whose uploads keep circling one sensitive zone.

Mapping a zone by probing takes many small uploads that touch or border it: a binary
search on its edge needs tens of them. For each upload by a submitter, the zones whose
buffered reach comes within ``MARGIN_M`` of the data's bounds are counted per (key,
zone); when one pair reaches the threshold within the window, the service counts it in
``mapgate_zone_probing_total`` and logs a warning, and the pair starts over. Uploads near
more than ``MAX_ZONES_PER_UPLOAD`` zones (a regional dataset) are not probes and are not
counted. Zone ids stay inside the service: the submitter's answer never changes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

__all__ = ["NearZone", "ZoneProbeWatch", "zones_near"]

if TYPE_CHECKING:
    from compliance.zones.zone_set import ZoneSet

MARGIN_M = 1000.0
MAX_ZONES_PER_UPLOAD = 3
_MAX_PAIRS = 10_000  # bounds the memory whatever the keys upload
_M_PER_DEG = 111_000.0


@dataclass(frozen=True)
class NearZone:
    zone_id: str
    zone_class: str


def zones_near(zones: ZoneSet, bounds: list[float] | None) -> list[NearZone]:
    """The zones whose buffered reach comes within ``MARGIN_M`` of lon/lat ``bounds``."""
    if not bounds or not all(math.isfinite(b) for b in bounds):
        return []
    west, south, east, north = bounds
    dlat = MARGIN_M / _M_PER_DEG
    cos = max(math.cos(math.radians(min(89.0, max(abs(south), abs(north))))), 1e-3)
    dlon = MARGIN_M / (_M_PER_DEG * cos)
    region = (west - dlon, south - dlat, east + dlon, north + dlat)
    positions = zones.areas.near(region)
    if positions.size > MAX_ZONES_PER_UPLOAD:
        return []
    return [NearZone(zones.areas.ids[i], str(zones.areas.classes[i])) for i in positions]


@dataclass
class ZoneProbeWatch:
    """Counts, per (key, zone), the uploads near that zone within ``window_s`` seconds."""

    window_s: float
    threshold: int
    _seen: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(
        self, caller: str, near: list[NearZone], now: float | None = None
    ) -> list[NearZone]:
        """Record one upload by ``caller``; return the zones it has now circled too often."""
        now = time.monotonic() if now is None else now
        alarms = []
        with self._lock:
            for zone in near:
                stamps = self._seen.pop((caller, zone.zone_id), deque())
                while stamps and stamps[0] <= now - self.window_s:
                    stamps.popleft()
                stamps.append(now)
                if len(stamps) >= self.threshold:
                    alarms.append(zone)
                    stamps.clear()
                self._seen[(caller, zone.zone_id)] = stamps  # re-inserted: newest last
            while len(self._seen) > _MAX_PAIRS:
                del self._seen[next(iter(self._seen))]  # the pair seen longest ago
        return alarms
