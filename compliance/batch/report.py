"""The audit's ``report.html``: one self-contained page (inline CSS, JS and SVG, no network).

It shows counts by verdict, by pack and by rule, a map of the datasets' footprints
coloured by verdict (sensitive zones are never drawn), and a sortable table of files.
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from compliance.batch.results import AuditResult

__all__ = ["render_report", "write_report"]

CLASSES = ("allow", "allow_with_conditions", "review", "deny", "error")
COLOURS = {
    "allow": "#2e7d32", "allow_with_conditions": "#f9a825", "review": "#ef6c00",
    "deny": "#c62828", "error": "#616161",
}  # fmt: skip
_SEVERITY = {"allow": 0, "allow_with_conditions": 1, "review": 2, "deny": 3, "error": 4}
MAP_WIDTH = 960
# Nothing may load from anywhere: the page must work offline and leak nothing.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_MAX_RING_POINTS = 200

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
.cards{display:flex;gap:.75rem;flex-wrap:wrap}
.card{border-radius:6px;padding:.5rem 1rem;color:#fff;min-width:7rem}
.card .n{font-size:1.6rem;font-weight:600;display:block}
.card.total{background:#37474f}
table{border-collapse:collapse;margin-top:.5rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th.sortable{cursor:pointer;user-select:none}th.sortable:after{content:" \\2195";color:#999}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tag{border-radius:3px;padding:0 .35rem;color:#fff;font-size:.85em}
svg.map{border:1px solid #ccc;background:#f4f8fb;max-width:100%;height:auto}
svg.map .fp{fill-opacity:.45;stroke-width:1;vector-effect:non-scaling-stroke}
svg.map .grid line{stroke:#cfd8dc;stroke-width:.5}svg.map .grid text{font-size:10px;fill:#78909c}
.meta{color:#555}.err{color:#b71c1c;max-width:40rem}
"""
_CSS += "".join(
    f".v-{k}{{background:{c}}} svg .fp.v-{k}{{fill:{c};stroke:{c}}}\n" for k, c in COLOURS.items()
)

_JS = """
(function(){
  function key(td){var v=td.getAttribute('data-sort');if(v===null)v=td.textContent;
    var n=parseFloat(v);
    return isNaN(n)||!/^-?[0-9.]+(e[-+]?[0-9]+)?$/i.test(v.trim())?v.toLowerCase():n;}
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('th.sortable').forEach(function(th,idx){
      th.addEventListener('click',function(){
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        var asc=th.getAttribute('aria-sort')!=='ascending';
        table.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',asc?'ascending':'descending');
        rows.sort(function(a,b){var x=key(a.cells[idx]),y=key(b.cells[idx]);
          if(typeof x!==typeof y){x=String(x);y=String(y);}
          return (x<y?-1:x>y?1:0)*(asc?1:-1);});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
  var filter=document.getElementById('filter');
  if(filter){filter.addEventListener('input',function(){
    var q=filter.value.toLowerCase();
    document.querySelectorAll('#files tbody tr').forEach(function(r){
      r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?'':'none';});
  });}
})();
"""


def _klass(row: AuditResult) -> str:
    return row.verdict.value if row.verdict is not None else "error"


def _doc(row: AuditResult) -> dict[str, Any]:
    return row.document or {}


def _cards(rows: Sequence[AuditResult]) -> str:
    counts = Counter(_klass(r) for r in rows)
    cards = [f'<div class="card total" id="count-total"><span class="n">{len(rows)}</span>'
             "files</div>"]  # fmt: skip
    for k in CLASSES:
        cards.append(
            f'<div class="card v-{k}" id="count-{k}" data-count="{counts.get(k, 0)}">'
            f'<span class="n">{counts.get(k, 0)}</span>{escape(k)}</div>'
        )
    return '<div class="cards" id="counts">' + "".join(cards) + "</div>"


