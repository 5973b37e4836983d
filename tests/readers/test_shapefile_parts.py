"""A shapefile sent without its .shx is refused with the parts to send, never with GDAL's
advice about its own settings; one with its .shx is read."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import shapely

from compliance import Checker, UnreadableDataset
from tests.builders import write_vector


def _shapefile(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_vector(folder / "roads.shp", [shapely.box(127.0, 37.5, 127.001, 37.501)], 4326)


def _zip(path: Path, members: list[Path]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for m in members:
            z.write(m, m.name)
    return path


@pytest.mark.parametrize("how", ["path", "zip", "bytes of a zip"])
def test_a_shp_without_its_shx_names_the_part_to_send(
    checker: Checker, tmp_path: Path, how: str
) -> None:
    shp = _shapefile(tmp_path / "data")
    shp.with_suffix(".shx").unlink()
    source: object = shp
    if how != "path":
        source = _zip(tmp_path / "roads.zip", [shp, shp.with_suffix(".dbf")])
        if how == "bytes of a zip":
            source = Path(str(source)).read_bytes()
    with pytest.raises(UnreadableDataset) as raised:
        checker.check(source, name="roads.zip" if how != "path" else None)  # type: ignore[arg-type]
    message = str(raised.value)
    assert "roads.shx is missing" in message and "send all its parts" in message
    assert "SHAPE_RESTORE_SHX" not in message and str(tmp_path) not in message


def test_a_shapefile_with_its_parts_is_checked(checker: Checker, tmp_path: Path) -> None:
    shp = _shapefile(tmp_path / "data")
    members = [shp, shp.with_suffix(".shx"), shp.with_suffix(".dbf"), shp.with_suffix(".prj")]
    for source in (shp, _zip(tmp_path / "roads.zip", members)):
        v = checker.check(source)
        assert v.profile.feature_count == 1
