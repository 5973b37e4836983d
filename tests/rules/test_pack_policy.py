"""Choosing packs is not a way around a jurisdiction (library and CLI).

A caller may run packs of its own, but data that lies in a built-in pack's territory,
where no selected pack's territory reaches, is held for review
(``MAPGATE-PACK-NOT-APPLIED``), naming the built-in packs left out. Truth is computed here
with pyproj and shapely from the repository's own territory and zone files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, shape

from compliance import Checker
from tests.builders import write_vector

RULES = Path(__file__).resolve().parents[2] / "rules"
NOT_APPLIED = "MAPGATE-PACK-NOT-APPLIED"


def _territory(name: str) -> shapely.Geometry:
    data = json.loads((RULES / "territories" / f"{name}.geojson").read_text())
    return shapely.union_all([shape(f["geometry"]) for f in data["features"]])


def _zone(zone_id: str) -> tuple[shapely.Geometry, str]:
    data = json.loads((RULES / "zones" / "demo_zones.geojson").read_text())
    (feature,) = [f for f in data["features"] if f["properties"]["zone_id"] == zone_id]
    return shape(feature["geometry"]), feature["properties"]["zone_class"]


def buildings(path: Path, lon: float, lat: float, crs: str | None, n: int = 12) -> Path:
    """``n`` 8 m houses drawn to 0.5 m (1:1,000-ish detail) around lon/lat, in ``crs``
    (EPSG:4326 coordinates written with no CRS when ``crs`` is None)."""
    to = Transformer.from_crs("EPSG:4326", crs or "EPSG:4326", always_xy=True)
    x0, y0 = to.transform(lon, lat)
    metres = crs is not None and not crs.endswith("4326")
    unit = 1.0 if metres else 1 / 111_000  # degrees per metre, near enough for a drawing
    houses = []
    for i in range(n):
        ox, oy = x0 + (i % 4) * 20 * unit, y0 + (i // 4) * 20 * unit
        ring = [(0, 0), (8, 0), (8, 3.5), (7.5, 3.5), (7.5, 8), (0, 8)]
        houses.append(Polygon([(ox + a * unit, oy + b * unit) for a, b in ring]))
    return write_vector(path, houses, crs)


def custom_pack(folder: Path, territory: str | None, name: str = "mine") -> Path:
    """A caller's own pack: no rules, allow by default, over a built-in territory file."""
    lines = [f"pack: {name}", 'version: "1"', "title: A caller's pack", "jurisdiction: XX"]
    if territory is not None:
        lines += [
            f"territory: {RULES / 'territories' / (territory + '.geojson')}",
            "territory_buffer_m: 22224",
        ]
    lines += ["default: allow", "rules: []"]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


# Places inside the demo military zone DEMO-KR-MIL-01 near Seoul, each in another CRS.
KOREA = [
    (127.030, 37.4675, "EPSG:5186"),  # Korea 2000 / Central Belt 2010
    (127.025, 37.4700, "EPSG:32652"),  # UTM 52N
    (127.035, 37.4650, "EPSG:4326"),
]
# Packs that leave Korea's out: built-in ones of other territories, and a caller's own.
CHOICES = [["in"], ["us-kba"], ["in", "us-kba"], ["file:in"], ["file:none-il"]]


def _packs(choice: list[str], folder: Path) -> list[str | Path]:
    out: list[str | Path] = []
    for item in choice:
        if item == "file:in":
            out.append(custom_pack(folder, "in"))
        elif item == "file:none-il":
            out.append(custom_pack(folder, "il", name="mine-il"))
        else:
            out.append(item)
    return out


@pytest.mark.parametrize("choice", CHOICES, ids=lambda c: "+".join(c))
@pytest.mark.parametrize("place", KOREA, ids=lambda p: p[2])
def test_korean_data_over_a_military_zone_is_never_allowed_without_kr(
    tmp_path: Path, choice: list[str], place: tuple[float, float, str]
) -> None:
    lon, lat, crs = place
    path = buildings(tmp_path / "houses.gpkg", lon, lat, crs)
    zone, zone_class = _zone("DEMO-KR-MIL-01")
    # Independent truth: the houses lie in Korea's territory and in a military zone,
    # and in no territory of the packs chosen.
    here = shapely.Point(lon, lat)
    assert _territory("kr").contains(here) and zone.contains(here) and zone_class == "military"
    assert not _territory("in").buffer(1).contains(here)
    assert not _territory("il").buffer(1).contains(here)

    verdict = Checker(packs=_packs(choice, tmp_path)).check(path)

    assert verdict.verdict != "allow"
    assert verdict.verdict == "review"
    (finding,) = [f for f in verdict.findings if f.rule_id == NOT_APPLIED]
    assert finding.facts == {"packs_not_applied": ["kr"]}
    assert finding.effect == "review" and "kr" in finding.message
    assert verdict.zones.classes == ["military"]
    assert all(not p.applies for p in verdict.packs if p.name in {"in", "us-kba", "mine-il"})


