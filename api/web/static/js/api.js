// Talks to the service's HTTP API with the key kept in this tab's sessionStorage.
// The key is never put in a URL: it travels only in the Authorization header.

const KEY_NAME = "mapgate.key";

export function storedKey() {
  return sessionStorage.getItem(KEY_NAME) || "";
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_NAME, key);
  else sessionStorage.removeItem(KEY_NAME);
}

function headers() {
  const key = storedKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

async function problemDetail(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

export async function getJson(path, params) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  const response = await fetch(`${path}${query}`, { headers: headers(), cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
  return response.json();
}

// XHR rather than fetch: fetch reports no upload progress.
function uploadForm(url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.responseType = "text";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.upload.onload = () => onProgress(1, true);
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 200 && body) resolve(body);
      else reject(new ApiError(xhr.status, body && (body.detail || body.title)));
    };
    xhr.onerror = () => reject(new ApiError(0, "the service could not be reached"));
    xhr.send(form);
  });
}

export function uploadCheck(form, { onProgress }) {
  const reveal = form.get("reveal_zones") === "true";
  form.delete("reveal_zones");
  return uploadForm(reveal ? "/v1/checks?reveal_zones=true" : "/v1/checks", form, onProgress);
}

export function uploadRemediation(form, { onProgress }) {
  return uploadForm("/v1/remediations", form, onProgress);
}

// A file behind the key: fetched with the Authorization header, handed back as a Blob so
// that the page can offer it without ever putting the key in a link.
export async function getBlob(path) {
  const response = await fetch(path, { headers: headers(), cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
  return response.blob();
}
