// "Make a compliant copy": re-sends the file just checked to POST /v1/remediations, shows
// the derivative's verdict and what was done, and offers the derivative for download.
// Renders only the fields the service sent: a submitter's report is already cut by it.

import { getBlob, uploadRemediation } from "./api.js";

const $ = (id) => document.getElementById(id);
// Verdicts a derivative could improve; the report says per condition whether it applied.
const REMEDIABLE = new Set(["allow_with_conditions", "deny"]);
const STATUS_WORDS = { applied: "applied", not_needed: "not needed", cannot_apply: "cannot apply" };

// What the button re-sends: the File object of the upload and its form fields, never re-asked.
let pending = null;
let download = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clearResult() {
  $("remediation-result").hidden = true;
  $("remediated-verdict").textContent = "";
  $("remediation-actions").replaceChildren();
  $("remediation-download").hidden = true;
  $("remediate-status").textContent = "";
  download = null;
}

/**
 * Offer the button for a verdict just made from `upload` ({file, destination, purpose});
 * hide it for anything else (a stored verdict opened by link has no file to re-send).
 */
export function offerRemediation(verdict, upload) {
  clearResult();
  const codes = (verdict && verdict.conditions) || [];
  const offer = Boolean(upload && verdict && REMEDIABLE.has(verdict.verdict) && codes.length);
  pending = offer ? upload : null;
  $("remediation").hidden = !offer;
}

function showProgress(fraction, sent) {
  $("remediate-progress-row").hidden = false;
  $("remediate-progress").value = Math.round(fraction * 100);
  $("remediate-progress-text").textContent = sent
    ? "Uploaded; making the copy and checking it…"
    : `Uploading: ${Math.round(fraction * 100)}%`;
}

function renderActions(list, actions) {
  list.replaceChildren();
  for (const action of actions || []) {
    const item = el("li", `action action-${action.status}`);
    item.dataset.condition = action.condition;
    item.dataset.status = action.status;
    item.append(
      el("code", "", action.condition),
      el("strong", "", STATUS_WORDS[action.status] || String(action.status)),
    );
    if (action.reason) item.append(el("span", "reason", action.reason));
    list.append(item);
  }
  if (!list.children.length) list.append(el("li", "none", "No action was needed."));
}

function renderReport(report) {
  const word = report.verdict && report.verdict.verdict;
  const shown = $("remediated-verdict");
  shown.textContent = word || "";
  shown.className = `pill pill-${word}`;
  renderActions($("remediation-actions"), report.actions);
  const name = (report.output && report.output.path) || "remediated";
  download = report.download ? { path: report.download, name } : null;
  const link = $("remediation-download");
  link.hidden = !download;
  link.href = download ? download.path : "#/";
  link.textContent = `Download the copy (${name})`;
  $("remediation-result").hidden = false;
  $("remediation-result").focus();
}

async function remediate() {
  if (!pending) return;
  const { file, destination, purpose } = pending;
  const form = new FormData();
  form.append("file", file, file.name);
  if (destination) form.append("destination", destination);
  if (purpose) form.append("purpose", purpose);
  clearResult();
  const button = $("remediate-button");
  button.disabled = true;
  $("remediate-status").textContent = `Making a compliant copy of ${file.name}…`;
  showProgress(0, false);
  try {
    const report = await uploadRemediation(form, { onProgress: showProgress });
    $("remediate-status").textContent =
      `The copy of ${file.name} was checked again: ${String(report.verdict.verdict).replaceAll("_", " ")}.`;
    renderReport(report);
  } catch (error) {
    $("remediate-status").textContent = `The copy could not be made: ${error.message}`;
  } finally {
    button.disabled = false;
    $("remediate-progress-row").hidden = true;
  }
}

// The key travels in a header, so the file is fetched here and offered as a Blob.
async function saveCopy(event) {
  event.preventDefault();
  if (!download) return;
  const status = $("remediate-status");
  try {
    const blob = await getBlob(download.path);
    const url = URL.createObjectURL(blob);
    const anchor = el("a");
    anchor.href = url;
    anchor.download = download.name;
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status.textContent = `Downloading ${download.name}.`;
  } catch (error) {
    status.textContent = `The copy could not be downloaded: ${error.message}`;
  }
}

export function setupRemediation() {
  $("remediate-button").addEventListener("click", remediate);
  $("remediation-download").addEventListener("click", saveCopy);
}
