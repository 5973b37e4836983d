"""The interface every remediation action implements: what it is given, what it answers.

An action meets one condition for one kind of data. It reads ``ActionContext.source``
(the input, or what the previous action wrote) and, when it changes anything, writes the
whole changed dataset to ``ActionContext.target`` and answers ``wrote=True``; the next
action then reads that. It never writes anywhere else but ``scratch`` and never changes
``source``. It streams (blocks, batches) so that memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pyproj import CRS

from compliance.dataset_profile import Profile
from compliance.rules.conditions import DataKind
from compliance.zones.zone_set import ZoneSet

__all__ = [
    "ActionChanges",
    "ActionContext",
    "ActionFunction",
    "ActionResult",
    "ActionStatus",
    "MaskMode",
    "Placement",
]

ActionStatus = Literal["applied", "not_needed", "cannot_apply"]
MaskMode = Literal["cut", "drop"]


class ActionChanges(BaseModel):
    """What an action changed; None where the action does not measure that kind of change."""

    pixels_masked: int | None = Field(
        default=None, description="Full-resolution pixels set to nodata."
    )
    area_masked_km2: float | None = Field(default=None, description="Geodesic area masked, km².")
    features_dropped: int | None = None
    features_cut: int | None = Field(default=None, description="Features that lost a part.")
    features_changed: int | None = Field(
        default=None, description="Features whose geometry or attributes changed otherwise."
    )
    fields_dropped: list[str] = Field(default_factory=list, description="As layer.field.")
    layers_dropped: list[str] = Field(default_factory=list)
    resolution_before_m: float | None = None
    resolution_after_m: float | None = None


@dataclass(frozen=True)
class Placement:
    """Where a derivative without coordinates really lies: what ``strip_coordinates`` knows,
    and nothing the output carries.

    ``restore(derivative, target)`` writes a copy of the derivative placed back where the
    original lies (same format as the derivative); the re-check reads that copy, judges it
    as the derivative (no CRS, not georeferenced) and says so. ``crs`` and ``offset`` say
    how for a vector frame (the local coordinates plus ``offset`` are the original's, in
    ``crs``); a raster action may leave them unset.
    """

    restore: Callable[[Path, Path], None]
    crs: CRS | None = None
    offset: tuple[float, float] | None = None


@dataclass(frozen=True)
class ActionResult:
    """An action's answer. ``wrote`` is True only when ``target`` now holds the whole dataset."""

    status: ActionStatus
    reason: str
    changes: ActionChanges = field(default_factory=ActionChanges)
    wrote: bool = False
    placement: Placement | None = None


@dataclass(frozen=True)
class ActionContext:
    """Everything an action may use. The gatekeeper runs remediation and holds the zones.

    Attributes
    ----------
    condition, kind
        The condition to meet and the kind of data ("raster" or "vector").
    source
        The dataset as it stands: the input, or the previous action's output. Read only.
    target
        Where to write the changed dataset (GeoPackage for vectors, GeoTIFF for rasters);
        it does not exist yet.
    original
        The input as received; read only (for metadata the steps before may have lost).
    profile
        The original's profile, as its check measured it.
    zones
        The sensitive zones with their buffers (``compliance.remediate.zone_mask`` turns the
        ones near the data into a mask in the data's CRS).
    parameters
        The condition's parameters from the plan (defaults filled in; for
        ``coarsen_resolution`` the coarsest resolution any fired rule requires).
    mask_mode
        ``cut`` features at the mask or ``drop`` those meeting it (vectors).
    scratch
        A folder of the run's own, removed afterwards.
    """

    condition: str
    kind: DataKind
    source: Path
    target: Path
    original: Path
    profile: Profile
    zones: ZoneSet
    parameters: Mapping[str, Any]
    mask_mode: MaskMode
    scratch: Path


ActionFunction = Callable[[ActionContext], ActionResult]
