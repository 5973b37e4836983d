"""The conditions a rule may attach to its verdict: what each means, what meets it, and
whether mapgate can apply it to a derivative.

A pack names a condition either bare (``- mask_zones``) or as a one-key mapping to its
parameters (``- coarsen_resolution: {resolution_m: 0.4}``); ``parse_condition`` checks
either form against this registry, so an unknown condition or parameter is a pack error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CONDITIONS",
    "DataKind",
    "Condition",
    "Parameter",
    "condition",
    "parse_condition",
]

DataKind = Literal["raster", "vector"]


@dataclass(frozen=True)
class Parameter:
    """One typed parameter of a condition; ``required`` ones have no default."""

    name: str
    type: type
    description: str
    default: Any = None
    required: bool = False
    minimum: float | None = None

    def check(self, value: Any) -> Any:
        """The value, converted to the parameter's type; ValueError when it does not fit."""
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or isinstance(value, bool) != (self.type is bool):
            raise ValueError(f"{self.name} must be a {self.type.__name__}, got {value!r}")
        if self.minimum is not None and value <= self.minimum:  # type: ignore[operator]
            raise ValueError(f"{self.name} must be greater than {self.minimum}, got {value!r}")
        return value


@dataclass(frozen=True)
class Condition:
    """A named condition: its meaning, what satisfies it, and what mapgate can apply."""

    name: str
    meaning: str
    satisfied_by: str
    parameters: tuple[Parameter, ...] = ()
    applies_to: frozenset[str] = field(default_factory=frozenset)

    @property
    def applicable(self) -> bool:
        """mapgate can apply it to some kind of data (the rest only a person can meet)."""
        return bool(self.applies_to)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters if not p.required}


_BOTH = frozenset({"raster", "vector"})
# English, and Korean as NGII names them: contour, elevation, height, altitude, depth and
# above sea level (the names the KR pack's KR-CONTOURS rule goes by).
_CONTOUR_FIELDS = "(?i)(contour|elev|height|altitude|depth|등고|표고|높이|고도|수심|해발)"

CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in (
        Condition(
            "mask_zones",
            "Sensitive zones (with their buffers) must not be shown.",
            "No pixel with data and no feature within a zone grown by its buffer; the gap is "
            "the zone grown outward to a coarse grid so that its outline does not trace the "
            "secret boundary.",
            (
                Parameter(
                    "grid_m",
                    float,
                    "Cell of the coarse grid the masked area is grown out to, metres.",
                    default=1000.0,
                    minimum=0.0,
                ),
            ),
            _BOTH,
        ),
        Condition(
            "coarsen_resolution",
            "The data may not be more detailed than a ground resolution.",
            "Imagery resampled (average) to at least resolution_m; vectors snapped to a "
            "resolution_m grid and simplified so that their measured detail is no finer.",
            (
                Parameter(
                    "resolution_m",
                    float,
                    "The finest ground resolution allowed, metres.",
                    required=True,
                    minimum=0.0,
                ),
            ),
            _BOTH,
        ),
        Condition(
            "strip_coordinates",
            "The data may not carry real-world coordinates.",
            "Imagery without CRS, geotransform, GCPs, RPCs or any georeferencing trace; "
            "vectors in a local frame whose origin is not disclosed.",
            (),
            _BOTH,
        ),
        Condition(
            "drop_contours",
            "Contours and elevation are left out.",
            "No contour or elevation layer or field (names matching field_pattern, or named "
            "as heights), no field a format keeps its heights in (GPX's ele), and no Z.",
            (
                Parameter(
                    "field_pattern",
                    str,
                    "Regular expression for contour and elevation layer and field names.",
                    default=_CONTOUR_FIELDS,
                ),
            ),
            frozenset({"vector"}),
        ),
        Condition(
            "strip_sensitive_attributes",
            "Features at sensitive installations may not be labelled or carry attributes.",
            "Every feature that meets a zone (with its buffer) has all its attributes empty.",
            (),
            frozenset({"vector"}),
        ),
        Condition(
            "store_in_india",
            "The data must stay on servers in India.",
            "Only where the data is kept and served can meet it; no change to the data does.",
        ),
        Condition(
            "export_permit",
            "The export needs a permit from the authority (in Korea, MOLIT's council).",
            "Only the permit meets it; no change to the data does.",
        ),
        Condition(
            "attribution",
            "The exported data must credit its source.",
            "The receiver displays the required credit; no change to the data meets it.",
        ),
    )
}


def condition(name: str) -> Condition:
    """The registered condition; KeyError naming the known ones when there is none."""
    try:
        return CONDITIONS[name]
    except KeyError:
        raise KeyError(
            f"unknown condition {name!r}; known: {', '.join(sorted(CONDITIONS))}"
        ) from None


def parse_condition(raw: Any) -> tuple[str, dict[str, Any]]:
    """A pack's condition entry as (name, parameters with defaults filled in).

    Raises
    ------
    ValueError
        Not a name or a one-key mapping, an unknown condition or parameter, a parameter
        of the wrong type, or a required parameter missing.
    """
    given: Any
    if isinstance(raw, str):
        name, given = raw, {}
    elif isinstance(raw, Mapping) and len(raw) == 1:
        ((name, given),) = raw.items()
        given = {} if given is None else given
        if not isinstance(name, str) or not isinstance(given, Mapping):
            raise ValueError(f"a condition's parameters are a mapping: {dict(raw)!r}")
    else:
        raise ValueError(f"a condition is a name or a one-key mapping, got {raw!r}")
    try:
        known = condition(name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    by_name = {p.name: p for p in known.parameters}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        raise ValueError(f"condition {name}: unknown parameter(s) {unknown}")
    params = known.defaults()
    for p in known.parameters:
        if p.name in given:
            try:
                params[p.name] = p.check(given[p.name])
            except ValueError as exc:
                raise ValueError(f"condition {name}: {exc}") from None
        elif p.required:
            raise ValueError(f"condition {name}: parameter {p.name} is required")
    return name, params
