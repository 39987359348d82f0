// The page's only way to the service: the public API, with the key the
// user typed. Every error answer has one shape, {"error": {"code",
// "message"}}; this module turns it into an APIError whose message a
// person can act on.

import { $ } from "./dom.js";

export class APIError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail || "";
  }
}

// Plain-language messages by error code; the service's own message
// follows as the detail.
const advice = {
  no_key: "Enter your API key first, in the “API key” box at the top of the page.",
  missing_key: "Enter your API key first, in the “API key” box at the top of the page.",
  invalid_key: "This API key was not accepted: it is unknown, mistyped or revoked. Check it, or ask whoever runs this service for a new one.",
  forbidden: "This key may not do that: its role does not allow it.",
  unsupported_media_type: "This file is not a video trueframe can read. It judges a file by its content, not its name: choose a video file (MP4, MOV, WebM, MKV, AVI or MPEG).",
  too_large: "This file is larger than this service accepts.",
  queue_full: "The service is busy with other analyses. Try again in a little while.",
  rate_limited: "Too many requests with this key in a short time. Wait a moment and try again.",
  upload_timeout: "The upload stalled or took too long. Check the connection and try again.",
  incomplete_upload: "The upload was cut off before the end. Try again.",
  not_found: "Not found: it may have been deleted.",
  ledger_unavailable: "The provenance ledger is not available on this server right now.",
  already_registered: "This exact file is registered already: verifying it will answer “registered”.",
  unprocessable_video: "The video could not be read to the end to fingerprint it.",
  generator_unavailable: "The face-swap generator is not enabled on this server.",
  network: "The service did not answer. Is it still running, and is this page still connected to it?",
};

function fromAnswer(status, data, retryAfter) {
  const e = (data && data.error) || {};
  const code = e.code || "http_" + status;
  let message = advice[code] || e.message || `The service answered ${status}.`;
  if (retryAfter && (code === "queue_full" || code === "rate_limited")) message += ` (The service suggests ${retryAfter} s.)`;
  return new APIError(status, code, message, advice[code] ? e.message : "");
}

const STORE = "trueframe-key";

export function rememberedKey() {
  return localStorage.getItem(STORE) || "";
}

export function rememberKey(key, yes) {
  if (yes && key) localStorage.setItem(STORE, key);
  else localStorage.removeItem(STORE);
}

// key returns the key typed in the page, or throws the error that asks for
// one: an empty key is never sent.
export function key() {
  const k = $("key").value.trim();
  if (!k) throw new APIError(0, "no_key", advice.no_key);
  return k;
}

// call sends a request and returns the decoded JSON answer (null for 204).
export async function call(method, url, body) {
  const k = key();
  let r;
  try {
    r = await fetch(url, { method, body, headers: { Authorization: "Bearer " + k } });
  } catch (err) {
    throw new APIError(0, "network", advice.network, err.message);
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) throw fromAnswer(r.status, data, r.headers.get("Retry-After"));
  return data;
}

// fetchBlob fetches a binary resource (an evidence image, a video) with the
// key and returns it as a Blob.
export async function fetchBlob(url) {
  const k = key();
  let r;
  try {
    r = await fetch(url, { headers: { Authorization: "Bearer " + k } });
  } catch (err) {
    throw new APIError(0, "network", advice.network, err.message);
  }
  if (!r.ok) throw fromAnswer(r.status, await r.json().catch(() => null), null);
  return r.blob();
}

// send uploads a multipart form, reporting the share sent so far to
// onProgress (fetch cannot tell upload progress; XMLHttpRequest can).
export function send(method, url, form, onProgress) {
  const k = key();
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open(method, url);
    x.setRequestHeader("Authorization", "Bearer " + k);
    x.responseType = "json";
    if (onProgress) x.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    x.addEventListener("load", () => {
      if (x.status >= 200 && x.status < 300) resolve(x.response);
      else reject(fromAnswer(x.status, x.response, x.getResponseHeader("Retry-After")));
    });
    x.addEventListener("error", () => reject(new APIError(0, "network", advice.network)));
    x.addEventListener("abort", () => reject(new APIError(0, "aborted", "The upload was cancelled.")));
    x.send(form);
  });
}
