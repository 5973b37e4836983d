"""Which built-in packs a check left out where the data lies in their territory.

A caller may run packs of its own instead of the built-in ones, but choosing packs must
not be a way around a jurisdiction: where the data lies in a built-in pack's territory
and no selected pack covers that part, the check names the built-in pack as not applied
(``MAPGATE-PACK-NOT-APPLIED``, review).
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from compliance.geo.geodesy import area_km2
from compliance.rules.packs import RulePack, builtin_pack_paths, load_packs
from compliance.zones.territory import Territory, load_territory

__all__ = ["BuiltinPack", "builtin_packs", "packs_not_applied"]

# Slivers left where two copies of one border were drawn apart; a square metre of ground
# is far below any territory's accuracy, and anything larger fails closed.
_SLIVER_KM2 = 1e-6


@dataclass(frozen=True)
class BuiltinPack:
    """A built-in pack as the coverage test needs it: its name, content hash and territory
    (None: it applies everywhere)."""

    name: str
    coverage: str  # RulePack.coverage: its rules' and its territory's bytes
    territory: Territory | None


def builtin_packs(loaded: list[RulePack], loaded_are_builtin: bool) -> list[BuiltinPack]:
    """The built-in packs, reusing ``loaded`` when it is exactly them.

    Their territories are keyed ``builtin:<name>`` so that a caller's pack of the same name
    (with another territory) cannot stand in for them.
    """
    if loaded_are_builtin:
        packs = loaded
    elif builtin_pack_paths():
        packs = load_packs(None)
    else:
        packs = []  # no built-in rules folder at all: the caller's packs are all there is
    return [
        BuiltinPack(
            p.name,
            p.coverage,
            load_territory(f"builtin:{p.name}", p.territory_path, p.doc.territory_buffer_m)
            if p.territory_path is not None
            else None,
        )
        for p in packs
    ]


def packs_not_applied(
    builtins: list[BuiltinPack],
    selected: list[RulePack],
    territories: dict[str, Territory],
    touched: dict[str, bool],
    footprint: BaseGeometry | None,
    located: bool,
) -> list[str]:
    """Names of the built-in packs whose territory holds data that no selected pack covers.

    Parameters
    ----------
    builtins
        Every built-in pack; one whose content and territory a selected pack repeats is
        applied.
    selected
        The packs the check runs; ``territories`` holds theirs by pack name (a pack without
        one applies everywhere and so covers everything).
    touched
        Whether the data's geometries meet each built-in territory, by ``builtin:<name>``.
    footprint
        The data's outline in lon/lat; the part of it inside a built-in territory must lie
        inside the selected territories.
    located
        False when the data cannot be placed: then every built-in territory may be touched.
    """
    applied = {p.coverage for p in selected}
    everywhere = any(p.name not in territories for p in selected)
    if everywhere:
        return []
    missing = []
    for builtin in builtins:
        if builtin.coverage in applied:
            continue
        if builtin.territory is None or not located or footprint is None:
            missing.append(builtin.name)
        elif touched.get(f"builtin:{builtin.name}", True) and not _covered(
            builtin.territory, [territories[p.name] for p in selected], footprint
        ):
            missing.append(builtin.name)
    return sorted(missing)


def _covered(builtin: Territory, selected: list[Territory], footprint: BaseGeometry) -> bool:
    """Whether the part of ``footprint`` inside ``builtin`` lies inside the selected ones."""
    part = shapely.intersection(footprint, builtin.near(footprint))
    if part.is_empty:
        return True
    if not selected:
        return False
    cover = shapely.union_all([t.near(footprint) for t in selected])
    rest = shapely.difference(part, cover)
    if rest.is_empty:
        return True
    # A footprint with area leaves slivers of area; one without (points, lines) leaves
    # pieces of its own kind, which count whatever their size.
    return part.area > 0 and rest.area > 0 and area_km2(rest) < _SLIVER_KM2
