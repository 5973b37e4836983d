// A small reader for the zone geometries an auditor may reveal: WKT POLYGON and
// MULTIPOLYGON (what zone overlaps are) into GeoJSON. Anything else gives null.

function ring(text) {
  return text
    .split(",")
    .map((pair) => pair.trim().split(/\s+/).slice(0, 2).map(Number))
    .filter((xy) => xy.length === 2 && xy.every(Number.isFinite));
}

// "((x y, ...), (x y, ...))" -> [[[x, y], ...], ...]
function rings(text) {
  return [...text.matchAll(/\(([^()]*)\)/g)].map((m) => ring(m[1]));
}

export function wktToGeoJson(wkt) {
  if (typeof wkt !== "string") return null;
  const match = /^\s*(MULTIPOLYGON|POLYGON)\s*(Z|M|ZM)?\s*(\(.*\))\s*$/is.exec(wkt);
  if (!match) return null;
  const kind = match[1].toUpperCase();
  const body = match[3];
  if (kind === "POLYGON") return { type: "Polygon", coordinates: rings(body) };
  // Split the multipolygon's members at the ")), ((" between them.
  const inner = body.trim().slice(1, -1);
  const members = inner.split(/\)\s*\)\s*,\s*\(\s*\(/).map((part, i, all) => {
    let text = part;
    if (i > 0) text = `((${text}`;
    if (i < all.length - 1) text = `${text}))`;
    return rings(text);
  });
  return { type: "MultiPolygon", coordinates: members };
}
