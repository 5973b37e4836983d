"""The library's entry point: load packs and zones once, check many inputs."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from compliance.countries import country_code
from compliance.dataset_profile import Profile
from compliance.errors import UnknownRulePack
from compliance.facts import Evidence, dataset_facts, zone_facts
from compliance.measure.inspection import Inspection
from compliance.measure.vector_inspection import inspect_vector
from compliance.readers.dataset import open_dataset
from compliance.readers.frame_source import FrameSource
from compliance.readers.inputs import InputLimits, materialize, unchecked_files
from compliance.readers.sources import RasterSource
from compliance.rules.evaluate import (
    HoldCause,
    PackResult,
    decide,
    evaluate_pack,
    rules_changing,
)
from compliance.rules.fail_closed import engine_findings, held_by
from compliance.rules.outcomes import RuleOutcomes
from compliance.rules.pack_coverage import BuiltinPack, builtin_packs, packs_not_applied
from compliance.rules.packs import RulePack, load_packs
from compliance.verdict import Finding, InputInfo, Verdict, ZoneSummary
from compliance.version import ENGINE_VERSION
from compliance.zones.demo import is_demo_zones
from compliance.zones.territory import Territory, load_territory
from compliance.zones.zone_set import ZoneSet

if TYPE_CHECKING:
    from compliance.remediate.actions import MaskMode
    from compliance.remediate.report import RemediationReport

__all__ = ["Checker", "Source", "check"]

Source = str | Path | bytes | BinaryIO | Any  # Any: a GeoDataFrame


def _is_frame(source: object) -> bool:
    return hasattr(source, "geometry") and hasattr(source, "crs") and hasattr(source, "columns")


def _frame_identity(frame: Any, name: str) -> InputInfo:
    digest = hashlib.sha256()
    wkb = frame.geometry.to_wkb()
    for item in wkb:
        digest.update(item or b"")
    digest.update(str(frame.crs).encode())
    return InputInfo(
        name=name, sha256=digest.hexdigest(), size=int(sum(len(w or b"") for w in wkb))
    )


def _without_coordinates(profile: Profile) -> Profile:
    return profile.model_copy(update={"crs": None, "has_crs": False, "georeferenced": False})


class Checker:
    """Checks datasets against rule packs and sensitive zones, loaded once.

    Parameters
    ----------
    packs
        Built-in pack names (``"kr"``) or pack files; None loads every built-in pack. A
        check that runs packs of its own instead of the built-in ones is held for review
        (``MAPGATE-PACK-NOT-APPLIED``) where its data lies in a built-in pack's territory
        that no selected pack covers, or cannot be placed at all.
    zones
        Any OGR source of sensitive zones; None uses the demo zones in ``rules/zones``.
    limits
        Size and archive limits applied to every input.
    helper_threads
        Let one check use helper threads: hashing a file while it is read, and reading a
        large layer's next batches while this one is measured. Turn off when every core
        already runs a check of its own (a pool with a worker per core), where the
        threads only contend for the same cores.
    untrusted
        Treat every path as someone else's upload (see ``check``): for data from a third
        party, such as a delivery audited as a whole.
    """

    def __init__(
        self,
        packs: list[str | Path] | None = None,
        zones: str | Path | ZoneSet | None = None,
        limits: InputLimits | None = None,
        helper_threads: bool = True,
        untrusted: bool = False,
    ) -> None:
        self.packs: list[RulePack] = load_packs(list(packs) if packs is not None else None)
        self.zones = zones if isinstance(zones, ZoneSet) else ZoneSet.load(zones)
        self.limits = limits or InputLimits()
        self.helper_threads = helper_threads
        self.untrusted = untrusted
        self.territories: dict[str, Territory] = {
            p.name: load_territory(p.name, p.territory_path, p.doc.territory_buffer_m)
            for p in self.packs
            if p.territory_path is not None
        }
        self._loaded_are_builtin = packs is None
        self._rule_outcomes = RuleOutcomes()  # a rule's outcome for facts already seen

    @cached_property
    def builtin_packs(self) -> list[BuiltinPack]:
        """What a check that leaves a built-in pack out must still answer for (see
        ``compliance.rules.pack_coverage``); loaded when a check first needs them."""
        return builtin_packs(self.packs, loaded_are_builtin=self._loaded_are_builtin)

    @property
    def fingerprint(self) -> str:
        """Changes whenever the engine, a pack or the zones change: the key for resuming audits."""
        parts = [ENGINE_VERSION, self.zones.sha256 or self.zones.source]
        parts += ["untrusted"] if self.untrusted else []
        parts += [f"{p.name}@{p.version}:{p.sha256}" for p in self.packs]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _select(self, names: list[str] | None) -> list[RulePack]:
        if not names:
            return self.packs
        by_name = {p.name: p for p in self.packs}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise UnknownRulePack(f"pack(s) not loaded: {unknown}; loaded: {sorted(by_name)}")
        return [by_name[n] for n in names]

    def inspect(
        self,
        source: Source,
        name: str | None = None,
        packs: list[RulePack] | None = None,
        untrusted: bool = False,
    ) -> tuple[Inspection, InputInfo]:
        """Read and measure a dataset without deciding anything."""
        territories = [
            self.territories[p.name] for p in (packs or self.packs) if p.name in self.territories
        ]
        if packs is not None:
            # The built-in territories the selected packs leave out: does the data meet them?
            applied = {p.coverage for p in packs}
            territories += [
                b.territory
                for b in self.builtin_packs
                if b.territory is not None and b.coverage not in applied
            ]
        if _is_frame(source):
            label = name or "GeoDataFrame"
            return inspect_vector(
                FrameSource(source, label), self.zones, territories, self.helper_threads
            ), _frame_identity(source, label)
        with materialize(
            source,
            name=name,
            limits=self.limits,
            background_hash=self.helper_threads,
            untrusted=untrusted or self.untrusted,
        ) as local:
            dataset = open_dataset(local.path, local.name, uploaded=local.uploaded)
            if isinstance(dataset, RasterSource):
                # Rasters' measures load only when a raster comes (a vector never needs them).
                from compliance.measure.raster_inspection import inspect_raster

                inspection = inspect_raster(dataset, self.zones, territories)
            else:
                try:
                    inspection = inspect_vector(
                        dataset, self.zones, territories, self.helper_threads
                    )
                finally:
                    dataset.close()  # before the input's temporary files go
            # What else leaves with the dataset: the rest of an archive, or of a folder that
            # OGR reads as its shapefiles alone.
            root = local.archive_root
            if root is None and local.path.is_dir() and dataset.driver == "ESRI Shapefile":
                root = local.path
            if root is not None:
                read = {f.relative_to(root).as_posix() for f in inspection.files_read}
                inspection.unchecked_files += [
                    f for f in unchecked_files(root, local.path) if f not in read
                ]
            return inspection, InputInfo(name=local.name, sha256=local.sha256, size=local.size)

    @cached_property
    def zones_fictional(self) -> bool:
        """Whether the zones are the built-in demo zones, which every output calls fictional."""
        return is_demo_zones(self.zones.sha256)

    def _engine_findings(
        self, inspection: Inspection, selected: list[RulePack], rules_if_heights: tuple[str, ...]
    ) -> list[Finding]:
        """mapgate's own findings, from a stage object built of the measurement."""
        missing = packs_not_applied(
            self.builtin_packs,
            selected,
            self.territories,
            {key: hit.touched for key, hit in inspection.territory_hits.items()},
            inspection.footprint_wgs84,
            inspection.located,
        )
        evidence = Evidence(
            profile=inspection.profile,
            located=inspection.located,
            crs_mismatches=tuple(inspection.crs_mismatches),
            unchecked_files=tuple(inspection.unchecked_files),
            packs_not_applied=tuple(missing),
            rules_if_heights=rules_if_heights,
        )
        return engine_findings(evidence)

    def _evaluate_packs(
        self,
        inspection: Inspection,
        selected: list[RulePack],
        summary: ZoneSummary,
        request: dict[str, str | None],
        cause: HoldCause | None,
        profile: Profile | None = None,
    ) -> list[PackResult]:
        """Each selected pack's rules over the facts (of ``profile`` in place of the
        inspection's); ``cause`` names what held a rule."""
        profile = profile if profile is not None else inspection.profile
        results: list[PackResult] = []
        for pack in selected:
            territory = self.territories.get(pack.name)
            touches: bool | None = None
            fraction: float | None = None
            if territory is not None and inspection.located:
                touches = inspection.territory_hits[pack.name].touched
                fraction = territory.fraction_of(inspection.footprint_wgs84) if touches else 0.0
            # Data that cannot be placed may lie in any territory: every pack applies to it.
            applies = territory is None or not inspection.located or bool(touches)
            context = {
                "dataset": dataset_facts(
                    profile,
                    pack.doc.scale_factor,
                    pack.doc.detail_share,
                    pack.doc.detail_count,
                ),
                "zones": zone_facts(summary, inspection.located),
                "territory": {"fraction": fraction, "touches": touches},
                "request": request,
            }
            results.append(
                evaluate_pack(pack, context, applies, fraction, cause, self._rule_outcomes)
            )
        return results

    def _rules_if_heights(
        self,
        inspection: Inspection,
        selected: list[RulePack],
        summary: ZoneSummary,
        request: dict[str, str | None],
    ) -> tuple[str, ...]:
        """Where the data may hold heights (``Profile.elevation_unsure``: a raster band, or
        a field laid as contour levels), the rules that would fire were it read as heights,
        if the verdict would then change."""
        profile = inspection.profile
        if not profile.elevation_unsure or profile.has_z:
            return ()
        heights = profile.model_copy(update={"has_z": True})
        return rules_changing(
            self._evaluate_packs(inspection, selected, summary, request, None),
            self._evaluate_packs(inspection, selected, summary, request, None, heights),
        )

    def check(
        self,
        source: Source,
        *,
        name: str | None = None,
        destination: str | None = None,
        purpose: str | None = None,
        reveal_zones: bool = False,
        packs: list[str] | None = None,
        untrusted: bool = False,
        placed_copy_of: InputInfo | None = None,
    ) -> Verdict:
        """Check one dataset and return its verdict.

        ``untrusted`` marks a path as someone else's upload (bytes and file objects always
        are): formats whose text names other files to read (VRT, KML super-overlays) are
        then refused, so that the upload cannot make the checker read files on this machine.

        ``placed_copy_of`` checks ``source`` as a copy, placed where it lies, of a derivative
        without coordinates (see ``remediate``): the verdict names the derivative and says it
        has no CRS and no georeferencing, while zones and territories are met where it lies.

        Raises
        ------
        UnreadableDataset
            The input cannot be read at all (also UnsupportedFormat, UnsafeArchive, InputTooLarge).
        UnknownRulePack
            ``packs`` names a pack this checker did not load.
        ValueError
            ``destination`` is not an ISO 3166-1 alpha-2 code (checked before any reading).
        """
        started = time.perf_counter()
        destination = country_code(destination)
        selected = self._select(packs)
        inspection, identity = self.inspect(source, name=name, packs=selected, untrusted=untrusted)
        if placed_copy_of is not None:
            identity = placed_copy_of
            inspection.profile = _without_coordinates(inspection.profile)
        summary = inspection.zones.summary(
            self.zones.source, self.zones.sha256, self.zones.classes, reveal_zones
        )
        if not inspection.located:
            summary.count = None
        summary.fictional = self.zones_fictional
        request = {"destination": destination, "purpose": purpose}
        if_heights = self._rules_if_heights(inspection, selected, summary, request)
        engine = self._engine_findings(inspection, selected, if_heights)
        results = self._evaluate_packs(inspection, selected, summary, request, held_by(engine))
        verdict, findings, conditions = decide(results, engine)
        return Verdict(
            id=str(uuid.uuid4()),
            verdict=verdict,
            input=identity,
            profile=inspection.profile,
            zones=summary,
            findings=findings,
            conditions=conditions,
            packs=[r.info for r in results],
            request=request,
            engine=ENGINE_VERSION,
            checked_at=datetime.now(UTC),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    def remediate(
        self,
        source: str | Path | bytes | BinaryIO,
        out: str | Path,
        *,
        mask_mode: MaskMode = "cut",
        force: bool = False,
        name: str | None = None,
        packs: list[str] | None = None,
        untrusted: bool = False,
    ) -> RemediationReport:
        """Check a dataset, apply the conditions of its verdict, write the derivative to
        ``out`` and re-check it with this checker. ``out`` may be an existing folder: the
        derivative is then named after the input (``NAME.remediated.gpkg`` or ``.tif``).
        ``untrusted`` as for ``check``.

        Every condition the findings name is planned (with the coarsest parameters any
        fired rule requires) and reported ``applied``, ``not_needed`` or ``cannot_apply``;
        what no data change can meet stays in the derivative's verdict. Vector derivatives
        are GeoPackages (every layer carried), raster ones GeoTIFFs. The input is never
        changed.

        Raises
        ------
        OutputExists
            ``out`` exists and ``force`` is not set, or ``out`` is the input.
        RemediationError
            ``out`` is of the wrong kind or in no folder, or ``mask_mode`` is unknown.
        UnreadableDataset
            As ``check``.
        """
        # Remediation loads only when asked for: a check never needs it.
        from compliance.remediate.run import remediate

        return remediate(
            self,
            source,
            out,
            mask_mode=mask_mode,
            force=force,
            name=name,
            packs=packs,
            untrusted=untrusted,
        )


def check(
    source: Source,
    *,
    packs: list[str | Path] | None = None,
    zones: str | Path | None = None,
    **options: Any,
) -> Verdict:
    """Check one dataset with a throwaway ``Checker`` (see ``Checker.check`` for options)."""
    return Checker(packs=packs, zones=zones).check(source, **options)
