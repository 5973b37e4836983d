"""A zip whose members share a name is refused, and a statement names members as unpacked.

The move: a zip holding ``roads.gpkg`` twice, fine first and coarse second. Unpacking
wrote the second over the first, so only the coarse one was checked and allowed, while
the statement signed for it listed both members as subjects (``verify`` passed for the
fine one), and ``unzip -n`` or 7-Zip leave the fine one on the receiver's disk. Names
that differ only in letter case, Unicode normalisation, ``./``, ``//`` or a backslash land
on one file too, on the receiver's disk if not on the checker's.

Truth, computed here: each member's vertex spacing on the ground (pyproj.Geod) from the
file written before it was zipped, and which bytes each member holds (zipfile). Controls:
each member alone in a zip is checked and judged by its own spacing; the same two files
under distinct names are two datasets, not a repeat.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata
import warnings
import zipfile
from pathlib import Path

import pytest

from compliance import Checker, UnreadableDataset, UnsupportedFormat
from compliance.attestation import (
    CannotAttest,
    WrongFile,
    attest,
    generate_key,
    load_public_key,
    verify,
)
from compliance.errors import UnsafeArchive
from tests.adversarial.look_alikes import ground_step, road_lines, write_lines

CRS, LON, LAT = "EPSG:32652", 127.38, 36.35


@pytest.fixture(scope="module")
def roads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, float]]:
    """The fine and the coarse GeoPackage's bytes, with their spacing on the ground."""
    folder = tmp_path_factory.mktemp("roads")
    out = {}
    for name, step in (("fine", 0.5), ("coarse", 40.0)):
        lines = road_lines(CRS, LON, LAT, step)
        path = write_lines(folder / f"{name}.gpkg", lines, CRS, "GPKG")
        out[name] = (path.read_bytes(), ground_step(lines, CRS))
    return out


def _zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as z:
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: that is the move
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name), data)
    return path


def _nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


# name: the two members' names (the fine GeoPackage first, the coarse one second)
REPEATS = {
    "same_name": ("roads.gpkg", "roads.gpkg"),
    "letter_case": ("ROADS.GPKG", "roads.gpkg"),
    "dot_folder": ("data/./roads.gpkg", "data/roads.gpkg"),
    "double_slash": ("data//roads.gpkg", "data/roads.gpkg"),
    "backslash": ("data\\roads.gpkg", "data/roads.gpkg"),
    "unicode_form": (_nfd("도로.gpkg"), unicodedata.normalize("NFC", "도로.gpkg")),
    "case_of_a_folder": ("Data/roads.gpkg", "data/roads.gpkg"),
}


@pytest.mark.parametrize("name", REPEATS)
@pytest.mark.parametrize("how", ["path", "upload"])
def test_members_that_share_a_name_are_refused(tmp_path, checker: Checker, roads, name, how):
    first, second = REPEATS[name]
    (fine, fine_step), (coarse, coarse_step) = roads["fine"], roads["coarse"]
    assert fine_step < 1.0 < 40.0 < coarse_step
    archive = _zip(tmp_path / "delivery.zip", [(first, fine), (second, coarse)])
    with zipfile.ZipFile(archive) as z:  # both are in it, the fine one first
        assert [z.read(i) for i in z.infolist()] == [fine, coarse]
    source: object = archive.read_bytes() if how == "upload" else archive
    with pytest.raises(UnsafeArchive) as refused:
        checker.check(source, name="delivery.zip")  # type: ignore[arg-type]
    message = str(refused.value)
    assert repr(first) in message and "refused" in message
    assert str(tmp_path) not in message


