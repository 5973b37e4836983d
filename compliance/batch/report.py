"""The audit's ``report.html``: one self-contained page that works offline.

A Jinja2 template (``templates/report.html.j2``) holds the page; its style, its script
(an ES module) and the vendored Leaflet, topojson-client and Natural Earth basemap are
inlined, and the rows travel as JSON that the script draws as a map and a paged table
(``report_data``). Sensitive zones are never drawn, and the zone facts rules read are
left out; the page names the zones source, as it always did.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from compliance.batch.report_data import CLASSES, OUTLINE_KM2, report_data, zones_label
from compliance.batch.results import AuditResult
from compliance.web_assets import VENDOR_DIR, vendor_text

__all__ = ["render_report", "write_report"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"


def _policy(scripts: Sequence[str]) -> str:
    """The page's Content-Security-Policy: nothing may load from anywhere, and only the
    scripts written here may run (by hash), so a file name can never become code."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    )
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src {hashes}; img-src data:"


def _leaflet_css() -> str:
    """Leaflet's style with its images inlined and its old-IE ``behavior`` rule dropped,
    so the page asks for no file."""
    css = vendor_text("leaflet/leaflet.css")
    css = re.sub(r"\s*behavior:\s*url\(#default#VML\);", "", css)

    def inline(m: re.Match[str]) -> str:
        data = base64.b64encode((VENDOR_DIR / "leaflet" / m.group(1)).read_bytes()).decode()
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def _json_for_script(value: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element: ``<`` cannot
    close it, and ``&`` and ``>`` cannot start markup."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def _assets() -> dict[str, str]:
    """The vendored and own files the page inlines, read once per process."""
    return {
        "leaflet_css": _leaflet_css(),
        "leaflet_js": vendor_text("leaflet/leaflet.js"),
        "topojson_js": vendor_text("topojson-client/topojson-client.min.js"),
        "basemap_json": _json_for_script(vendor_text("world-atlas/countries-50m.json")),
        "report_css": (_TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "report_js": (_TEMPLATES / "report.js").read_text(encoding="utf-8"),
    }


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_report(rows: Sequence[AuditResult], meta: dict[str, Any] | None = None) -> str:
    """The report page for ``rows`` (one per dataset) as an HTML string.

    Parameters
    ----------
    rows
        The audit's rows, full or slimmed (``results.slim``).
    meta
        ``fingerprint``, ``packs`` (names), ``zones`` (the source given) and ``ignored``
        (files that were not geodata), shown in the page's header.
    """
    meta = meta or {}
    assets = _assets()
    data = report_data(rows)
    scripts = [assets["leaflet_js"], assets["topojson_js"], assets["report_js"]]
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            policy=_policy(scripts),
            assets=assets,
            data=data,
            data_json=_json_for_script(data),
            classes=CLASSES,
            outline_km2=OUTLINE_KM2,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            packs=", ".join(meta.get("packs") or []) or "default packs",
            zones=zones_label(rows, str(meta["zones"]) if meta.get("zones") else None),
            fingerprint=str(meta.get("fingerprint", "")),
            ignored=int(meta.get("ignored", 0)),
        )
    )


def write_report(
    path: Path, rows: Iterable[AuditResult], meta: dict[str, Any] | None = None
) -> Path:
    """Write the report atomically (temporary file renamed over ``path``); return ``path``."""
    text = render_report(list(rows), meta)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
