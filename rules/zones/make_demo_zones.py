"""Write the demo sensitive-zones layer. Every zone here is FICTIONAL: a square placed
for testing and demonstration, not the outline of any real facility.

Usage: python rules/zones/make_demo_zones.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

OUT = Path(__file__).resolve().parent / "demo_zones.geojson"

# zone_id, zone_class, buffer_m, (min lon, min lat, max lon, max lat)
ZONES = [
    ("DEMO-KR-MIL-01", "military", 500.0, (127.020, 37.460, 127.040, 37.475)),
    ("DEMO-KR-MIL-02", "military", 1000.0, (126.700, 37.900, 126.760, 37.940)),
    ("DEMO-KR-GOV-01", "government", 200.0, (126.970, 37.582, 126.980, 37.590)),
    ("DEMO-KR-NRG-01", "energy", 300.0, (129.280, 35.310, 129.310, 35.330)),
    ("DEMO-IN-NUC-01", "nuclear", 2000.0, (72.640, 19.820, 72.670, 19.840)),
    ("DEMO-IN-AIR-01", "airfield", 500.0, (77.100, 28.550, 77.120, 28.570)),
    ("DEMO-IL-MIL-01", "military", 500.0, (34.900, 31.200, 34.950, 31.240)),
]


def main() -> None:
    frame = gpd.GeoDataFrame(
        {
            "zone_id": [z[0] for z in ZONES],
            "zone_class": [z[1] for z in ZONES],
            "buffer_m": [z[2] for z in ZONES],
            "note": ["fictional demo zone"] * len(ZONES),
        },
        geometry=[box(*z[3]) for z in ZONES],
        crs=4326,
    )
    frame.to_file(OUT, driver="GeoJSON")
    print(f"wrote {len(frame)} zones to {OUT.name}")


if __name__ == "__main__":
    main()
