// The audit listing: filters (outcome, since, key name for auditors) and cursor paging.

import { getJson } from "./api.js";

let nextCursor = null;
let filters = {};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function row(item) {
  const tr = el("tr");
  tr.dataset.id = item.id;
  tr.append(el("td", "", item.checked_at.replace("T", " ").replace(/\.\d+Z$/, "Z")));
  const file = el("td");
  const link = el("a", "", item.input_name);
  link.href = `#/checks/${encodeURIComponent(item.id)}`;
  file.append(link);
  tr.append(file);
  const outcome = el("td");
  outcome.append(el("span", `pill pill-${item.verdict}`, item.verdict));
  tr.append(outcome, el("td", "", item.caller));
  return tr;
}

function readFilters() {
  const out = {};
  const verdict = document.getElementById("filter-verdict").value;
  const since = document.getElementById("filter-since").value;
  const caller = document.getElementById("filter-caller").value.trim();
  if (verdict) out.verdict = verdict;
  if (since) out.since = `${since}T00:00:00Z`;
  if (caller && !document.getElementById("filter-caller-row").hidden) out.caller = caller;
  return out;
}

async function loadPage(append) {
  const status = document.getElementById("history-status");
  const body = document.querySelector("#history tbody");
  const params = { ...filters, limit: "25" };
  if (append && nextCursor) params.cursor = nextCursor;
  status.textContent = "Loading…";
  try {
    const page = await getJson("/v1/checks", params);
    if (!append) body.replaceChildren();
    body.append(...page.items.map(row));
    nextCursor = page.next_cursor;
    document.getElementById("history-more").hidden = !nextCursor;
    const shown = body.rows.length;
    status.textContent = shown ? `${shown} check(s) shown${nextCursor ? "; older ones remain" : ""}.` : "No checks match.";
  } catch (error) {
    status.textContent = `Could not load the history: ${error.message}`;
  }
}

export function showHistory() {
  filters = readFilters();
  return loadPage(false);
}

export function setupHistory() {
  document.getElementById("history-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    showHistory();
  });
  document.getElementById("history-more").addEventListener("click", () => loadPage(true));
}
