"""Esri JSON: precise positions in the members GDAL's ESRIJSON driver does not read.

The move: points snapped to 0.001 degree, and each precise position written where GDAL
passes over it: a feature's own member beside ``geometry`` and ``attributes``, a
geometry's member it does not know (or ``m`` without ``hasM``), an attribute that no
declared field names, or a member of the feature set beside its features.

Claim under test: such values holding a table of positions where the features lie hold
the file for review (``MAPGATE-UNREAD-GEOMETRIES``), in three places; a feature set's
usual description, measures under ``hasM``, and attributes GDAL reads (every one, when
no fields are declared) do not.

Truth: the positions are drawn here at random; the documents are written here; what
GDAL reads is pyogrio's answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest

from compliance import Checker, Effect
from tests.adversarial.snapped_points import PLACES, in_box

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
HELD = "positions written where GDAL does not read the document"
N = 30


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _positions(place: str) -> tuple[np.ndarray, np.ndarray]:
    return in_box(place, N, seed=5, half=0.004)


def _document(path: Path, place: str, trick: str) -> Path:
    precise, coarse = _positions(place)
    features = []
    for i, ((x, y), (px, py)) in enumerate(zip(coarse, precise, strict=True)):
        geometry: dict = {"x": x, "y": y}
        feature: dict = {"geometry": geometry, "attributes": {"n": i}}
        if trick == "a_member_of_the_feature":
            feature["detail"] = [px, py]
        elif trick == "members_of_the_geometry":
            geometry.update(m=px, q=py)  # m is no measure without hasM
        elif trick == "an_attribute_no_field_declares":
            feature["attributes"]["at"] = f"{px:.7f} {py:.7f}"
        elif trick == "measures":
            geometry["m"] = float(i)
        elif trick == "attributes_without_fields":
            feature["attributes"].update(lon=x, lat=y)
        features.append(feature)
    doc: dict = {
        "objectIdFieldName": "n",
        "geometryType": "esriGeometryPoint",
        "spatialReference": {"wkid": 4326, "latestWkid": 4326},
        "fields": [{"name": "n", "type": "esriFieldTypeOID", "alias": "n"}],
        "exceededTransferLimit": False,
        "features": features,
    }
    if trick == "a_member_of_the_set":
        doc["log"] = precise.tolist()
    elif trick == "measures":
        doc["hasM"] = True
    elif trick == "attributes_without_fields":
        del doc["fields"]
    path.write_text(json.dumps(doc))
    frame = pyogrio.read_dataframe(path)
    assert pyogrio.read_info(path)["driver"] == "ESRIJSON"
    assert np.allclose(np.column_stack([frame.geometry.x, frame.geometry.y]), coarse)
    return path


LEAKS = [
    "a_member_of_the_feature",
    "members_of_the_geometry",
    "an_attribute_no_field_declares",
    "a_member_of_the_set",
]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("trick", LEAKS)
def test_positions_where_gdal_does_not_read_hold_the_file(tmp_path, checker, trick, place):
    verdict = checker.check(_document(tmp_path / "f.json", place, trick))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert UNREAD in {f.rule_id for f in verdict.findings}
    assert any(u.startswith(HELD) for u in verdict.profile.unread_geometries)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("what", ["plain", "measures", "attributes_without_fields"])
def test_what_gdal_reads_is_clean(tmp_path, checker, what, place):
    plain = checker.check(_document(tmp_path / "plain.json", place, "plain"))
    verdict = checker.check(_document(tmp_path / "f.json", place, what))
    assert not any(u.startswith(HELD) for u in verdict.profile.unread_geometries)
    assert verdict.verdict == plain.verdict
    assert plain.verdict != Effect.review
