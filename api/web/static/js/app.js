// The page's entry: the key, the views behind #/..., the upload and its progress.

import { ApiError, getJson, storeKey, storedKey, uploadCheck } from "./api.js";
import { setupHistory, showHistory } from "./history.js";
import { offerRemediation, setupRemediation } from "./remediate.js";
import { hideVerdict, renderVerdict } from "./verdict.js";

const STATIC = document.body.dataset.static;
const $ = (id) => document.getElementById(id);
let caller = null;

async function identify() {
  const who = $("whoami");
  try {
    caller = await getJson("/v1/me");
    who.textContent = `Acting as ${caller.name} (${caller.role})`;
  } catch (error) {
    caller = null;
    who.textContent =
      error instanceof ApiError && error.status === 401
        ? storedKey() ? "That key is not valid." : "Enter an API key to check files."
        : `The service did not answer: ${error.message}`;
  }
  const auditor = caller && caller.role === "auditor";
  $("reveal-row").hidden = !auditor;
  if (!auditor) $("reveal").checked = false;
  $("filter-caller-row").hidden = !auditor;
  $("key-forget").hidden = !storedKey();
}

function setupKey() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    storeKey($("key-input").value.trim());
    $("key-input").value = "";
    identify().then(route);
  });
  $("key-forget").addEventListener("click", () => {
    storeKey("");
    hideVerdict();
    identify().then(route);
    $("key-input").focus();
  });
}

function showProgress(fraction, sent) {
  $("progress-row").hidden = false;
  $("progress").value = Math.round(fraction * 100);
  $("progress-text").textContent = sent ? "Uploaded; checking…" : `Uploading: ${Math.round(fraction * 100)}%`;
}

function destinationOk() {
  const input = $("destination");
  input.value = input.value.trim().toUpperCase();
  const ok = input.value === "" || /^[A-Z]{2}$/.test(input.value);
  input.setAttribute("aria-invalid", String(!ok));
  $("destination-error").textContent = ok ? "" : "Use two letters, such as US or KR.";
  return ok;
}

async function submitUpload(event) {
  event.preventDefault();
  const file = $("file-input").files[0];
  const status = $("status");
  if (!file) {
    status.textContent = "Choose a file first.";
    $("file-input").focus();
    return;
  }
  if (!destinationOk()) {
    $("destination").focus();
    return;
  }
  // Kept for "Make a compliant copy", which re-sends exactly this upload.
  const sent = { file, destination: $("destination").value, purpose: $("purpose").value.trim() };
  const form = new FormData();
  form.append("file", file, file.name);
  if (sent.destination) form.append("destination", sent.destination);
  if (sent.purpose) form.append("purpose", sent.purpose);
  if ($("reveal").checked) form.append("reveal_zones", "true");
  $("upload-button").disabled = true;
  hideVerdict();
  status.textContent = `Uploading ${file.name}…`;
  showProgress(0, false);
  try {
    const verdict = await uploadCheck(form, { onProgress: showProgress });
    status.textContent = `Checked ${file.name}: ${verdict.verdict.replaceAll("_", " ")}.`;
    history.replaceState(null, "", `#/checks/${encodeURIComponent(verdict.id)}`);
    renderVerdict(verdict, STATIC);
    offerRemediation(verdict, sent);
    $("verdict").focus();
  } catch (error) {
    status.textContent = `The check failed: ${error.message}`;
  } finally {
    $("upload-button").disabled = false;
    $("progress-row").hidden = true;
  }
}

function setupUpload() {
  $("upload-form").addEventListener("submit", submitUpload);
  $("destination").addEventListener("change", destinationOk);
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) {
      $("file-input").files = event.dataTransfer.files;
      $("status").textContent = `Ready to check ${event.dataTransfer.files[0].name}.`;
    }
  });
}

async function showCheck(id) {
  $("status").textContent = "";
  try {
    renderVerdict(await getJson(`/v1/checks/${encodeURIComponent(id)}`), STATIC);
    offerRemediation(null, null);
  } catch (error) {
    hideVerdict();
    $("status").textContent = `Could not load that verdict: ${error.message}`;
  }
}

function show(view) {
  $("view-check").hidden = view !== "check";
  $("view-history").hidden = view !== "history";
  for (const link of document.querySelectorAll("[data-view-link]")) {
    if (link.dataset.viewLink === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function route() {
  const hash = location.hash || "#/";
  const check = /^#\/checks\/([^/]+)$/.exec(hash);
  if (check) {
    show("check");
    return showCheck(decodeURIComponent(check[1]));
  }
  hideVerdict();
  if (hash === "#/checks") {
    show("history");
    return showHistory();
  }
  show("check");
  return undefined;
}

setupKey();
setupUpload();
setupHistory();
setupRemediation();
window.addEventListener("hashchange", route);
identify().then(route);