@pytest.mark.parametrize("place", KOREA, ids=lambda p: p[2])
def test_control_the_same_data_with_the_built_in_packs_is_denied(
    tmp_path: Path, place: tuple[float, float, str]
) -> None:
    path = buildings(tmp_path / "houses.gpkg", *place)
    for packs in (None, ["kr"], ["kr", "in"]):
        verdict = Checker(packs=packs).check(path)
        assert verdict.verdict == "deny", packs
        rules = {f.rule_id for f in verdict.findings}
        assert "KR-SECURITY-ZONES-LARGE-SCALE" in rules and NOT_APPLIED not in rules


def test_selecting_among_loaded_packs_is_held_the_same(tmp_path: Path) -> None:
    path = buildings(tmp_path / "houses.gpkg", *KOREA[0])
    checker = Checker()
    for packs in (["in"], ["us-kba"], ["in", "us-kba"]):
        verdict = checker.check(path, packs=packs)
        assert verdict.verdict == "review", packs
        (finding,) = [f for f in verdict.findings if f.rule_id == NOT_APPLIED]
        assert finding.facts == {"packs_not_applied": ["kr"]}


def test_a_callers_pack_over_the_same_territory_covers_it(tmp_path: Path) -> None:
    # Running one's own policy for Korea is the caller's choice: nothing is left out.
    path = buildings(tmp_path / "houses.gpkg", *KOREA[1])
    verdict = Checker(packs=[custom_pack(tmp_path, "kr", name="my-kr")]).check(path)
    assert NOT_APPLIED not in {f.rule_id for f in verdict.findings}
    assert verdict.verdict == "allow"


@pytest.mark.parametrize(
    ("lon", "lat", "crs", "chosen", "missing"),
    [
        (77.59, 12.97, "EPSG:32643", ["kr"], ["in"]),  # Bengaluru, UTM 43N
        (34.78, 32.08, "EPSG:2039", ["in", "kr"], ["us-kba"]),  # Tel Aviv, Israeli TM
        (-47.93, -15.78, "EPSG:31983", ["in"], []),  # Brasília: no built-in territory
    ],
)
def test_other_territories_and_a_control_outside_all(
    tmp_path: Path, lon: float, lat: float, crs: str, chosen: list[str], missing: list[str]
) -> None:
    path = buildings(tmp_path / "houses.gpkg", lon, lat, crs)
    verdict = Checker(packs=chosen).check(path)
    found = [f.facts["packs_not_applied"] for f in verdict.findings if f.rule_id == NOT_APPLIED]
    assert found == ([missing] if missing else [])
    if missing:
        assert verdict.verdict != "allow"


@pytest.mark.parametrize("choice", [["in"], ["us-kba"], ["file:in"]], ids=lambda c: c[0])
def test_data_that_cannot_be_placed_counts_every_built_in_territory(
    tmp_path: Path, choice: list[str]
) -> None:
    path = buildings(tmp_path / "nowhere.gpkg", 127.03, 37.4675, None)
    verdict = Checker(packs=_packs(choice, tmp_path)).check(path)
    (finding,) = [f for f in verdict.findings if f.rule_id == NOT_APPLIED]
    applied = {"in": {"in"}, "us-kba": {"us-kba"}, "file:in": set()}[choice[0]]
    assert finding.facts == {"packs_not_applied": sorted({"in", "kr", "us-kba"} - applied)}
    assert verdict.verdict == "review"


@pytest.mark.parametrize("pack", ["in", "us-kba", "file"])
def test_cli_pack_choice_is_held_for_review(tmp_path: Path, pack: str) -> None:
    path = buildings(tmp_path / "houses.gpkg", *KOREA[2])
    chosen = str(custom_pack(tmp_path, "in")) if pack == "file" else pack
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "compliance.cli.main",
            "check",
            str(path),
            "--pack",
            chosen,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 20, result.stderr  # review
    document = json.loads(result.stdout)
    assert document["verdict"] == "review"
    (finding,) = [f for f in document["findings"] if f["rule_id"] == NOT_APPLIED]
    assert finding["facts"] == {"packs_not_applied": ["kr"]}