def test_each_member_alone_is_judged_by_its_own_spacing(tmp_path, checker: Checker, roads):
    for label, (data, step) in roads.items():
        verdict = checker.check(_zip(tmp_path / f"{label}.zip", [("data\\roads.gpkg", data)]))
        assert verdict.profile.resolution_m == pytest.approx(step, rel=1e-3)
        assert (verdict.verdict == "allow") is (label == "coarse")
    # Two names that are not one: two datasets, refused as such, not as a repeat.
    both = [("a/roads.gpkg", roads["fine"][0]), ("b/roads.gpkg", roads["coarse"][0])]
    with pytest.raises(UnsupportedFormat, match="several datasets"):
        checker.check(_zip(tmp_path / "two.zip", both))


def test_a_file_and_a_folder_of_one_name_are_refused(tmp_path, checker: Checker, roads):
    members = [("roads.gpkg", roads["coarse"][0]), ("ROADS.gpkg/notes.txt", b"a note")]
    with pytest.raises(UnsafeArchive, match="refused"):
        checker.check(_zip(tmp_path / "clash.zip", members))


def test_a_kmz_read_in_place_with_two_documents_is_refused(tmp_path, checker: Checker):
    def kml(lon: float) -> bytes:
        return (
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><Point>'
            f"<coordinates>{lon},{LAT}</coordinates></Point></Placemark></Document></kml>"
        ).encode()

    alone = checker.check(_zip(tmp_path / "one.kmz", [("doc.kml", kml(LON))]))
    assert alone.profile.feature_count == 1
    with pytest.raises(UnsafeArchive, match="two members named 'doc.kml'"):
        checker.check(
            _zip(tmp_path / "two.kmz", [("doc.kml", kml(LON)), ("doc.kml", kml(LON + 1))])
        )


def test_the_command_line_says_why_without_a_traceback(tmp_path, roads):
    archive = _zip(tmp_path / "delivery.zip", [("roads.gpkg", roads["fine"][0]),
                                               ("roads.gpkg", roads["coarse"][0])])  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "compliance.cli.main", "check", str(archive), "--pack", "kr"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 3
    assert "two members named 'roads.gpkg'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_statement_names_members_as_they_were_unpacked(tmp_path, checker: Checker, roads):
    # A member named with a backslash is unpacked, checked and named unchecked by its
    # folder path: the statement leaves out the very member the check named unread.
    key = generate_key(tmp_path / "key")
    folder = tmp_path / "unpacked"
    folder.mkdir()
    notes = folder / "notes.csv"
    notes.write_text("id,lon,lat\n1,127.380000001,36.350000001\n")
    gpkg = folder / "roads.gpkg"
    gpkg.write_bytes(roads["coarse"][0])
    archive = _zip(tmp_path / "delivery.zip", [("data\\roads.gpkg", gpkg.read_bytes()),
                                               ("data\\notes.csv", notes.read_bytes())])  # fmt: skip
    verdict = checker.check(archive)
    finding = next(f for f in verdict.findings if f.rule_id == "MAPGATE-UNCHECKED-FILES")
    assert finding.facts["unchecked_files"] == ["data/notes.csv"]
    envelope = attest(verdict, key.private_path, archive)
    public = [load_public_key(key.public_path)]
    assert verify(envelope, public, gpkg).subject.name == "data/roads.gpkg"  # type: ignore[union-attr]
    assert verify(envelope, public, archive).subject.name == "delivery.zip"  # type: ignore[union-attr]
    with pytest.raises(WrongFile):
        verify(envelope, public, notes)
    # A zip whose names repeat is never attested, whatever verdict is offered for it.
    twice = _zip(tmp_path / "twice.zip", [("roads.gpkg", roads["fine"][0]),
                                          ("roads.gpkg", roads["coarse"][0])])  # fmt: skip
    from compliance.readers.inputs import dataset_digest

    forged = verdict.model_copy(
        update={"input": verdict.input.model_copy(update={"sha256": dataset_digest(twice)[0]})}
    )
    with pytest.raises(CannotAttest, match="two members named"):
        attest(forged, key.private_path, twice)
    assert issubclass(UnsafeArchive, UnreadableDataset)
