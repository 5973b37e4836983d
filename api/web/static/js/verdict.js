// One verdict on the page: the outcome banner, what to do, the findings and the facts.

import { describeCondition } from "./conditions.js";
import { renderFindings } from "./findings.js";
import { showVerdictOnMap } from "./map.js";

const BANNER = {
  allow: "The data may be exported as it is.",
  allow_with_conditions: "The data may be exported once the conditions below are met.",
  review: "A reviewer has to look at this export before it may leave.",
  deny: "The data may not be exported.",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function metres(value) {
  if (value === null || value === undefined) return null;
  return value < 10 ? `${value.toFixed(3)} m` : `${Math.round(value).toLocaleString("en")} m`;
}

// A submitter's verdict says `touched`; an auditor's has the count it comes from.
function touched(zones) {
  const value = "touched" in zones ? zones.touched : zones.count === null ? null : zones.count > 0;
  return value === null || value === undefined ? null : value ? "yes" : "no";
}

function factRows(verdict) {
  const p = verdict.profile || {};
  const methods = p.methods || {};
  const zones = verdict.zones || {};
  const scale = p.scale_denominator ? `1:${Math.round(p.scale_denominator).toLocaleString("en")}` : null;
  const declared = p.declared_scale_denominator
    ? `declared 1:${Math.round(p.declared_scale_denominator).toLocaleString("en")}`
    : null;
  const bounds = p.bounds_wgs84 ? p.bounds_wgs84.map((v) => v.toFixed(5)).join(", ") : null;
  return [
    ["Kind", [p.kind, p.format].filter(Boolean).join(", ")],
    ["CRS", p.crs || "none", methods.georeferencing && `placed by: ${methods.georeferencing}`],
    ["Ground resolution", metres(p.resolution_m), methods.resolution_m],
    ["Imagery resolution", metres(p.imagery_resolution_m)],
    ["Scale", scale, [declared, methods.scale_denominator || p.scale_source].filter(Boolean).join("; ")],
    ["Area", p.area_km2 === null || p.area_km2 === undefined ? null : `${p.area_km2.toPrecision(4)} km²`, methods.area_km2],
    ["Bounds (WGS84 W, S, E, N)", bounds, methods.footprint],
    ["Features", p.kind === "vector" ? String(p.feature_count ?? "not counted") : undefined],
    ["Sensitive zones touched", touched(zones)],
    ["Zone classes", Array.isArray(zones.classes) ? zones.classes.join(", ") || "none" : null],
    ["Notes", (p.notes || []).join("; ") || null],
  ];
}

function renderFacts(list, verdict) {
  list.replaceChildren();
  for (const [name, value, how] of factRows(verdict)) {
    if (value === undefined || (value === null && name === "Notes")) continue;
    const row = el("div");
    row.append(el("dt", "", name));
    const dd = el("dd", "", value === null || value === "" ? "not measured" : value);
    if (how) dd.append(el("span", "how", how));
    row.append(dd);
    list.append(row);
  }
}

function renderConditions(list, verdict) {
  list.replaceChildren();
  const codes = verdict.conditions || [];
  if (!codes.length) {
    const next = verdict.verdict === "allow" ? "Nothing: the export is cleared." : "No condition can clear this: see the findings.";
    list.append(el("li", "none", next));
    return;
  }
  for (const code of codes) {
    const { title, todo } = describeCondition(code);
    const item = el("li");
    item.dataset.condition = code;
    item.append(el("strong", "", title), el("span", "todo", todo), el("code", "", code));
    list.append(item);
  }
}

export function renderVerdict(verdict, staticUrl) {
  const section = document.getElementById("result");
  section.hidden = false;
  const word = verdict.verdict;
  const banner = document.getElementById("banner");
  banner.className = `banner banner-${word}`;
  document.getElementById("verdict").textContent = word;
  document.getElementById("banner-text").textContent = BANNER[word] || "";
  document.getElementById("verdict-file").textContent =
    `${verdict.input.name} · checked ${verdict.checked_at}`;
  document.getElementById("permalink").href = `#/checks/${encodeURIComponent(verdict.id)}`;
  renderConditions(document.getElementById("conditions"), verdict);
  renderFindings(document.getElementById("findings"), verdict.findings);
  renderFacts(document.getElementById("facts"), verdict);
  document.getElementById("map-note").textContent = showVerdictOnMap(
    document.getElementById("map"),
    staticUrl,
    verdict,
  );
}

export function hideVerdict() {
  document.getElementById("result").hidden = true;
}
