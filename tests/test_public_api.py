"""The public API is declared, sorted and importable."""

import compliance


def test_all_is_sorted_and_complete():
    assert compliance.__all__ == sorted(compliance.__all__)
    for name in compliance.__all__:
        assert getattr(compliance, name) is not None


def test_one_off_check(tmp_path):
    from rasterio.transform import from_origin

    from tests.builders import write_raster

    path = write_raster(tmp_path / "r.tif", None, from_origin(0, 0, 1, 1))
    assert compliance.check(path, packs=["kr"]).verdict == compliance.Effect.review


def test_audit_stays_the_function_once_the_audit_modules_are_loaded():
    # The function shared its name with the module that held it: once anything imported that
    # module (the audit command does), `compliance.audit` was the module, not callable.
    import subprocess
    import sys

    code = "import compliance.cli.audit, compliance; print(callable(compliance.audit))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr
