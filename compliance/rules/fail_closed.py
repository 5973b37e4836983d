"""Findings the engine itself raises when a fact the rules rely on cannot be established."""

from __future__ import annotations

from compliance.dataset_profile import LeakFacts, Profile
from compliance.measure.inspection import Inspection
from compliance.rules.evaluate import ENGINE_PACK
from compliance.verdict import Effect, Finding

REFERENCE = "mapgate fail-closed policy: what cannot be verified is not allowed"


def _finding(rule_id: str, effect: Effect, message: str, **facts: object) -> Finding:
    return Finding(
        rule_id=rule_id,
        pack=ENGINE_PACK,
        effect=effect,
        message=message,
        reference=REFERENCE,
        facts=dict(facts),
    )


def engine_findings(inspection: Inspection) -> list[Finding]:
    """Review findings for what could not be verified; informational ones for what was adjusted."""
    p = inspection.profile
    out: list[Finding] = []
    empty = (
        p.kind == "vector"
        and not p.has_imagery  # its raster tables or draped images are data enough
        and (p.feature_count or 0) - p.empty_geometries <= 0
        and not p.undecodable_geometries
        and not p.unplaceable_geometries
    )
    if empty:
        out.append(
            _finding(
                "MAPGATE-EMPTY",
                Effect.review,
                "the dataset holds no geometry, so nothing about it can be measured",
                **{"dataset.feature_count": p.feature_count},
            )
        )
    elif not inspection.located:
        why = "; ".join(p.notes) or "no CRS or georeferencing"
        out.append(
            _finding(
                "MAPGATE-LOCATION-UNKNOWN",
                Effect.review,
                f"the data's location cannot be established ({why}); it cannot be cleared "
                "against any territory or sensitive zone",
                **{"dataset.has_crs": p.has_crs, "dataset.georeferenced": p.georeferenced},
            )
        )
    tables = [
        la
        for la in p.layers or []
        if la.coordinate_columns and (la.feature_count is None or la.feature_count > 0)
    ]
    if tables:
        out.append(
            _finding(
                "MAPGATE-COORDINATES-IN-TABLE",
                Effect.review,
                "table(s) without geometry have columns that may hold coordinates ("
                + "; ".join(f"{la.name}: {', '.join(la.coordinate_columns or [])}" for la in tables)
                + "); positions kept as plain attributes are not read, so they are not verified",
                tables=[la.name for la in tables],
            )
        )
    if inspection.crs_mismatches:
        out.append(
            _finding(
                "MAPGATE-CRS-MISMATCH",
                Effect.review,
                f"the coordinates do not fit the declared CRS {p.crs} ("
                + "; ".join(inspection.crs_mismatches)
                + "): the declared CRS is probably wrong, so the data's place is not "
                "verified and every pack applies",
                **{"dataset.crs": p.crs},
                mismatches=inspection.crs_mismatches[:100],
            )
        )
    if p.undecodable_geometries:
        out.append(
            _finding(
                "MAPGATE-UNDECODABLE",
                Effect.review,
                f"{p.undecodable_geometries} geometries could not be decoded (curves, TINs, or "
                "malformed ones such as unclosed rings); the layer extent stood in for them in "
                "the zone overlap",
                undecodable_geometries=p.undecodable_geometries,
            )
        )
    if inspection.unchecked_files:
        names = inspection.unchecked_files
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        out.append(
            _finding(
                "MAPGATE-UNCHECKED-FILES",
                Effect.review,
                f"the archive or folder holds {len(names)} file(s) besides the dataset checked "
                f"({shown}); they would leave with it unverified: remove them, or check them "
                "on their own",
                unchecked_files=names[:100],
            )
        )
    if p.unread_tables:
        out.append(
            _finding(
                "MAPGATE-UNREAD-TABLES",
                Effect.review,
                f"the file also holds raster data ({', '.join(p.unread_tables)}) that was not "
                "read: only its vector layers were checked",
                unread_tables=p.unread_tables,
            )
        )
    unmeasured = [o for o in p.image_overlays if o.unmeasured]
    if unmeasured:
        out.append(
            _finding(
                "MAPGATE-UNMEASURED-OVERLAY",
                Effect.review,
                "images draped over the ground could not be measured ("
                + "; ".join(f"{o.image}: {o.unmeasured}" for o in unmeasured[:10])
                + "): their pixels may be finer than anything else in the file",
                unmeasured_overlays=[o.image for o in unmeasured[:100]],
            )
        )
    if p.unread_geometries:
        out.append(
            _finding(
                "MAPGATE-UNREAD-GEOMETRIES",
                Effect.review,
                f"features also hold geometries that were not read "
                f"({', '.join(p.unread_geometries)}): the format's driver keeps one geometry "
                "per feature type unless a schema names the others",
                unread_geometries=p.unread_geometries,
            )
        )
    if p.unplaceable_geometries:
        out.append(
            _finding(
                "MAPGATE-UNPLACEABLE",
                Effect.review,
                f"{p.unplaceable_geometries} geometries have coordinates that are not finite "
                "numbers (NaN or infinite); they cannot be placed: only the extent of their "
                "finite vertices was tested against the sensitive zones",
                unplaceable_geometries=p.unplaceable_geometries,
            )
        )
    if p.invalid_geometries:
        out.append(
            _finding(
                "MAPGATE-INVALID-GEOMETRY",
                Effect.allow,
                f"{p.invalid_geometries} geometries are invalid (self-intersections, unclosed "
                "rings...); they were still tested for overlap as given",
                invalid_geometries=p.invalid_geometries,
            )
        )
    out += leak_findings(p)
    # A declared scale lost to the estimate only when the data shows finer detail than it.
    if p.declared_scale_denominator is not None and p.scale_source == "estimated":
        out.append(
            _finding(
                "MAPGATE-SCALE-DECLARED-COARSER",
                Effect.allow,
                f"declared scale 1:{p.declared_scale_denominator:,.0f} is coarser than the data's "
                f"detail (about 1:{p.scale_denominator or 0:,.0f}); the finer scale counts",
                **{
                    "dataset.declared_scale_denominator": p.declared_scale_denominator,
                    "dataset.scale_denominator": p.scale_denominator,
                },
            )
        )
    return out


