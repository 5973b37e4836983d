"""Every error status as application/problem+json, and no temporary file left behind."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.errors import STATUS_CODES, status_for
from api.main import create_app
from compliance import (
    Checker,
    ComplianceError,
    InputTooLarge,
    RulePackError,
    UnknownRulePack,
    UnreadableDataset,
    UnsafeArchive,
    UnsupportedFormat,
    ZonesError,
)
from tests.api.helpers import (
    ApiData,
    TestClient,
    auth,
    make_settings,
    mapgate_temp_entries,
    point_geojson,
    sqlite_url,
)

LIMIT = 10_000
MULTIPART_B = "multipart/form-data; boundary=b"


@pytest.fixture
def small(tmp_path: Path, uploads: Path, api_checker: Checker) -> Iterator[TestClient]:
    """An app whose upload limit is 10 kB and whose uploads go to ``uploads``."""
    settings = make_settings(
        sqlite_url(tmp_path / "a.sqlite"), max_upload_bytes=LIMIT, tmp_dir=uploads
    )
    with TestClient(create_app(settings, checker=api_checker)) as c:
        yield c
    assert list(uploads.iterdir()) == []


def assert_problem(r, status: int, title: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    if title is not None:
        assert body["title"] == title
    return body


def test_unreadable_file_is_422(small: TestClient, api_data: ApiData, uploads: Path) -> None:
    r = small.post(
        "/v1/checks",
        files={"file": ("garbage.geojson", api_data.garbage.read_bytes())},
        headers=auth("alice"),
    )
    body = assert_problem(r, 422, "Unsupported format")
    assert "garbage.geojson" in body["detail"]
    assert body["type"] == "urn:mapgate:problem:unsupported-format"
    assert list(uploads.iterdir()) == []


@pytest.mark.parametrize("name", ["a&amp;.geojson", "semi;colon.geojson", "notes.dat", "x&y.gpkg"])
def test_a_problem_never_shows_a_server_folder(small: TestClient, uploads: Path, name: str) -> None:
    # GDAL quotes the file it failed on with its folder: here the upload's spool folder.
    r = small.post(
        "/v1/checks", files={"file": (name, b'{"type": "Feature"')}, headers=auth("alice")
    )
    body = assert_problem(r, 422)
    assert str(uploads) not in body["detail"] and "mapgate-upload-" not in body["detail"]
    assert "/" not in body["detail"].replace(" / ", "")


def test_over_the_limit_is_413_while_streaming(small: TestClient, uploads: Path) -> None:
    def body() -> Iterator[bytes]:  # no Content-Length: the limit must bite while streaming
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.geojson"\r\n'
        yield b"\r\n"
        for _ in range(100):
            yield b"x" * 1000
        yield b"\r\n--b--\r\n"

    r = small.post(
        "/v1/checks",
        content=body(),
        headers=auth("alice") | {"Content-Type": "multipart/form-data; boundary=b"},
    )
    body_ = assert_problem(r, 413)
    assert str(LIMIT) in body_["detail"]
    assert list(uploads.iterdir()) == []


def test_content_length_over_the_limit_is_413_before_reading(small: TestClient) -> None:
    r = small.post(
        "/v1/checks",
        files={"file": ("big.geojson", b"x" * (LIMIT + 70_000))},
        headers=auth("alice"),
    )
    assert_problem(r, 413)


def test_exactly_the_limit_is_accepted(small: TestClient) -> None:
    data = point_geojson(-40, -20, 1)
    data = data + b" " * (LIMIT - len(data))
    r = small.post("/v1/checks", files={"file": ("ok.geojson", data)}, headers=auth("alice"))
    assert r.status_code == 200, r.text
    r = small.post("/v1/checks", files={"file": ("ok.geojson", data + b" ")}, headers=auth("alice"))
    assert_problem(r, 413)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"{}", "headers": {"Content-Type": "application/json"}}, 415),
        ({"files": {"destination": (None, "KR")}}, 422),  # no file part
        ({"content": b"--b\r\nnot a part", "headers": {"Content-Type": MULTIPART_B}}, 400),
        ({"content": b"", "headers": {"Content-Type": "multipart/form-data"}}, 400),  # no boundary
        ({"files": {"file": ("a.geojson", b"{}")}, "data": {"reveal_zones": "maybe"}}, 422),
        ({"files": {"file": ("a.geojson", b"{}")}, "data": {"purpose": "p" * 5000}}, 422),
        ({"files": [("file", ("a.geojson", b"{}")), ("file", ("b.geojson", b"{}"))]}, 422),
    ],
    ids=[
        "not-multipart",
        "no-file",
        "malformed",
        "no-boundary",
        "bad-bool",
        "long-field",
        "two-files",
    ],  # fmt: skip
)
def test_bad_requests(small: TestClient, uploads: Path, kwargs: dict, status: int) -> None:
    headers = auth("alice") | kwargs.pop("headers", {})
    r = small.post("/v1/checks", headers=headers, **kwargs)
    assert_problem(r, status)
    assert list(uploads.iterdir()) == []


def test_truncated_body_is_400(small: TestClient, uploads: Path) -> None:
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.geojson"\r\n\r\n{}'
    r = small.post(
        "/v1/checks",
        content=part,
        headers=auth("alice") | {"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_problem(r, 400)
    assert list(uploads.iterdir()) == []


def test_unknown_pack_in_the_form_is_422(small: TestClient, api_data: ApiData) -> None:
    r = small.post(
        "/v1/checks",
        files={"file": ("c.geojson", api_data.clear.read_bytes())},
        data={"packs": "no-such-pack"},
        headers=auth("alice"),
    )
    body = assert_problem(r, 422, "Unknown rule pack")
    assert "no-such-pack" in body["detail"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-key"}, 401),
        ({"Authorization": "Basic YWxpY2U6eA=="}, 401),
        ({"Authorization": "Bearer"}, 401),
    ],
)
@pytest.mark.parametrize("path", ["/v1/checks", "/v1/packs", "/v1/checks/abc", "/metrics"])
def test_missing_or_bad_key_is_401(
    small: TestClient, headers: dict, status: int, path: str
) -> None:
    r = small.get(path, headers=headers)
    assert_problem(r, status)
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_post_without_key_is_401_and_stores_nothing(small: TestClient, api_data: ApiData) -> None:
    r = small.post("/v1/checks", files={"file": ("c.geojson", api_data.clear.read_bytes())})
    assert_problem(r, 401)
    assert small.get("/v1/checks", headers=auth("carol")).json()["items"] == []


def test_submitter_on_metrics_is_403(small: TestClient) -> None:
    assert_problem(small.get("/metrics", headers=auth("alice")), 403)


def test_unknown_id_is_404(small: TestClient) -> None:
    assert_problem(small.get("/v1/checks/nope", headers=auth("carol")), 404)


def test_unknown_route_is_404_problem(small: TestClient) -> None:
    assert_problem(small.get("/v2/nothing"), 404)


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "!!!"},
        {"cursor": "WzEsMl0"},
        {"limit": 0},
        {"limit": 501},
        {"verdict": "maybe"},
        {"since": "yesterday"},
    ],
)
def test_bad_listing_query_is_422(small: TestClient, params: dict) -> None:
    assert_problem(small.get("/v1/checks", params=params, headers=auth("carol")), 422)


def test_status_table_covers_the_error_tree() -> None:
    expected = {
        UnreadableDataset: 422,
        UnsupportedFormat: 422,
        UnsafeArchive: 422,
        InputTooLarge: 413,
        UnknownRulePack: 422,
        RulePackError: 500,
        ZonesError: 500,
        ComplianceError: 500,
    }
    for cls, status in expected.items():
        assert status_for(cls("x"))[0] == status, cls
    assert set(STATUS_CODES) == set(expected)


def test_no_mapgate_temp_files_left_in_the_temp_dir(
    tmp_path: Path, api_checker: Checker, api_data: ApiData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default tmp_dir, good and bad uploads leave nothing in the process's temp dir.

    The temp dir is pointed at a private folder (``tempfile.tempdir``, which the app and the
    library both use), so other programs writing to the shared /tmp cannot blur the result.
    """
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    assert Path(tempfile.gettempdir()) == private
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: object, **kwargs: object) -> str:
        made.append(real_mkdtemp(*args, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    settings = make_settings(sqlite_url(tmp_path / "t.sqlite"), max_upload_bytes=LIMIT)
    with TestClient(create_app(settings, checker=api_checker)) as c:
        h = auth("alice")
        for name, data in [
            ("ok.geojson", api_data.clear.read_bytes()),
            ("r.tif", api_data.raster.read_bytes()[:LIMIT]),
            ("bad.geojson", b"nope"),
            ("big.geojson", b"x" * (LIMIT + 1)),
            ("../../etc/passwd", b"nope"),
        ]:
            r = c.post("/v1/checks", files={"file": (name, data)}, headers=h)
            assert r.status_code in {200, 413, 422}
    uploads = [d for d in made if Path(d).name.startswith("mapgate-upload-")]
    assert len(uploads) == 5  # one private folder per upload, the over-limit one included
    assert all(Path(d).parent == private for d in made)
    assert mapgate_temp_entries(private) == set()
    assert list(private.iterdir()) == []
