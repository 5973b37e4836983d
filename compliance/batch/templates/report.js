// The audit report's script: the map and the paged file table, drawn from the JSON the
// page carries. Nothing is fetched (the page's policy forbids it), and every text from
// the audit goes in as text, never as markup.

const data = JSON.parse(document.getElementById("report-data").textContent);
const rows = data.rows;
const PAGE_ROWS = 100;
const BIG = 2000; // more footprints than this are drawn on a canvas: SVG would crawl
const DOT_BELOW_PX = 8; // a footprint smaller than this on screen gets a dot
const COLOURS = {
  allow: "#0f6b2f", allow_with_conditions: "#b07000", review: "#c25400", deny: "#a3001b", error: "#4a525c",
};
const LABELS = ["file", "verdict", "conditions", "resolution", "scale", "main reason", "size", "time"];

const state = { verdict: "", text: "", picked: null, key: null, dir: 1, page: 0 };
let shown = []; // row indices after filtering and sorting

const $ = (id) => document.getElementById(id);

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function metres(m) {
  if (m === null || m === undefined) return "";
  const digits = m >= 100 ? 0 : m >= 10 ? 1 : m >= 0.1 ? 2 : 3;
  return `${m.toFixed(digits)} m`;
}
const scale = (s) => (s === null || s === undefined ? "" : `1:${Math.round(s).toLocaleString("en-US")}`);
function bytes(n) {
  if (n === null || n === undefined) return "";
  return n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

// ---- the table -------------------------------------------------------------------------

const haystacks = rows.map((r) =>
  [r.path, r.verdict, r.reason, r.error || "", r.rules.join(" "), r.conditions.join(" ")].join("\n").toLowerCase(),
);

function sortValue(r, key) {
  if (key === "verdict") return data.severity[r.verdict];
  if (key === "conditions") return r.conditions.join(";").toLowerCase();
  const v = r[key];
  return typeof v === "string" ? v.toLowerCase() : v;
}

function compare(a, b) {
  const x = sortValue(rows[a], state.key);
  const y = sortValue(rows[b], state.key);
  const missing = (v) => v === null || v === undefined || v === "";
  if (missing(x) || missing(y)) return missing(x) - missing(y) || a - b; // blanks last
  return (x < y ? -1 : x > y ? 1 : a - b) * state.dir;
}

function refilter() {
  const text = state.text.trim().toLowerCase();
  shown = [];
  for (let i = 0; i < rows.length; i += 1) {
    if (state.picked !== null && i !== state.picked) continue;
    if (state.verdict && rows[i].verdict !== state.verdict) continue;
    if (text && !haystacks[i].includes(text)) continue;
    shown.push(i);
  }
  if (state.key) shown.sort(compare);
  state.page = 0;
  drawTable();
}

function tableRow(i) {
  const r = rows[i];
  const tr = el("tr", null, { "data-row": String(i), "data-verdict": r.verdict });
  const name = el("button", r.path, { type: "button", class: "link", "aria-label": `details of ${r.path}` });
  name.addEventListener("click", () => openDetail(i));
  const verdict = el("span", r.verdict, { class: `tag v-${r.verdict}` });
  const cells = [name, verdict, r.conditions.join(", "), metres(r.resolution_m), scale(r.scale),
    r.reason, bytes(r.size), r.ms === null ? "" : `${r.ms} ms`];
  cells.forEach((content, c) => {
    const td = el("td", typeof content === "string" ? content : null, { "data-label": LABELS[c] });
    if (typeof content !== "string") td.append(content);
    if (c === 3 || c === 4 || c >= 6) td.className = "num";
    if (c === 5 && r.error) td.classList.add("err");
    tr.append(td);
  });
  if (i === state.picked) tr.classList.add("picked");
  return tr;
}

function drawTable() {
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_ROWS));
  state.page = Math.min(state.page, pages - 1);
  const start = state.page * PAGE_ROWS;
  const body = document.querySelector("#files tbody");
  body.replaceChildren(...shown.slice(start, start + PAGE_ROWS).map(tableRow));
  $("page").textContent = `page ${state.page + 1} of ${pages}`;
  $("prev").disabled = state.page === 0;
  $("next").disabled = state.page >= pages - 1;
  const what = state.picked !== null ? "the file picked on the map" : `${shown.length.toLocaleString("en-US")} of ${rows.length.toLocaleString("en-US")} files`;
  $("status").textContent = shown.length
    ? `Showing ${what}; rows ${start + 1}-${Math.min(start + PAGE_ROWS, shown.length)}.`
    : "No file matches the filters.";
  $("show-all").hidden = !(state.picked !== null || state.verdict || state.text);
  for (const button of document.querySelectorAll(".cards button")) {
    button.setAttribute("aria-pressed", String(button.dataset.verdict === state.verdict));
  }
  $("verdict-filter").value = state.verdict;
}

