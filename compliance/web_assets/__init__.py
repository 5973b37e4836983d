"""Third-party browser files that ship with the package: Leaflet, the Natural Earth basemap,
Swagger UI and ReDoc (``README.md`` names each one's version and licence).

They live in the library, not the service, because both read them: the service's page
serves them as static files, and the audit's ``report.html`` inlines Leaflet and the
basemap so that it works offline as one file.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["VENDOR_DIR", "vendor_text"]

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"


def vendor_text(relative: str) -> str:
    """The text of a vendored file, e.g. ``"leaflet/leaflet.js"``.

    Raises
    ------
    FileNotFoundError
        The file is not in the vendored set (an install without its package data).
    """
    path = (VENDOR_DIR / relative).resolve()
    if VENDOR_DIR not in path.parents:
        raise FileNotFoundError(relative)
    return path.read_text(encoding="utf-8")
