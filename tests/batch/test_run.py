"""Real audits over generated archives, with the real Checker, in a local process pool."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import pytest

from compliance.batch.local_pool import WorkerStartError, run_pool
from compliance.batch.results import AuditResult, slim
from compliance.batch.run import AuditRun, audit
from compliance.batch.tasks import CheckerSpec, Task, chunk_files, chunks, usable_cpus
from compliance.readers.inputs import dataset_digest
from tests.batch.fixtures import (
    EXPECTED,
    SEOUL,
    Archive,
    crash_on_marker,
    hang_on_marker,
    make_archive,
    report_helper_threads,
    write_vector,
)
from tests.builders import GMT_POINT


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return make_archive(tmp_path / "archive")


def _by_rel(root: Path, rows: list[AuditResult]) -> dict[str, AuditResult]:
    base = root.resolve()
    return {Path(r.path).relative_to(base).as_posix(): r for r in rows}


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pool_audit_gives_one_row_per_dataset(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rows = _by_rel(archive.root, list(audit([archive.root], out=out, workers=2)))
    expected = {p.relative_to(archive.root).as_posix() for p in archive.datasets}
    assert set(rows) == expected
    assert {k: r.verdict for k, r in rows.items() if r.status == "checked"} == EXPECTED
    errors = {k: (r.error or "").split(":")[:2] for k, r in rows.items() if r.status == "error"}
    assert errors == {  # the exception's class and the file, then the library's reason
        "broken/junk.tif": ["UnsupportedFormat", " junk.tif"],
        "broken/cut.gpkg": ["UnsupportedFormat", " cut.gpkg"],
        "broken/lost.dbf": ["shapefile parts without their .shp", " lost.dbf, lost.shx"],
    }
    shp = rows["kr/roads/roads.shp"]
    assert shp.members == ["roads.cpg", "roads.dbf", "roads.prj", "roads.shp", "roads.shx"]
    assert shp.sha256 == dataset_digest(archive.root / "kr/roads/roads.shp")[0]
    assert len({r.worker for r in rows.values() if r.status == "checked"}) <= 2
    # The files on disk hold the same rows.
    assert len(_lines(out / "results.jsonl")) == len(expected)
    with (out / "results.csv").open() as f:
        table = list(csv.DictReader(f))
    assert sorted(r["path"] for r in table) == sorted(r.path for r in rows.values())
    deny = next(r for r in table if r["path"].endswith("ortho.tif"))
    assert (deny["verdict"], "KR-IMAGERY-025M" in deny["rules"]) == ("deny", True)
    assert "kr=deny" in deny["packs"]
    assert (out / "report.html").stat().st_size > 0


def test_rows_are_on_disk_before_they_are_yielded(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen = []
    for row in audit([archive.root], out=out, workers=1):
        lines = _lines(out / "results.jsonl")
        seen.append((len(lines), lines[-1]["path"] == row.path))
        assert not (out / "report.html").exists()
    assert seen == [(n, True) for n in range(1, len(seen) + 1)]
    assert (out / "report.html").exists()


def test_in_process_audit_matches_the_pool(archive: Archive) -> None:
    rows = _by_rel(archive.root, list(audit([archive.root], workers=0)))
    assert {k: r.verdict for k, r in rows.items() if r.status == "checked"} == EXPECTED
    assert sum(r.status == "error" for r in rows.values()) == 3


def test_rows_from_pool_workers_carry_the_same_verdicts_as_in_process(archive: Archive) -> None:
    """Rows cross the process boundary as JSON text: nothing of a verdict may be lost."""
    volatile = {"id", "checked_at", "duration_ms"}

    def stable(row: AuditResult) -> tuple[object, ...]:
        doc = {k: v for k, v in (row.document or {}).items() if k not in volatile}
        return row.status, row.verdict, row.sha256, row.size, row.error, doc

    inline = _by_rel(archive.root, list(audit([archive.root], workers=0)))
    pooled = _by_rel(archive.root, list(audit([archive.root], workers=2)))
    assert inline.keys() == pooled.keys()
    for rel, row in inline.items():
        assert stable(pooled[rel]) == stable(row), rel
    assert any(r.document and r.document["findings"] for r in pooled.values())


def test_resume_skips_done_files_and_rechecks_changed_ones(
    archive: Archive, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = list(audit([archive.root], out=out, workers=0))
    assert len(_lines(out / "results.jsonl")) == len(first) == 13

    again = list(audit([archive.root], out=out, workers=0, resume=True))
    assert {r.status for r in again} == {"skipped"}
    assert len(_lines(out / "results.jsonl")) == 13  # nothing appended

    changed = archive.root / "kr" / "seoul.geojson"
    write_vector(changed, SEOUL[0] + 0.5, SEOUL[1], n=9)
    third = list(audit([archive.root], out=out, workers=0, resume=True))
    checked = [r.path for r in third if r.status != "skipped"]
    assert checked == [str(changed.resolve())]
    assert len(_lines(out / "results.jsonl")) == 14
    report = (out / "report.html").read_text()
    assert 'id="count-total"><span class="n">13</span>' in report  # latest row per file


def test_resume_rechecks_content_swapped_under_the_same_size_and_mtime(
    archive: Archive, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    list(audit([archive.root], out=out, workers=0))
    target = archive.root / "kr" / "seoul.geojson"
    before = target.stat()
    data = target.read_bytes()
    # What a deliverer can do: new bytes of the same length, then the old mtime put back.
    swapped = data.replace(b"37.", b"38.", 1)
    assert swapped != data and len(swapped) == len(data)
    target.write_bytes(swapped)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (
        before.st_size,
        before.st_mtime_ns,
    )

    rows = list(audit([archive.root], out=out, workers=0, resume=True))
    redone = [r for r in rows if r.status != "skipped"]
    assert [r.path for r in redone] == [str(target.resolve())]
    assert redone[0].sha256 == dataset_digest(target)[0]


def test_resume_with_other_packs_checks_everything_again(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "out"
    list(audit([archive.root], out=out, workers=0))
    rows = list(audit([archive.root], out=out, workers=0, resume=True, packs=["kr"]))
    assert {r.status for r in rows} == {"checked", "error"}
    assert len({r.fingerprint for r in rows}) == 1
    assert len(_lines(out / "results.jsonl")) == 26


def test_resume_reuses_a_moved_file_by_content_hash(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "out"
    list(audit([archive.root], out=out, workers=0))
    old = archive.root / "kr" / "busan" / "deep" / "ortho.tif"
    # The library's dataset hash covers file names, so a moved (not renamed) file matches.
    (archive.root / "moved").mkdir()
    new = old.rename(archive.root / "moved" / "ortho.tif")
    rows = list(audit([archive.root], out=out, workers=1, resume=True))
    moved = [r for r in rows if r.path == str(new.resolve())]
    assert len(moved) == 1
    assert (moved[0].status, moved[0].verdict, moved[0].reused_from) == (
        "checked", "deny", str(old.resolve()),
    )  # fmt: skip
    assert moved[0].worker is not None and moved[0].duration_ms is not None
    assert [r.status for r in rows].count("checked") == 1  # only the moved file was looked at


def test_resume_cuts_a_torn_last_line(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "out"
    list(audit([archive.root / "kr"], out=out, workers=0))
    jsonl = out / "results.jsonl"
    lines = jsonl.read_text().splitlines(keepends=True)
    jsonl.write_text("".join(lines[:-1]) + lines[-1][:40])  # killed mid-write
    rows = list(audit([archive.root / "kr"], out=out, workers=0, resume=True))
    assert [r.status for r in rows].count("checked") == 1
    assert [json.loads(line)["path"] for line in jsonl.read_text().splitlines()] == [
        json.loads(line)["path"] for line in lines
    ]


def test_resume_needs_an_output_folder(archive: Archive) -> None:
    with pytest.raises(ValueError, match="resume=True needs out="):
        audit([archive.root], resume=True)


def test_a_worker_dying_is_an_error_row_and_the_run_goes_on(tmp_path: Path) -> None:
    paths = [write_vector(tmp_path / f"f{i}.geojson", *SEOUL) for i in range(6)]
    crash = write_vector(tmp_path / "crash.geojson", *SEOUL)
    run = AuditRun([tmp_path], workers=0).prepare()
    tasks = [
        Task(str(p.resolve()), (str(p.resolve()),), None) for p in [*paths[:3], crash, *paths[3:]]
    ]
    rows = list(run_pool(tasks, CheckerSpec(), run.fingerprint, frozenset(), 2, crash_on_marker))
    assert sorted(r.path for r in rows) == sorted(t.path for t in tasks)
    errors = {Path(r.path).name: r.error for r in rows if r.status == "error"}
    assert list(errors) == ["crash.geojson"]
    assert "worker process died" in (errors["crash.geojson"] or "")


def test_a_hanging_check_times_out_into_an_error_row_and_its_worker_is_stopped(
    tmp_path: Path,
) -> None:
    paths = [write_vector(tmp_path / f"f{i}.geojson", *SEOUL) for i in range(5)]
    hang = write_vector(tmp_path / "hang.geojson", *SEOUL)
    run = AuditRun([tmp_path], workers=0).prepare()
    tasks = [
        Task(str(p.resolve()), (str(p.resolve()),), None) for p in [*paths[:2], hang, *paths[2:]]
    ]
    started = time.monotonic()
    rows = list(
        run_pool(tasks, CheckerSpec(), run.fingerprint, frozenset(), 2, hang_on_marker, timeout=3)
    )
    assert time.monotonic() - started < 120
    assert sorted(r.path for r in rows) == sorted(t.path for t in tasks)
    errors = {Path(r.path).name: r.error for r in rows if r.status == "error"}
    assert list(errors) == ["hang.geojson"]
    assert "timed out" in (errors["hang.geojson"] or "")
    assert sum(r.status == "checked" for r in rows) == 5
    # Every process that hung on the file (once in the pool, once alone) has been stopped.
    pids = [int(p.name.split(".")[-2]) for p in tmp_path.glob("hang.*.pid")]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_workers_that_cannot_start_stop_the_run_with_a_clear_error(tmp_path: Path) -> None:
    path = write_vector(tmp_path / "a.geojson", *SEOUL)
    tasks = [Task(str(path), (str(path),), None)]
    broken_spec = CheckerSpec(packs=("no-such-pack",))
    with pytest.raises(WorkerStartError, match="cannot start"):
        list(run_pool(tasks, broken_spec, "fingerprint", frozenset(), 1))


def test_small_files_travel_in_chunks_large_ones_alone() -> None:
    small = [Task(f"s{i}", (), None, size=10_000) for i in range(19)]
    large = [Task(f"l{i}", (), None, size=20 * 1024**2) for i in range(2)]
    sizes = [len(c) for c in chunks([*small[:3], *large, *small[3:]], files=8)]
    assert sizes == [3, 1, 1, 8, 8]


def test_chunks_shrink_when_the_audit_is_too_small_to_keep_every_worker_busy() -> None:
    # 5,000 files on 6 slots (2 workers, 3 chunks each in flight): full chunks.
    assert chunk_files(5000, 6) == 32
    # 40 files on 6 slots: 4 per chunk, 10 chunks, so no worker is left with most of them.
    assert chunk_files(40, 6) == 4
    assert chunk_files(1, 6) == 1


def test_slim_rows_keep_what_the_report_reads() -> None:
    ring = [[float(i), float(i % 7)] for i in range(1000)] + [[0.0, 0.0]]
    doc = {
        "verdict": "deny", "conditions": ["x"], "zones": {"count": 3},
        "packs": [{"name": "kr", "version": "1", "outcome": "deny", "sha256": "abc"}],
        "findings": [{"rule_id": "R1", "pack": "kr", "effect": "deny", "message": "long",
                      "facts": {"zones.count": 3, "dataset.scale_denominator": 5000}}],
        "profile": {"bounds_wgs84": [0, 0, 999, 6], "crs": "EPSG:4326",
                    "footprint_wgs84": {"type": "Polygon", "coordinates": [ring]}},
    }  # fmt: skip
    row = AuditResult(path="/a.gpkg", status="checked", fingerprint="f", document=doc)
    small = slim(row).document or {}
    assert small["packs"] == [{"name": "kr", "version": "1", "outcome": "deny"}]
    # The report's detail view shows a finding's texts and the facts it read, but never the
    # zone facts (the report never showed them).
    assert small["findings"] == [{"rule_id": "R1", "pack": "kr", "effect": "deny",
                                  "message": "long", "reference": None, "conditions": [],
                                  "facts": {"dataset.scale_denominator": 5000}}]  # fmt: skip
    # Of the zones, a slim row keeps only what the report's header names: their source.
    assert small["conditions"] == ["x"] and small["zones"] == {"source": None, "fictional": None}
    assert small["profile"]["crs"] == "EPSG:4326"
    kept = small["profile"]["footprint_wgs84"]["coordinates"][0]
    assert len(kept) <= 65 and kept[0] == ring[0] and kept[-1] == ring[-1]
    assert small["profile"]["bounds_wgs84"] == [0, 0, 999, 6]
    assert row.document == doc  # the row itself is untouched


@pytest.mark.parametrize("workers", [1, usable_cpus()])
def test_pool_workers_use_helper_threads_only_with_cores_to_spare(tmp_path: Path, workers: int):
    # A worker on every core: a check's read-ahead and hashing threads would only contend.
    paths = [write_vector(tmp_path / f"f{i}.geojson", *SEOUL) for i in range(2 * workers)]
    tasks = [Task(str(p), (str(p),), None) for p in paths]
    rows = list(run_pool(tasks, CheckerSpec(), "fp", frozenset(), workers, report_helper_threads))
    spare = workers < usable_cpus()
    # Nor GDAL's own GeoPackage reading threads (left at GDAL's default otherwise).
    assert {r.error for r in rows} == {
        f"helper_threads={spare} gpkg_threads={None if spare else 1}"
    }


def _delivery_with_pointers(folder: Path, outside: Path) -> Path:
    """A third party's delivery: one map, and a VRT naming a table outside it (one of the
    auditor's own)."""
    folder.mkdir()
    write_vector(folder / "roads.geojson", *SEOUL, driver="GeoJSON")
    (folder / "layers.vrt").write_text(
        f"<OGRVRTDataSource><OGRVRTLayer name='t'><SrcDataSource>{outside}</SrcDataSource>"
        f"<SrcLayer>{outside.stem}</SrcLayer></OGRVRTLayer></OGRVRTDataSource>"
    )
    return folder


