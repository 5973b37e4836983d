"""Ground geometry: geodesic measures checked against pyproj's Geod computed in the tests."""
