"""Audits on a real ``dask.distributed.LocalCluster``: same rows, one Checker per worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from distributed import Client

from compliance.batch.dask_cluster import DASK_CHECKERS
from compliance.batch.run import audit
from compliance.batch.tasks import usable_cpus
from tests.batch.fixtures import EXPECTED, Archive, make_archive


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return make_archive(tmp_path / "archive")


def _checkers() -> int:
    return len(DASK_CHECKERS)


def _helper_threads() -> str:
    import pyogrio

    gdal = pyogrio.get_gdal_config_option("OGR_GPKG_NUM_THREADS")
    return ",".join(sorted({f"{c.helper_threads}/{gdal}" for c in DASK_CHECKERS.values()}))


def _remap_faults() -> int:
    """Page faults for 100 fresh 4 MiB buffers: about 100,000 while the nanny's
    ``MALLOC_TRIM_THRESHOLD_`` rules, none once the allocator is settled."""
    import resource

    bytearray(4 * 1024 * 1024)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(100):
        bytearray(4 * 1024 * 1024)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_audit_on_a_local_cluster(client: Client, archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # Without limits the checks run in the Dask workers themselves (see test_killable_audit
    # for the bounded default, where each Dask thread checks in a worker process of its own).
    rows = list(audit([archive.root], scheduler=client, out=out, timeout=0, memory_mb=0))
    base = archive.root.resolve()
    verdicts = {Path(r.path).relative_to(base).as_posix(): r.verdict for r in rows
                if r.status == "checked"}  # fmt: skip
    assert verdicts == EXPECTED
    assert sum(r.status == "error" for r in rows) == 3
    worker_pids = set(client.run(lambda: __import__("os").getpid()).values())
    used = {int((r.worker or ":0").rsplit(":", 1)[1]) for r in rows if r.status == "checked"}
    assert used <= worker_pids  # checked in the cluster's processes, not here
    # Packs and zones were loaded once per worker process, not once per file.
    cached = client.run(_checkers)
    assert set(cached.values()) <= {0, 1} and sum(cached.values()) == len(used)
    # Helper threads only where a host has more cores than Dask threads.
    helpers = client.run(_helper_threads)
    spare = 2 < usable_cpus()
    assert set(helpers.values()) <= {"", f"{spare}/{None if spare else 1}"}, helpers
    # A worker that ran checks has its allocator settled (see compliance.isolation.allocator).
    faults = client.run(_remap_faults)
    assert all(faults[w] < 10_000 for w, n in cached.items() if n), faults
    assert len((out / "results.jsonl").read_text().splitlines()) == 13
    assert (out / "report.html").exists()


def test_scheduler_address_and_resume(client: Client, archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "out"
    address = client.scheduler.address
    first = list(audit([archive.root / "kr"], scheduler=address, out=out))
    assert {r.status for r in first} == {"checked"}
    again = list(audit([archive.root / "kr"], scheduler=address, out=out, resume=True))
    assert {r.status for r in again} == {"skipped"}
    assert sorted(r.path for r in again) == sorted(r.path for r in first)