function sortBy(key) {
  state.dir = state.key === key ? -state.dir : 1;
  state.key = key;
  for (const th of document.querySelectorAll("#files th")) {
    if (th.dataset.key === key) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
  refilter();
}

// ---- the map ---------------------------------------------------------------------------

// Natural Earth draws Russia and Fiji across the antimeridian (-180 and 180 in one ring):
// each ring is made continuous so that Leaflet does not join them across the world.
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
function unwrap(g) {
  const { type, coordinates } = g;
  if (type === "Polygon" || type === "MultiLineString") return { type, coordinates: coordinates.map(unwrapLine) };
  if (type === "MultiPolygon") return { type, coordinates: coordinates.map((p) => p.map(unwrapLine)) };
  if (type === "LineString") return { type, coordinates: unwrapLine(coordinates) };
  if (type === "GeometryCollection") return { type, geometries: g.geometries.map(unwrap) };
  return g;
}

let map = null;
const layers = new Map(); // row index -> footprint layer
const dots = new Map(); // row index -> dot shown when the footprint is too small to see
let highlighted = null;

function footprintStyle(verdict, outline) {
  const colour = COLOURS[verdict];
  return { color: colour, weight: outline ? 2 : 1, fill: !outline, fillColor: colour, fillOpacity: 0.35, className: `fp v-${verdict}` };
}

function drawBasemap(renderer) {
  const topo = JSON.parse($("basemap").textContent);
  const countries = topo.objects.countries;
  const land = window.topojson.feature(topo, countries);
  for (const f of land.features) if (f.geometry) f.geometry = unwrap(f.geometry);
  const style = { stroke: false, fillColor: "#f2efe6", fillOpacity: 1, className: "basemap-land" };
  L.geoJSON(land, { style, interactive: false, renderer }).addTo(map);
  const borders = unwrap(window.topojson.mesh(topo, countries, (a, b) => a !== b));
  L.geoJSON(borders, { style: { color: "#8a8474", weight: 1, fill: false, className: "basemap-border" }, interactive: false, renderer }).addTo(map);
}

function updateDots() {
  for (const [i, dot] of dots) {
    const b = layers.get(i).getBounds();
    const a = map.latLngToLayerPoint(b.getSouthWest());
    const z = map.latLngToLayerPoint(b.getNorthEast());
    const small = Math.abs(z.x - a.x) < DOT_BELOW_PX && Math.abs(z.y - a.y) < DOT_BELOW_PX;
    if (small && !map.hasLayer(dot)) dot.addTo(map);
    else if (!small && map.hasLayer(dot)) dot.remove();
  }
}

function drawMap() {
  const container = $("map");
  if (!container) return;
  const renderer = data.shapes.length > BIG ? L.canvas({ padding: 0.2 }) : L.svg();
  map = L.map(container, { renderer, minZoom: 1, maxZoom: 19, zoomSnap: 0.25, worldCopyJump: false });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Natural Earth (public domain)");
  drawBasemap(renderer);
  let fit = L.latLngBounds([]);
  let all = L.latLngBounds([]);
  for (const s of data.shapes) { // largest first: each smaller one lands on top
    const r = rows[s.row];
    const layer = L.geoJSON(unwrap(s.geometry), {
      style: footprintStyle(r.verdict, s.outline),
      pointToLayer: (_, latlng) => L.circleMarker(latlng, { radius: 4 }),
      renderer,
    });
    layer.bindTooltip(`${r.path}: ${r.verdict}`);
    layer.on("click", () => pick(s.row));
    layer.addTo(map);
    layers.set(s.row, layer);
    const bounds = layer.getBounds();
    all.extend(bounds);
    if (!s.outline) fit.extend(bounds);
    const dot = L.circleMarker(bounds.getCenter(), { radius: 4, color: COLOURS[r.verdict], weight: 2, fillOpacity: 0.9, className: `dot v-${r.verdict}`, renderer });
    dot.on("click", () => pick(s.row));
    dots.set(s.row, dot);
  }
  if (!fit.isValid()) fit = all;
  if (fit.isValid()) map.fitBounds(fit, { padding: [20, 20], maxZoom: 16 });
  else map.setView([20, 0], 1);
  map.on("zoomend", updateDots);
  updateDots();
}

function highlight(i) {
  if (highlighted !== null && layers.has(highlighted)) {
    const s = data.shapes.find((x) => x.row === highlighted);
    layers.get(highlighted).setStyle(footprintStyle(rows[highlighted].verdict, s.outline));
  }
  highlighted = i;
  const layer = layers.get(i);
  if (!layer) return false;
  layer.setStyle({ weight: 4, color: "#0b57d0" });
  layer.bringToFront();
  return true;
}

// ---- picking and the detail view -------------------------------------------------------

function pick(i) {
  state.picked = i;
  highlight(i);
  refilter();
  openDetail(i, { move: false });
}

function factRows(r) {
  const f = r.facts;
  const out = [];
  if (f.kind || f.format) out.push(["data", [f.kind, f.format].filter(Boolean).join(", ")]);
  if (f.crs) out.push(["CRS", f.crs]);
  if (f.resolution_m != null) out.push(["ground resolution", metres(f.resolution_m)]);
  if (f.scale_denominator != null) out.push(["scale", `${scale(f.scale_denominator)}${f.scale_source ? ` (${f.scale_source})` : ""}`]);
  if (f.area_km2 != null) out.push(["area", `${f.area_km2.toLocaleString("en-US", { maximumFractionDigits: 3 })} km²`]);
  if (f.feature_count != null) out.push(["features", f.feature_count.toLocaleString("en-US")]);
  if (r.conditions.length) out.push(["conditions", r.conditions.join(", ")]);
  if (r.size !== null) out.push(["size", bytes(r.size)]);
  return out;
}

function findingItem(index, facts) {
  const f = data.findings[index];
  const li = el("li", null, { "data-rule": f.rule });
  const head = el("p");
  head.append(el("strong", f.rule), " ", el("span", f.effect, { class: `tag v-${f.effect}` }), ` (${f.pack})`);
  li.append(head, el("p", f.message));
  if (f.reference) li.append(el("cite", f.reference));
  const read = Object.entries(facts).map(([k, v]) => `${k} = ${typeof v === "number" ? Number(v.toPrecision(6)) : JSON.stringify(v)}`);
  if (read.length) li.append(el("p", `facts read: ${read.join("; ")}`, { class: "hint" }));
  return li;
}

function openDetail(i, { move = true } = {}) {
  const r = rows[i];
  $("detail").hidden = false;
  if (map) map.invalidateSize(); // the map shares its row with the detail now
  $("detail-title").textContent = r.path;
  $("detail-verdict").replaceChildren("verdict: ", el("span", r.verdict, { class: `tag v-${r.verdict}` }));
  $("detail-error").textContent = r.error || "";
  const items = r.findings.map((index, n) => findingItem(index, r.finding_facts[n]));
  $("detail-findings").replaceChildren(...(items.length ? items : [el("li", r.error ? "none: the file could not be checked" : "none: no rule fired")]));
  $("detail-facts").replaceChildren(...factRows(r).flatMap(([k, v]) => [el("dt", k), el("dd", v)]));
  const placed = map !== null && highlight(i);
  $("detail-where").textContent = placed ? "Its footprint is outlined in blue on the map." : "It could not be placed on the Earth, so the map does not show it.";
  if (placed && move) map.fitBounds(layers.get(i).getBounds(), { padding: [30, 30], maxZoom: 15 });
  if (move) $("detail-title").focus({ preventScroll: false });
}

// ---- wiring ----------------------------------------------------------------------------

for (const button of document.querySelectorAll(".cards button")) {
  button.addEventListener("click", () => {
    state.verdict = state.verdict === button.dataset.verdict ? "" : button.dataset.verdict;
    refilter();
  });
}
$("verdict-filter").addEventListener("change", (e) => { state.verdict = e.target.value; refilter(); });
$("filter").addEventListener("input", (e) => { state.text = e.target.value; refilter(); });
$("show-all").addEventListener("click", () => {
  Object.assign(state, { verdict: "", text: "", picked: null });
  $("filter").value = "";
  refilter();
});
for (const button of document.querySelectorAll("#files th button.sort")) {
  button.addEventListener("click", () => sortBy(button.dataset.key));
}
$("prev").addEventListener("click", () => { state.page -= 1; drawTable(); });
$("next").addEventListener("click", () => { state.page += 1; drawTable(); });
$("detail-close").addEventListener("click", () => { $("detail").hidden = true; });

drawMap();
refilter();
// A handle for scripted checks of what is drawn (the report's own tests read it).
window.mapgateReport = { map, layers, dots, rows, state, shown: () => shown.slice(), ready: true };
document.body.dataset.ready = "true";
