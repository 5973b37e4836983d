"""mapgate's own findings (``MAPGATE-*``): one table of what the engine holds a verdict for.

Each entry says when it is raised (a small function of the check's ``Evidence``), what it
decides, what it tells the submitter, which facts it leaves unknown (the rules that read
them are held by it: see ``held_by``) and where ``docs/findings.md`` explains it. A code
not in this table cannot appear in a verdict; a test holds the table and the doc together.
"""

from __future__ import annotations

from collections.abc import Callable

from compliance.facts import Evidence
from compliance.rules.engine_finding import NOTE, EngineFinding
from compliance.rules.leak_findings import LEAK_FINDINGS
from compliance.verdict import Effect, Finding

__all__ = ["FINDINGS", "by_code", "engine_findings", "held_by"]

# What a location that cannot be established leaves unknown: where the data lies and how
# large its detail is on the ground. An empty dataset has no detail or place either.
_PLACE_FACTS = frozenset(
    {
        "dataset.area_km2",
        "dataset.bounds_wgs84",
        "dataset.resolution_m",
        "dataset.imagery_resolution_m",
        "dataset.scale_denominator",
        "dataset.scale_source",
        "zones.count",
        "zones.classes",
        "zones.by_class",
        "territory.fraction",
        "territory.touches",
    }
)


def _empty(e: Evidence) -> bool:
    p = e.profile
    return (
        p.kind == "vector"
        and not p.has_imagery  # its raster tables or draped images are data enough
        and (p.feature_count or 0) - p.empty_geometries <= 0
        and not p.undecodable_geometries
        and not p.unplaceable_geometries
    )


def _coordinate_tables(e: Evidence) -> list[tuple[str, list[str]]]:
    return [
        (la.name, list(la.coordinate_columns or []))
        for la in e.profile.layers or []
        if la.coordinate_columns and (la.feature_count is None or la.feature_count > 0)
    ]


def _shown(names: tuple[str, ...] | list[str], most: int = 5) -> str:
    more = len(names) - most
    return ", ".join(names[:most]) + (f" and {more} more" if more > 0 else "")


def _unmeasured_overlays(e: Evidence) -> list[tuple[str, str]]:
    return [(o.image, o.unmeasured) for o in e.profile.image_overlays if o.unmeasured]


FINDINGS: tuple[EngineFinding, ...] = (
    EngineFinding(
        "MAPGATE-EMPTY",
        Effect.review,
        "The dataset holds no geometry",
        _empty,
        lambda e: "the dataset holds no geometry, so nothing about it can be measured",
        lambda e: {"dataset.feature_count": e.profile.feature_count},
        holds=_PLACE_FACTS,
    ),
    EngineFinding(
        "MAPGATE-LOCATION-UNKNOWN",
        Effect.review,
        "The data's location cannot be established",
        lambda e: not e.located and not _empty(e),
        lambda e: (
            "the data's location cannot be established ("
            + ("; ".join(e.profile.notes) or "no CRS or georeferencing")
            + "); it cannot be cleared against any territory or sensitive zone"
        ),
        lambda e: {
            "dataset.has_crs": e.profile.has_crs,
            "dataset.georeferenced": e.profile.georeferenced,
        },
        holds=_PLACE_FACTS,
    ),
    EngineFinding(
        "MAPGATE-COORDINATES-IN-TABLE",
        Effect.review,
        "A table has columns that may hold coordinates as plain values",
        lambda e: bool(_coordinate_tables(e)),
        lambda e: (
            "table(s) have columns that may hold coordinates as plain values ("
            + "; ".join(f"{name}: {', '.join(cols)}" for name, cols in _coordinate_tables(e))
            + "); positions kept as plain attributes are not placed, so they are not verified"
        ),
        lambda e: {"tables": [name for name, _ in _coordinate_tables(e)]},
    ),
    EngineFinding(
        "MAPGATE-CRS-MISMATCH",
        Effect.review,
        "The coordinates do not fit the declared CRS",
        lambda e: bool(e.crs_mismatches),
        lambda e: (
            f"the coordinates do not fit the declared CRS {e.profile.crs} ("
            + "; ".join(e.crs_mismatches)
            + "): the declared CRS is probably wrong, so the data's place is not "
            "verified and every pack applies"
        ),
        lambda e: {"dataset.crs": e.profile.crs, "mismatches": list(e.crs_mismatches[:100])},
    ),
    EngineFinding(
        "MAPGATE-UNDECODABLE",
        Effect.review,
        "Geometries could not be decoded",
        lambda e: bool(e.profile.undecodable_geometries),
        lambda e: (
            f"{e.profile.undecodable_geometries} geometries could not be decoded (curves, "
            "TINs, or malformed ones such as unclosed rings); the layer extent stood in for "
            "them in the zone overlap"
        ),
        lambda e: {"undecodable_geometries": e.profile.undecodable_geometries},
    ),
    EngineFinding(
        "MAPGATE-UNCHECKED-FILES",
        Effect.review,
        "Files would leave with the dataset unchecked",
        lambda e: bool(e.unchecked_files),
        lambda e: (
            f"the archive or folder holds {len(e.unchecked_files)} file(s) besides the "
            f"dataset checked ({_shown(e.unchecked_files)}); they would leave with it "
            "unverified: remove them, or check them on their own"
        ),
        lambda e: {"unchecked_files": list(e.unchecked_files[:100])},
    ),
    EngineFinding(
        "MAPGATE-UNREAD-TABLES",
        Effect.review,
        "Tables or tiles of the file were not read",
        lambda e: bool(e.profile.unread_tables),
        lambda e: (
            f"the file also holds data that was not read ({', '.join(e.profile.unread_tables)}): "
            "only what GDAL opens of it was checked"
        ),
        lambda e: {"unread_tables": e.profile.unread_tables},
    ),
    EngineFinding(
        "MAPGATE-UNMEASURED-OVERLAY",
        Effect.review,
        "Images draped over the ground could not be measured",
        lambda e: bool(_unmeasured_overlays(e)),
        lambda e: (
            "images draped over the ground could not be measured ("
            + "; ".join(f"{image}: {why}" for image, why in _unmeasured_overlays(e)[:10])
            + "): their pixels may be finer than anything else in the file"
        ),
        lambda e: {"unmeasured_overlays": [image for image, _ in _unmeasured_overlays(e)[:100]]},
    ),
    EngineFinding(
        "MAPGATE-UNREAD-GEOMETRIES",
        Effect.review,
        "Features hold geometries that were not read",
        lambda e: bool(e.profile.unread_geometries),
        lambda e: (
            "features also hold geometries that were not read "
            f"({', '.join(e.profile.unread_geometries)}): the format's reader passes over "
            "them, so they were not measured or met with the zones"
        ),
        lambda e: {"unread_geometries": e.profile.unread_geometries},
    ),
    EngineFinding(
        "MAPGATE-UNPLACEABLE",
        Effect.review,
        "Geometries have coordinates that are not finite numbers",
        lambda e: bool(e.profile.unplaceable_geometries),
        lambda e: (
            f"{e.profile.unplaceable_geometries} geometries have coordinates that are not "
            "finite numbers (NaN or infinite); they cannot be placed: only the extent of "
            "their finite vertices was tested against the sensitive zones"
        ),
        lambda e: {"unplaceable_geometries": e.profile.unplaceable_geometries},
    ),
    EngineFinding(
        "MAPGATE-INVALID-GEOMETRY",
        Effect.allow,
        "Geometries are invalid but were tested as given",
        lambda e: bool(e.profile.invalid_geometries),
        lambda e: (
            f"{e.profile.invalid_geometries} geometries are invalid (self-intersections, "
            "unclosed rings...); they were still tested for overlap as given"
        ),
        lambda e: {"invalid_geometries": e.profile.invalid_geometries},
        reference=NOTE,
    ),
    EngineFinding(
        "MAPGATE-SCALE-DECLARED-COARSER",
        Effect.allow,
        "The declared scale is coarser than the data's detail",
        # A declared scale lost to the estimate only when the data shows finer detail.
        lambda e: (
            e.profile.declared_scale_denominator is not None
            and e.profile.scale_source == "estimated"
        ),
        lambda e: (
            f"declared scale 1:{e.profile.declared_scale_denominator or 0:,.0f} is coarser than "
            f"the data's detail (about 1:{e.profile.scale_denominator or 0:,.0f}); the finer "
            "scale counts"
        ),
        lambda e: {
            "dataset.declared_scale_denominator": e.profile.declared_scale_denominator,
            "dataset.scale_denominator": e.profile.scale_denominator,
        },
        reference=NOTE,
    ),
    EngineFinding(
        "MAPGATE-ELEVATION-UNSURE",
        Effect.review,
        "The data may hold heights, and heights would change the verdict",
        lambda e: bool(e.rules_if_heights),
        lambda e: (
            (
                "a band of the raster may hold heights (one grey band of unsigned integers, "
                "as a DEM is often stored in decimetres; or bands of signed integers or "
                "floats labelled as an image's colours) or an image's values, and the file "
                "does not say which; it was read as an image"
                if e.profile.kind == "raster"
                else "a field not named as heights holds numbers laid as contour levels are "
                "(lines beside lines of the next level up or down, crossing none; areas "
                "within or touching areas of the next level only), or could not be met; it "
                "was read as 2-D data"
            )
            + f", but read as heights {_shown(e.rules_if_heights)} would apply: a person must "
            "tell which it is"
        ),
        lambda e: {"rules_if_heights": list(e.rules_if_heights)},
    ),
    EngineFinding(
        "MAPGATE-PACK-NOT-APPLIED",
        Effect.review,
        "A built-in pack's territory holds data no selected pack covers",
        lambda e: bool(e.packs_not_applied),
        lambda e: (
            "the data lies (or may lie) in the territory of built-in pack(s) "
            f"{', '.join(e.packs_not_applied)}, and no selected pack covers that part: the "
            "rules that apply there were not run"
        ),
        lambda e: {"packs_not_applied": list(e.packs_not_applied)},
    ),
    *LEAK_FINDINGS,
)

_BY_CODE = {entry.code: entry for entry in FINDINGS}


def by_code(code: str) -> EngineFinding | None:
    """The table's entry for ``code``; None for a code that is not mapgate's."""
    return _BY_CODE.get(code)


def engine_findings(evidence: Evidence) -> list[Finding]:
    """mapgate's own findings for a check, in the table's order: review findings for what
    could not be verified, informational ones for what was adjusted."""
    return [entry.finding(evidence) for entry in FINDINGS if entry.applies(evidence)]


def held_by(engine: list[Finding]) -> Callable[[list[str]], str | None]:
    """For the raised ``engine`` findings: which one holds a rule that lacks the facts
    ``missing`` (the first whose unknown facts include them all), or None."""
    raised = [entry for f in engine if (entry := by_code(f.rule_id)) is not None and entry.holds]

    def cause(missing: list[str]) -> str | None:
        return next((e.code for e in raised if missing and e.holds.issuperset(missing)), None)

    return cause