@pytest.mark.parametrize("workers", [0, 1])
def test_an_untrusted_audit_reads_a_delivery_as_uploads(tmp_path: Path, workers: int) -> None:
    outside = tmp_path / "auditors_sites.csv"
    outside.write_text('code,WKT\n7,"POINT (127.02 37.46)"\n')
    delivery = _delivery_with_pointers(tmp_path / "delivery", outside)
    trusted = _by_rel(delivery, list(audit([delivery], workers=workers)))
    # Trusted, the pointer is followed: the auditor's own table is read and reported.
    assert trusted["layers.vrt"].status == "checked"
    assert "WKT" in trusted["layers.vrt"].document["profile"]["fields"]
    rows = _by_rel(delivery, list(audit([delivery], workers=workers, untrusted=True)))
    assert rows["roads.geojson"].status == "checked"
    assert rows["roads.geojson"].verdict == trusted["roads.geojson"].verdict
    assert set(rows) == {"roads.geojson", "layers.vrt"}
    assert rows["layers.vrt"].status == "error"
    assert "refused as an upload" in (rows["layers.vrt"].error or "")
    assert "auditors_sites" not in (rows["layers.vrt"].error or "")


def test_an_untrusted_pool_s_workers_keep_only_the_upload_drivers(tmp_path: Path) -> None:
    # GMT text is harmless but off the upload list. A worker of the untrusted pool has
    # unregistered that driver, so GDAL does not know the file at all; in this process the
    # driver is registered, yet an untrusted check lets only the upload drivers open a file,
    # so it does not know the file either: the same refusal, the driver never named.
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    pins = delivery / "pins.gmt"
    pins.write_bytes(GMT_POINT)
    # Named, so that it is checked (a walk of the folder would not parse it to see that
    # it is a map, and ignores it). Without limits, workers=0 checks in this process.
    inline = list(audit([pins], workers=0, untrusted=True, timeout=0, memory_mb=0))
    pooled = list(audit([pins], workers=1, untrusted=True))
    assert [r.status for r in inline + pooled] == ["error", "error"]
    for row in inline + pooled:
        assert "OGR_GMT" not in (row.error or "")
        assert "accepted as an upload" in (row.error or "")


def test_untrusted_and_trusted_audits_do_not_resume_each_other(tmp_path: Path) -> None:
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    write_vector(delivery / "roads.geojson", *SEOUL, driver="GeoJSON")
    out = tmp_path / "out"
    list(audit([delivery], workers=0, out=out))
    again = list(audit([delivery], workers=0, out=out, resume=True, untrusted=True))
    assert [r.status for r in again] == ["checked"]  # not "skipped": read another way
