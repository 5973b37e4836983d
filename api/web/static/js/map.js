// The Leaflet map: Natural Earth countries (shipped with the package) as the basemap, the
// data's footprint on top, and for auditors who revealed them the zones it touched.

import { wktToGeoJson } from "./wkt.js";

let basemap = null;
let map = null;
let overlay = null;

// Natural Earth draws Russia and Fiji across the antimeridian: -180 and 180 in one ring.
// Leaflet would join them with a line across the world, so each ring is made continuous
// (its far side continues past 180 instead of jumping back to -180).
function unwrapLine(line) {
  let shift = 0;
  return line.map(([lon, lat], i) => {
    if (i > 0) {
      const previous = line[i - 1][0];
      if (lon - previous > 180) shift -= 360;
      else if (previous - lon > 180) shift += 360;
    }
    return [lon + shift, lat];
  });
}

function unwrap(geometry) {
  const { type, coordinates } = geometry;
  if (type === "Polygon" || type === "MultiLineString") return { type, coordinates: coordinates.map(unwrapLine) };
  if (type === "MultiPolygon") return { type, coordinates: coordinates.map((p) => p.map(unwrapLine)) };
  if (type === "LineString") return { type, coordinates: unwrapLine(coordinates) };
  return geometry;
}

async function loadBasemap(staticUrl) {
  if (!basemap) {
    const response = await fetch(`${staticUrl}/vendor/world-atlas/countries-50m.json`);
    const topo = await response.json();
    const countries = topo.objects.countries;
    const land = window.topojson.feature(topo, countries);
    for (const feature of land.features) if (feature.geometry) feature.geometry = unwrap(feature.geometry);
    basemap = { land, borders: unwrap(window.topojson.mesh(topo, countries, (a, b) => a !== b)) };
  }
  return basemap;
}

function ensureMap(container, staticUrl) {
  if (map) return map;
  // No tile layer: nothing is fetched from anywhere but this service.
  map = L.map(container, { worldCopyJump: false, minZoom: 1, maxZoom: 19, zoomSnap: 0.25 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Natural Earth (public domain)");
  map.setView([20, 0], 1);
  loadBasemap(staticUrl).then(({ land, borders }) => {
    L.geoJSON(land, {
      style: { stroke: false, fillColor: "#e6e1d3", fillOpacity: 1 },
      interactive: false,
    }).addTo(map).bringToBack();
    L.geoJSON(borders, {
      style: { color: "#8a8474", weight: 1, fill: false },
      interactive: false,
    }).addTo(map);
    if (overlay) overlay.bringToFront();
  });
  return map;
}

function boundsBox([west, south, rawEast, north]) {
  // A box across the antimeridian has its east edge west of its west edge.
  const east = rawEast < west ? rawEast + 360 : rawEast;
  return {
    type: "Polygon",
    coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
  };
}

// Draw one verdict. Returns a sentence about what is shown, for the text beside the map.
export function showVerdictOnMap(container, staticUrl, verdict) {
  const m = ensureMap(container, staticUrl);
  container.classList.remove("map-empty");
  if (overlay) overlay.remove();
  overlay = L.featureGroup().addTo(m);
  const profile = verdict.profile || {};
  const footprint = profile.footprint_wgs84 || (profile.bounds_wgs84 && boundsBox(profile.bounds_wgs84));
  let note = "The data could not be placed on the Earth, so there is nothing to draw.";
  if (footprint) {
    L.geoJSON(footprint, {
      style: { color: "#0b4f9c", weight: 2, fillColor: "#2f7ed8", fillOpacity: 0.25 },
    })
      .bindTooltip("data footprint")
      .addTo(overlay);
    // A dot of fixed size at its centre: a city block is invisible once zoomed out to
    // the borders that say where it is.
    const centre = L.geoJSON(footprint).getBounds().getCenter();
    L.circleMarker(centre, { radius: 5, color: "#0b4f9c", weight: 2, fillOpacity: 0.9, interactive: false }).addTo(overlay);
    note = profile.footprint_wgs84
      ? "Blue: the data's footprint."
      : "Blue: the data's bounding box (no footprint outline was measured).";
  }
  const hits = (verdict.zones && verdict.zones.hits) || [];
  let drawnZones = 0;
  for (const hit of hits) {
    const geometry = wktToGeoJson(hit.geometry_wkt);
    if (!geometry) continue;
    L.geoJSON(geometry, {
      style: { color: "#a3001b", weight: 2, dashArray: "4 3", fillColor: "#d62839", fillOpacity: 0.2 },
    })
      .bindTooltip(`zone ${hit.zone_id} (${hit.zone_class})`)
      .addTo(overlay)
      .eachLayer((layer) => layer.options && (layer.options.zoneId = hit.zone_id));
    drawnZones += 1;
  }
  if (drawnZones) note += ` Red, dashed: the ${drawnZones} sensitive zone(s) it touches.`;
  m.invalidateSize();
  const bounds = overlay.getBounds();
  if (bounds.isValid()) m.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
  else m.setView([20, 0], 1);
  // A handle for scripted checks of what is drawn (the page's own tests read it).
  window.mapgateMap = { map: m, overlay, zones: drawnZones };
  return note;
}
