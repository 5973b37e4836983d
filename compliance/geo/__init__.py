"""Ground geometry on the WGS84 ellipsoid: geodesic measures, footprints, segment lengths."""

__all__: list[str] = []
