"""Vector detail facts: a layer's and a dataset's detail from every line, ring and point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from compliance.dataset_profile import (
    DEFAULT_DETAIL_COUNT,
    DEFAULT_DETAIL_SHARE,
    DetailDistribution,
)
from compliance.measure.detail_accumulator import merge

__all__ = [
    "LayerDetail",
    "dataset_detail",
    "describe",
    "layer_detail",
]

if TYPE_CHECKING:
    from compliance.measure.vector_scan import LayerScan


@dataclass
class LayerDetail:
    distribution: DetailDistribution | None
    resolution_m: float | None
    method: str


def layer_detail(scan: LayerScan) -> LayerDetail:
    """A layer's detail: the shortest segment reached by 1% of its lines and rings or by
    100 of them (whichever is fewer), or the finer segment reached by as many of all their
    segments, floored by the grid its coordinates sit on."""
    middle = None
    if scan.bounds is not None:
        middle = ((scan.bounds[0] + scan.bounds[2]) / 2, (scan.bounds[1] + scan.bounds[3]) / 2)
    found = scan.detail.finish(middle)
    if found is None:
        return LayerDetail(None, None, "not measurable: no CRS")
    value = found.resolution()
    return LayerDetail(found, value, describe(found, value))


def describe(found: DetailDistribution, value: float | None) -> str:
    """How a layer's or dataset's resolution was obtained, in words."""
    if found.points_unmeasured:
        return (
            f"not measurable: {found.points} points (lines and rings drawn as one position "
            "counted as points) stored at full precision carry no detail measure (whatever "
            "else the data holds)"
        )
    parts = []
    if found.lines_measured:
        parts.append(
            f"shortest segment of each of {found.lines_measured} lines and rings (every "
            f"feature, geodesic); the detail reached by {DEFAULT_DETAIL_SHARE:.0%} of them or "
            f"by {DEFAULT_DETAIL_COUNT}, whichever is fewer, or if finer the segment reached "
            f"by as many of their {found.segments_measured} segments (fine lines chained "
            "into one stay that many segments)"
        )
    if found.quantum_m is not None:
        parts.append(f"no finer than the coordinates' grid ({found.quantum_m:.3g} m)")
    if found.points_quantum_m is not None:
        parts.append(f"{found.points} points quantised to {found.points_quantum_m:.3g} m")
    if value is None:
        return "not measurable: no line, ring or quantised point"
    return "; ".join(parts)


def dataset_detail(layers: list[DetailDistribution]) -> DetailDistribution | None:
    """Every layer's lines, rings and points pooled: no layer speaks for another."""
    return merge(layers)