def _pack_table(rows: Sequence[AuditResult]) -> str:
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        for pack in _doc(row).get("packs") or []:
            name = f"{pack.get('name')} {pack.get('version') or ''}".strip()
            per[name][str(pack.get("outcome") or "not applicable")] += 1
    cols = [*CLASSES[:4], "not applicable"]
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join(
        f"<tr><td>{escape(name)}</td>"
        + "".join(f'<td class="num">{c.get(k, 0)}</td>' for k in cols)
        + "</tr>"
        for name, c in sorted(per.items())
    )
    return (
        f'<table id="by-pack"><thead><tr><th>pack</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _rule_table(rows: Sequence[AuditResult]) -> str:
    files: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        seen = {
            (str(f.get("pack")), str(f.get("rule_id")), str(f.get("effect")))
            for f in _doc(row).get("findings") or []
        }
        files.update(seen)
    body = "".join(
        f'<tr><td>{escape(pack)}</td><td>{escape(rule)}</td><td><span class="tag v-{escape(eff)}">'
        f'{escape(eff)}</span></td><td class="num">{n}</td></tr>'
        for (pack, rule, eff), n in sorted(files.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return ('<table id="by-rule" class="sortable"><thead><tr><th class="sortable">pack</th>'
            '<th class="sortable">rule</th><th class="sortable">effect</th>'
            '<th class="sortable">files</th></tr></thead>'
            f"<tbody>{body}</tbody></table>")  # fmt: skip


def _rings(geom: dict[str, Any]) -> list[tuple[str, list[list[float]]]]:
    """(kind, coordinates) pieces of a GeoJSON geometry: ``area``, ``line`` or ``point``."""
    kind, coords = geom.get("type"), geom.get("coordinates")
    if kind == "Polygon":
        return [("area", r) for r in coords or []]
    if kind == "MultiPolygon":
        return [("area", r) for poly in coords or [] for r in poly]
    if kind == "LineString":
        return [("line", coords or [])]
    if kind == "MultiLineString":
        return [("line", c) for c in coords or []]
    if kind == "Point":
        return [("point", [coords])] if coords else []
    if kind == "MultiPoint":
        return [("point", [c]) for c in coords or []]
    if kind == "GeometryCollection":
        return [p for g in geom.get("geometries") or [] for p in _rings(g)]
    return []


def _footprint(row: AuditResult) -> list[tuple[str, list[list[float]]]]:
    profile = _doc(row).get("profile") or {}
    geom = profile.get("footprint_wgs84")
    if isinstance(geom, dict):
        pieces = _rings(geom)
        if pieces:
            return pieces
    b = profile.get("bounds_wgs84")
    if b and len(b) == 4 and all(isinstance(v, int | float) and math.isfinite(v) for v in b):
        x0, y0, x1, y1 = b
        return [("area", [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])]
    return []


class _Projection:
    """Equirectangular, x scaled by the cosine of the middle latitude, fitted to the data."""

    def __init__(self, pts: list[tuple[float, float]]) -> None:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        pad_x = max((max(xs) - min(xs)) * 0.05, 0.01)
        pad_y = max((max(ys) - min(ys)) * 0.05, 0.01)
        self.x0, self.x1 = min(xs) - pad_x, max(xs) + pad_x
        self.y0, self.y1 = max(min(ys) - pad_y, -90.0), min(max(ys) + pad_y, 90.0)
        self.k = math.cos(math.radians((self.y0 + self.y1) / 2)) or 1.0
        self.scale = MAP_WIDTH / ((self.x1 - self.x0) * self.k)
        natural = (self.y1 - self.y0) * self.scale
        self.height = max(160, min(1400, round(natural)))
        self.dy = (self.height - natural) / 2 if natural < self.height else 0.0

    def pair(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.x0) * self.k * self.scale, (self.y1 - lat) * self.scale + self.dy

    def xy(self, lon: float, lat: float) -> str:
        x, y = self.pair(lon, lat)
        return f"{x:.1f},{y:.1f}"


def _thin(ring: list[list[float]]) -> list[list[float]]:
    step = max(1, math.ceil(len(ring) / _MAX_RING_POINTS))
    return ring if step == 1 else ring[::step] + [ring[-1]]


def _marker(proj: _Projection, pieces: list[tuple[str, list[list[float]]]]) -> str | None:
    """A dot for footprints too small to see at the map's scale (under 4 px across)."""
    pts = [proj.pair(c[0], c[1]) for _, ring in pieces for c in ring]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    if max(xs) - min(xs) >= 4 or max(ys) - min(ys) >= 4:
        return None
    return f'<circle cx="{(min(xs) + max(xs)) / 2:.1f}" cy="{(min(ys) + max(ys)) / 2:.1f}" r="4"/>'


def _shape(proj: _Projection, pieces: list[tuple[str, list[list[float]]]]) -> str:
    dot = _marker(proj, pieces)
    if dot is not None:
        return dot
    d = "".join(
        "M" + "L".join(proj.xy(c[0], c[1]) for c in ring) + ("Z" * (kind == "area"))
        for kind, ring in pieces if kind != "point" and ring
    )  # fmt: skip
    dots = "".join(
        '<circle cx="{:.1f}" cy="{:.1f}" r="3"/>'.format(*proj.pair(r[0][0], r[0][1]))
        for kind, r in pieces if kind == "point"
    )  # fmt: skip
    return (f'<path d="{d}"/>' if d else "") + dots


def _graticule(proj: _Projection) -> str:
    """Lines of longitude and latitude with labels: the only context drawn (no tiles)."""
    span = max(proj.x1 - proj.x0, proj.y1 - proj.y0)
    step = next((s for s in (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30) if span / s <= 8), 60)
    out: list[str] = []
    lon = math.floor(proj.x0 / step) * step
    while lon <= proj.x1:
        x, _ = proj.pair(lon, proj.y1)
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{proj.height}"/>'
                   f'<text x="{x + 2:.1f}" y="{proj.height - 4}">{lon:g}°</text>')  # fmt: skip
        lon += step
    lat = math.floor(proj.y0 / step) * step
    while lat <= proj.y1:
        _, y = proj.pair(proj.x0, lat)
        out.append(f'<line x1="0" y1="{y:.1f}" x2="{MAP_WIDTH}" y2="{y:.1f}"/>'
                   f'<text x="2" y="{y - 2:.1f}">{lat:g}°</text>')  # fmt: skip
        lat += step
    return f'<g class="grid">{"".join(out)}</g>'


def _extent(
    row: AuditResult, pieces: list[tuple[str, list[list[float]]]]
) -> list[tuple[float, float]]:
    """Two corners of a dataset's extent: its bounds when known, else its footprint's."""
    b = (_doc(row).get("profile") or {}).get("bounds_wgs84")
    if b and len(b) == 4 and all(isinstance(v, int | float) and math.isfinite(v) for v in b):
        return [(b[0], b[1]), (b[2], b[3])]
    pts = [(float(c[0]), float(c[1])) for _, ring in pieces for c in ring
           if len(c) >= 2 and math.isfinite(c[0]) and math.isfinite(c[1])]  # fmt: skip
    return pts


def _map(rows: Sequence[AuditResult]) -> str:
    shapes = [(row, [(k, _thin(r)) for k, r in _footprint(row)]) for row in rows]
    pts = [p for row, pieces in shapes if pieces for p in _extent(row, pieces)]
    if not pts:
        return '<p id="map-empty">No footprints to draw.</p>'
    proj = _Projection(pts)
    order = sorted(shapes, key=lambda s: _SEVERITY[_klass(s[0])])  # most severe on top
    out: list[str] = [_graticule(proj)]
    for row, pieces in order:
        if pieces:
            title = f"<title>{escape(row.path)}: {escape(_klass(row))}</title>"
            attrs = f'class="fp v-{_klass(row)}" data-path="{escape(row.path)}"'
            out.append(f"<g {attrs}>{title}{_shape(proj, pieces)}</g>")
    legend = "".join(
        f'<span class="tag v-{k}">{escape(k)}</span> ' for k in CLASSES if k != "error"
    )
    return (
        f'<svg id="map" class="map" xmlns="http://www.w3.org/2000/svg" width="{MAP_WIDTH}" '
        f'height="{proj.height}" viewBox="0 0 {MAP_WIDTH} {proj.height}" role="img" '
        f'aria-label="dataset footprints">{"".join(out)}</svg><p>{legend}</p>'
    )


def _size(n: int | None) -> str:
    return "" if n is None else f"{n / 1024:.1f} KiB" if n < 1024**2 else f"{n / 1024**2:.1f} MiB"


def _file_rows(rows: Sequence[AuditResult], root: str) -> str:
    out: list[str] = []
    for row in rows:
        k = _klass(row)
        doc = _doc(row)
        rules = sorted({str(f.get("rule_id")) for f in doc.get("findings") or []})
        shown = os.path.relpath(row.path, root) if root else row.path
        out.append(
            f'<tr class="row-{k}"><td data-sort="{escape(shown)}">{escape(shown)}</td>'
            f'<td data-sort="{_SEVERITY[k]}"><span class="tag v-{k}">{escape(k)}</span></td>'
            f"<td>{escape(', '.join(rules))}</td>"
            f'<td class="num" data-sort="{row.size or 0}">{_size(row.size)}</td>'
            f'<td class="num" data-sort="{row.duration_ms or 0}">'
            f"{'' if row.duration_ms is None else f'{row.duration_ms:.0f} ms'}</td>"
            f'<td class="err">{escape(row.error or "")}</td></tr>'
        )
    return "".join(out)


def render_report(rows: Sequence[AuditResult], meta: dict[str, Any] | None = None) -> str:
    """The report page for ``rows`` (one per dataset) as an HTML string."""
    meta = meta or {}
    paths = [r.path for r in rows]
    root = os.path.commonpath(paths) if paths else ""
    if len(paths) == 1:
        root = os.path.dirname(root)
    heads = ["file", "verdict", "rules", "size", "time", "error"]
    th = "".join(f'<th class="sortable">{h}</th>' for h in heads)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    packs = ", ".join(meta.get("packs") or []) or "default packs"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>mapgate audit report</title><style>{_CSS}</style></head>
<body>
<h1>mapgate audit report</h1>
<p class="meta">{len(rows)} datasets under <code>{escape(root)}</code> · generated {generated} ·
packs: {escape(packs)} · zones: {escape(str(meta.get("zones") or "default"))} ·
checker fingerprint <code>{escape(str(meta.get("fingerprint", "")))}</code> ·
{int(meta.get("ignored", 0))} files ignored as not geodata</p>
<h2>Verdicts</h2>{_cards(rows)}
<h2>Footprints</h2>{_map(rows)}
<h2>By pack</h2>{_pack_table(rows)}
<h2>By rule</h2>{_rule_table(rows)}
<h2>Files</h2>
<p><input id="filter" type="search" placeholder="filter files" aria-label="filter files"></p>
<table id="files" class="sortable"><thead><tr>{th}</tr></thead>
<tbody>{_file_rows(rows, root)}</tbody></table>
<script>{_JS}</script>
</body></html>
"""


def write_report(
    path: Path, rows: Iterable[AuditResult], meta: dict[str, Any] | None = None
) -> Path:
    """Write the report atomically (temporary file renamed over ``path``); return ``path``."""
    text = render_report(list(rows), meta)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