# ---- MAPGATE-LEAK-*: data the file carries where its readers do not look -------------
# Facts from compliance.measure.leaks; documented in docs/findings.md ("Leak checks").


def _leak_overview(leaks: LeakFacts) -> Finding | None:
    if not leaks.overview_pixels:
        return None
    return _finding(
        "MAPGATE-LEAK-OVERVIEW",
        Effect.review,
        f"{leaks.overview_pixels} pixels of overviews or other images of the same ground are "
        "valid where every pixel of the level above them is masked ("
        + "; ".join(leaks.overview_levels[:10])
        + "): what the full resolution masks is still shown zoomed out; rebuild the "
        "overviews from the masked image",
        **{"dataset.overview_leak_pixels": leaks.overview_pixels},
        overview_levels=leaks.overview_levels[:100],
    )


def _leak_deleted(leaks: LeakFacts) -> Finding | None:
    if not leaks.deleted_geometries and not leaks.free_pages_with_data:
        return None
    unplaced, pages = leaks.deleted_geometries_unplaced, leaks.free_pages_with_data
    parts = []
    if leaks.deleted_geometries:
        parts.append(
            f"{leaks.deleted_geometries} deleted geometries are still in the file"
            + (f" ({unplaced} of them cannot be placed)" if unplaced else "")
        )
    if pages:
        parts.append(f"{pages} free pages still hold bytes of deleted rows")
    # The message says nothing of the zones: a submitter reads it, and the count that met
    # a zone is a zone fact (withheld from whoever has no clearance, as zones.* are).
    return _finding(
        "MAPGATE-LEAK-DELETED-FEATURES",
        Effect.review,
        "; ".join(parts) + " (free pages and free space of an SQLite file, or shapes of "
        "records deleted from a shapefile's .dbf): anyone who reads the raw file recovers "
        "them, and their detail was not measured. VACUUM the GeoPackage or repack the "
        "shapefile",
        **{
            "dataset.deleted_geometries": leaks.deleted_geometries,
            "dataset.deleted_geometries_unplaced": unplaced,
            "dataset.free_pages_with_data": pages,
            "zones.deleted_geometries": leaks.deleted_geometries_in_zones,
        },
    )


def _leak_metadata(leaks: LeakFacts) -> Finding | None:
    if not leaks.metadata_coordinates:
        return None
    shown = leaks.metadata_coordinates
    return _finding(
        "MAPGATE-LEAK-METADATA-COORDINATES",
        Effect.review,
        "imagery that cannot be placed still carries coordinates ("
        + "; ".join(shown[:5])
        + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
        + "): its location leaves with it; strip them, or georeference it and check it again",
        **{"dataset.metadata_coordinates": shown[:100]},
    )


def _leak_unchecked(leaks: LeakFacts) -> Finding | None:
    if not leaks.unchecked:
        return None
    return _finding(
        "MAPGATE-LEAK-UNCHECKED",
        Effect.review,
        "a leak check could not read what it looks at ("
        + "; ".join(leaks.unchecked[:5])
        + "): what the file hides there is unknown",
        unchecked=leaks.unchecked[:100],
    )


def leak_findings(profile: Profile) -> list[Finding]:
    """Review findings for data the file carries where its readers do not look."""
    leaks = profile.leaks
    found = [_leak_overview(leaks), _leak_deleted(leaks), _leak_metadata(leaks)]
    found.append(_leak_unchecked(leaks))
    return [f for f in found if f is not None]


# ---- end of MAPGATE-LEAK-* ------------------------------------------------------------


def pack_not_applied(missing: list[str]) -> Finding:
    """Review: the data lies where built-in packs apply, and no selected pack covers it."""
    return _finding(
        "MAPGATE-PACK-NOT-APPLIED",
        Effect.review,
        f"the data lies (or may lie) in the territory of built-in pack(s) {', '.join(missing)}, "
        "and no selected pack covers that part: the rules that apply there were not run",
        packs_not_applied=missing,
    )
