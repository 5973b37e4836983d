"""What the audit report shows, as plain data: counts, per-pack and per-rule tallies, and
the rows and footprints that the page's script turns into its table and map.

The rows travel to the page as JSON, so a report of 100,000 files stays one file whose
table the script draws a page at a time. Finding texts repeat on every file, so each
distinct one is sent once and rows point at it. Footprints are cut to a budget of points
over the whole audit, and their coordinates rounded to 1e-6 degrees (about 0.1 m).
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from compliance.batch.results import AuditResult, deciding_finding, reason
from compliance.zones.demo import describe_zones

__all__ = ["CLASSES", "OUTLINE_KM2", "report_data", "zones_label"]

CLASSES = ("allow", "allow_with_conditions", "review", "deny", "error")
_SEVERITY = {k: i for i, k in enumerate(CLASSES)}
# A footprint at least this large (about the size of Greenland) is drawn as an outline
# only: filled, it would cover every other dataset beneath it.
OUTLINE_KM2 = 2_000_000.0
_EARTH_RADIUS_KM = 6371.0088
_MAX_POINTS = 400_000  # over all footprints: keeps a 100,000-file report in tens of MB
_RING_POINTS = 64  # as the results writer keeps them
_MIN_RING_POINTS = 5  # a box
_DRAWABLE = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
_SHOWN_FACTS = (
    "kind", "format", "crs", "area_km2", "resolution_m", "scale_denominator", "scale_source",
    "feature_count",
)  # fmt: skip


def _klass(row: AuditResult) -> str:
    return row.verdict.value if row.verdict is not None else "error"


def _doc(row: AuditResult) -> dict[str, Any]:
    return row.document or {}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bounds(row: AuditResult) -> list[float] | None:
    b = (_doc(row).get("profile") or {}).get("bounds_wgs84")
    if isinstance(b, list) and len(b) == 4 and all(_finite(v) for v in b):
        return [float(v) for v in b]
    return None


def _box_km2(b: list[float]) -> float:
    """Area of a lon/lat box on the sphere: enough to order footprints by size."""
    west, south, east, north = b
    span = (east - west) % 360 or (360.0 if east != west else 0.0)
    lat0, lat1 = math.radians(max(-90.0, south)), math.radians(min(90.0, north))
    return _EARTH_RADIUS_KM**2 * math.radians(span) * abs(math.sin(lat1) - math.sin(lat0))


def _ring_count(coords: Any) -> int:
    if not isinstance(coords, list) or not coords:
        return 0
    if isinstance(coords[0], list) and coords[0] and isinstance(coords[0][0], list):
        return sum(_ring_count(c) for c in coords)
    return 1


def _thin(coords: Any, keep: int) -> Any:
    """Coordinates with every ring or line cut to ``keep`` points and rounded to 1e-6."""
    if not isinstance(coords, list) or not coords:
        return coords
    if not isinstance(coords[0], list):  # a position
        return [round(v, 6) if _finite(v) else v for v in coords[:2]]
    if coords[0] and not isinstance(coords[0][0], list):  # a ring or a line
        step = -(-len(coords) // keep)
        kept = coords if step == 1 else coords[::step] + [coords[-1]]
        return [_thin(c, keep) for c in kept]
    return [_thin(c, keep) for c in coords]


def _all_finite(coords: Any) -> bool:
    if isinstance(coords, list):
        return bool(coords) and all(_all_finite(c) for c in coords)
    return _finite(coords)


def _geometry(row: AuditResult) -> dict[str, Any] | None:
    """The footprint to draw: the measured one, else the bounds as a box. A footprint with
    a coordinate that is not a finite number would stop the page's map, so it is not used."""
    geom = (_doc(row).get("profile") or {}).get("footprint_wgs84")
    if (
        isinstance(geom, dict)
        and geom.get("type") in _DRAWABLE
        and _all_finite(geom.get("coordinates"))
    ):
        return geom
    b = _bounds(row)
    if b is None:
        return None
    west, south, east, north = b
    if east < west:  # across the antimeridian: the page draws it eastwards past 180
        east += 360.0
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _shapes(rows: Sequence[AuditResult]) -> list[dict[str, Any]]:
    """Footprints, largest first, so that the page draws small ones on top."""
    found = [(i, g) for i, row in enumerate(rows) if (g := _geometry(row)) is not None]
    rings = sum(_ring_count(g.get("coordinates")) for _, g in found) or 1
    keep = max(_MIN_RING_POINTS, min(_RING_POINTS, _MAX_POINTS // rings))
    shapes: list[dict[str, Any]] = []
    for i, geom in found:
        size = _size_km2(rows[i])
        geometry = {"type": geom["type"], "coordinates": _thin(geom["coordinates"], keep)}
        shapes.append({"row": i, "km2": size, "outline": size >= OUTLINE_KM2, "geometry": geometry})
    shapes.sort(key=lambda s: -float(s["km2"]))
    return shapes


def _size_km2(row: AuditResult) -> float:
    """The dataset's measured area, else its box's; at least ``OUTLINE_KM2`` when it spans
    half the world's longitudes."""
    area: Any = (_doc(row).get("profile") or {}).get("area_km2")
    b = _bounds(row)
    size = float(area) if _finite(area) and area > 0 else (_box_km2(b) if b else 0.0)
    if b and (b[2] - b[0]) % 360 >= 180:
        size = max(size, OUTLINE_KM2)
    return size


class _Texts:
    """Distinct findings (rule, effect, message, citation), each sent once."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[tuple[Any, ...], int] = {}

    def ref(self, f: dict[str, Any]) -> int:
        key = (f.get("pack"), f.get("rule_id"), f.get("effect"), f.get("message"),
               f.get("reference"), tuple(f.get("conditions") or ()))  # fmt: skip
        if key not in self._index:
            self._index[key] = len(self.items)
            self.items.append(dict(zip(
                ("pack", "rule", "effect", "message", "reference", "conditions"),
                (*key[:5], list(key[5])), strict=True,
            )))  # fmt: skip
        return self._index[key]


def _without_zone_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """A finding's facts without those about the zones (counts, classes, areas): the
    report never showed them, and a copy of it may travel further than the zones may."""
    return {k: v for k, v in facts.items() if not (k == "zones" or k.startswith("zones."))}


def _row(row: AuditResult, shown: str, texts: _Texts) -> dict[str, Any]:
    doc = _doc(row)
    profile = doc.get("profile") or {}
    findings = doc.get("findings") or []
    deciding = deciding_finding(row)
    return {
        "path": shown,
        "verdict": _klass(row),
        "conditions": [str(c) for c in doc.get("conditions") or []],
        "resolution_m": profile.get("resolution_m")
        if _finite(profile.get("resolution_m"))
        else None,
        "scale": profile.get("scale_denominator")
        if _finite(profile.get("scale_denominator"))
        else None,
        "reason": reason(row) if deciding is not None else (row.error or ""),
        "rules": sorted({str(f.get("rule_id")) for f in findings if not f.get("held_by")}),
        "size": row.size,
        "ms": round(row.duration_ms) if row.duration_ms is not None else None,
        "error": row.error,
        "findings": [texts.ref(f) for f in findings],
        "finding_facts": [_json_safe(_without_zone_facts(f.get("facts") or {})) for f in findings],
        "facts": {k: v for k in _SHOWN_FACTS if (v := _json_safe(profile.get(k))) is not None},
    }


def _pack_table(rows: Sequence[AuditResult]) -> list[dict[str, Any]]:
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        for pack in _doc(row).get("packs") or []:
            name = f"{pack.get('name')} {pack.get('version') or ''}".strip()
            per[name][str(pack.get("outcome") or "not applicable")] += 1
    return [{"name": name, "counts": dict(c)} for name, c in sorted(per.items())]


def _rule_table(rows: Sequence[AuditResult]) -> list[dict[str, Any]]:
    files: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        files.update({
            (str(f.get("pack")), str(f.get("rule_id")), str(f.get("effect")))
            for f in _doc(row).get("findings") or []
            # Rules that fired: one held because a MAPGATE-* finding left its facts
            # unknown is counted under that finding, not as a hit of its own.
            if not f.get("held_by")
        })  # fmt: skip
    ranked = sorted(files.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"pack": p, "rule": r, "effect": e, "files": n} for (p, r, e), n in ranked]


def zones_label(rows: Sequence[AuditResult], given: str | None) -> str:
    """The zones source the verdicts name (fictional when they are the demo zones)."""
    for row in rows:
        zones = _doc(row).get("zones")
        if isinstance(zones, dict) and zones.get("source"):
            return describe_zones(str(zones["source"]), bool(zones.get("fictional")))
    if given:
        return given
    return describe_zones(None, fictional=True)  # no --zones: the built-in demo zones


def _root(rows: Sequence[AuditResult]) -> str:
    paths = [r.path for r in rows]
    if not paths:
        return ""
    try:
        root = os.path.commonpath(paths)
    except ValueError:  # relative and absolute paths mixed: show them whole
        return ""
    return os.path.dirname(root) if len(paths) == 1 else root


def _json_safe(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by None: JSON has no NaN, and
    the page's parser would refuse the whole report for one."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def report_data(rows: Sequence[AuditResult]) -> dict[str, Any]:
    """Everything the report shows about ``rows``, as JSON-ready data.

    Returns
    -------
    dict
        ``root`` (the folder the paths are shown under), ``counts`` (by verdict and
        ``error``), ``packs`` and ``rules`` (tallies for the summary tables), ``findings``
        (distinct finding texts), ``rows`` (one per dataset, in the order given) and
        ``shapes`` (footprints by row index, largest first).
    """
    root = _root(rows)
    texts = _Texts()
    table = [_row(r, os.path.relpath(r.path, root) if root else r.path, texts) for r in rows]
    counts = Counter(r["verdict"] for r in table)
    return {
        "root": root,
        "total": len(table),
        "counts": {k: counts.get(k, 0) for k in CLASSES},
        "packs": _pack_table(rows),
        "rules": _rule_table(rows),
        "findings": texts.items,
        "rows": table,
        "shapes": _shapes(rows),
        "severity": _SEVERITY,
    }
