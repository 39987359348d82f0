// trueframe's analyst console: the key, analyses and their results,
// history, provenance. It talks to the service only through the public
// API (api.js) and builds the page with DOM calls (dom.js).

import { $, h, show, words, when, fmt, bytes } from "./dom.js";
import { APIError, call, send, key, rememberedKey, rememberKey } from "./api.js";
import { renderReport } from "./report.js";
import { renderVerification, renderRecord } from "./provenance.js";
import { startGenerator } from "./generator.js";
import { loadModels, hideModels } from "./models.js";

const state = {
  running: new Set(), // actions in progress, by name: each runs once at a time
  release: null, // frees the shown result's object URLs
  openId: "", // the analysis shown in the result section
  role: "",
  cursor: "", // the history's next page
  historyToken: 0, // the latest history request; older answers are dropped
};

// once runs an action unless the same one is already running, with its
// button disabled meanwhile: a double click or a repeated Enter sends one
// request, not two.
async function once(name, button, action) {
  if (state.running.has(name)) return;
  state.running.add(name);
  button.disabled = true;
  try {
    await action();
  } finally {
    state.running.delete(name);
    button.disabled = false;
  }
}

// showError puts an error (or nothing) in an alert region.
function showError(region, err) {
  if (!err) {
    region.replaceChildren();
    return;
  }
  show(region,
    h("p", {}, h("span", { "aria-hidden": "true" }, "⚠ "), err.message),
    err.detail ? h("p", { class: "help" }, "The service said: ", err.detail) : "");
}

function setStatus(el, text, kind = "") {
  el.className = "status" + (kind ? " " + kind : "");
  el.textContent = text;
}

// focusFor puts the focus where the user can fix the error.
function focusFor(err, fileInput) {
  if (err.code === "no_key" || err.code === "invalid_key" || err.code === "missing_key") $("key").focus();
  else if (err.code === "no_file" && fileInput) fileInput.focus();
}

function chosenFile(input, what) {
  const f = input.files[0];
  if (!f) throw new APIError(0, "no_file", `Choose ${what} first.`);
  return f;
}

// ---- The key ----

const roleText = {
  analyst: "It can analyse videos and verify files.",
  registrar: "It can analyse, verify, and register originals.",
  admin: "It can do everything, and sees every analysis.",
};

async function useKey() {
  const status = $("keyStatus");
  rememberKey($("key").value.trim(), $("remember").checked);
  try {
    const me = await call("GET", "/v1/me");
    state.role = me.role;
    status.className = "status ok";
    show(status, h("span", { "aria-hidden": "true" }, "✓ "), "Key accepted: ", h("strong", {}, me.role),
      " key", me.name ? ` “${me.name}”` : "", ". ", roleText[me.role] || "");
    applyRole();
    loadHistory(true);
    loadModels(me.role === "admin");
  } catch (err) {
    state.role = "";
    applyRole();
    hideModels();
    status.className = "status error";
    show(status, h("span", { "aria-hidden": "true" }, "✕ "), err.message);
    clearHistory(err.code === "no_key" ? "Enter your key to see your analyses." : "");
  }
}

// applyRole shows what the key may do: registering needs a registrar or
// admin key, the generator too.
function applyRole() {
  const canRegister = state.role === "registrar" || state.role === "admin";
  const note = $("registerRole");
  if (state.role && !canRegister) {
    note.textContent = `This is an ${state.role} key: registering originals needs a registrar or admin key.`;
  } else {
    note.textContent = "Needs a registrar or admin key. Register only footage you published yourself: the record on the ledger is permanent (it can be revoked, not erased).";
  }
  for (const el of $("registerForm").querySelectorAll("input, button")) el.disabled = Boolean(state.role) && !canRegister;
  $("generatorNav").hidden = !canRegister;
  $("generator").hidden = !canRegister;
  if (canRegister) startGenerator();
}

// ---- Analyses ----

const failureText = {
  not_video: "The file is not a video trueframe can read.",
  truncated: "The video file is cut off: it ends before its container says it should.",
  too_large: "The video is larger than this service analyses (size, pixels or duration).",
  unsupported_codec: "The video's codec is not supported.",
  no_video_stream: "The file has no video stream (audio only?).",
  worker_crashed: "The analysis crashed, also on retry. The file may be damaged.",
  out_of_memory: "The analysis ran out of memory.",
  timeout: "The analysis took longer than this service allows.",
};

// follow polls a job until it ends, showing its real state as it goes
// (queued, running with progress), and returns it.
async function follow(job, status, bar) {
  let last = "";
  while (job.status === "queued" || job.status === "running") {
    const text = job.status === "queued"
      ? `Queued: ${job.file.name} waits for a free worker…`
      : `Analysing ${job.file.name}…`;
    if (text !== last) setStatus(status, (last = text));
    bar.hidden = false;
    bar.value = job.status === "running" ? job.progress || 0 : 0;
    // A short wait: the answer comes at once when the job ends, and the
    // status moves on within a second when it starts running.
    job = await call("GET", job.url + "?wait=1");
  }
  bar.hidden = true;
  if (job.status === "failed") {
    const e = job.error || {};
    throw new APIError(0, e.code || "failed", "The analysis failed: " + (failureText[e.code] || e.message || "no reason given."), e.message);
  }
  return job;
}

async function analyse() {
  const status = $("scanStatus"), bar = $("scanProgress"), errors = $("scanError");
  showError(errors, null);
  setStatus(status, "");
  try {
    key();
    const file = chosenFile($("scanFile"), "a video to analyse");
    const form = new FormData();
    form.append("file", file);
    // The previous result goes: its verdict must not sit beside the new
    // file's progress.
    hideResult();
    setStatus(status, `Uploading ${file.name} (${bytes(file.size)})…`);
    bar.hidden = false;
    bar.value = 0;
    let job = await send("POST", "/v1/analyses", form, (f) => { bar.value = f; });
    history.replaceState(null, "", "#analysis=" + job.id);
    state.openId = job.id;
    loadHistory(true);
    job = await follow(job, status, bar);
    await showResult(job, file);
    setStatus(status, `Done: ${job.file.name} is ${words(job.result.verdict)} (score ${fmt(job.result.score)}).`, "ok");
    loadHistory(true);
  } catch (err) {
    bar.hidden = true;
    setStatus(status, "");
    showError(errors, err);
    focusFor(err, $("scanFile"));
  }
}

async function showResult(job, file) {
  if (state.release) state.release();
  state.release = null;
  state.openId = job.id;
  $("result").hidden = false;
  state.release = await renderReport(job, file);
}

function hideResult() {
  if (state.release) state.release();
  state.release = null;
  state.openId = "";
  $("result").hidden = true;
  $("resultBody").replaceChildren();
  $("verdictLive").replaceChildren();
}

// open shows a past analysis (following it first if it has not ended).
async function open(id) {
  const status = $("scanStatus"), bar = $("scanProgress"), errors = $("scanError");
  showError(errors, null);
  try {
    let job = await call("GET", `/v1/analyses/${encodeURIComponent(id)}`);
    history.replaceState(null, "", "#analysis=" + job.id);
    job = await follow(job, status, bar);
    setStatus(status, "");
    await showResult(job, null);
    $("result").scrollIntoView({ block: "start" });
    $("resultHeading").focus({ preventScroll: true });
  } catch (err) {
    bar.hidden = true;
    setStatus(status, "");
    showError(errors, err);
    $("analyse").scrollIntoView({ block: "start" });
  }
}

// ---- History ----

function clearHistory(message) {
  state.historyToken++;
  $("historyRows").replaceChildren();
  $("historyTable").hidden = true;
  $("historyMore").hidden = true;
  setStatus($("historyStatus"), message || "");
}

function statusCell(a) {
  if (a.status === "running") return `running, ${fmt(100 * (a.progress || 0), 0)}%`;
  if (a.status === "failed") return "failed" + (a.error && a.error.code ? ` (${words(a.error.code)})` : "");
  return words(a.status);
}

function verdictCell(a) {
  if (!a.summary) return "–";
  const icon = { likely_authentic: "✓", suspicious: "!", likely_manipulated: "✕", inconclusive: "?" }[a.summary.verdict] || "•";
  return [h("span", { class: "badge verdict-" + a.summary.verdict }, h("span", { "aria-hidden": "true" }, icon + " "), words(a.summary.verdict)),
    ` ${fmt(a.summary.score)}`];
}

function historyRow(a) {
  const name = a.file.name;
  const actions = h("td", { class: "actions" });
  const row = h("tr", { dataset: { id: a.id } },
    h("td", { "data-label": "File" }, name),
    h("td", { "data-label": "Uploaded" }, h("time", { datetime: a.created_at }, when(a.created_at))),
    h("td", { "data-label": "Status" }, statusCell(a)),
    h("td", { "data-label": "Verdict" }, verdictCell(a)),
    actions);
  const normal = () => {
    row.classList.remove("confirm");
    show(actions,
      h("button", { type: "button", class: "secondary", onclick: (e) => once("open", e.currentTarget, () => open(a.id)) }, "Open", h("span", { class: "sr-only" }, " " + name)),
      h("button", { type: "button", class: "secondary", onclick: confirm }, "Delete", h("span", { class: "sr-only" }, " " + name)));
  };
  // Deleting asks once more, in the row itself, with the focus on the
  // answer.
  const confirm = () => {
    row.classList.add("confirm");
    const yes = h("button", { type: "button", class: "danger", onclick: (e) => once("delete " + a.id, e.currentTarget, () => remove(a, row)) }, "Yes, delete", h("span", { class: "sr-only" }, " " + name));
    const no = h("button", { type: "button", class: "secondary", onclick: () => { normal(); actions.querySelector("button:last-child").focus(); } }, "Cancel");
    show(actions, h("span", {}, `Delete ${name} and its evidence? `), yes, no);
    yes.focus();
  };
  normal();
  return row;
}

async function remove(a, row) {
  const errors = $("historyError");
  showError(errors, null);
  try {
    await call("DELETE", `/v1/analyses/${encodeURIComponent(a.id)}`);
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    if (state.openId === a.id) {
      hideResult();
      if (location.hash === "#analysis=" + a.id) history.replaceState(null, "", location.pathname);
    }
    setStatus($("historyStatus"), `Deleted ${a.file.name}.`, "ok");
    $("historyTable").hidden = !$("historyRows").children.length;
    (next ? next.querySelector("button") : $("historyRefresh")).focus();
  } catch (err) {
    showError(errors, err);
  }
}

async function loadHistory(reset) {
  const token = ++state.historyToken;
  const errors = $("historyError");
  showError(errors, null);
  try {
    const cursor = reset ? "" : state.cursor;
    const page = await call("GET", "/v1/analyses?limit=10" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    if (token !== state.historyToken) return;
    if (reset) $("historyRows").replaceChildren();
    for (const a of page.analyses) $("historyRows").append(historyRow(a));
    state.cursor = page.next_cursor || "";
    const n = $("historyRows").children.length;
    $("historyTable").hidden = n === 0;
    $("historyMore").hidden = !state.cursor;
    setStatus($("historyStatus"), n ? `${n} ${n === 1 ? "analysis" : "analyses"} shown${state.cursor ? "; older ones below" : ""}.` : "No analyses with this key yet.");
  } catch (err) {
    if (token !== state.historyToken) return;
    if (err.code === "no_key") clearHistory("Enter your key to see your analyses.");
    else showError(errors, err);
  }
}

// ---- Provenance ----

async function verify() {
  const status = $("verifyStatus"), errors = $("verifyError"), out = $("provenanceOut");
  showError(errors, null);
  setStatus(status, "");
  try {
    key();
    const file = chosenFile($("verifyFile"), "a video to verify");
    const form = new FormData();
    form.append("file", file);
    out.replaceChildren();
    setStatus(status, `Fingerprinting ${file.name} and comparing it with the registered originals…`);
    let v = await send("POST", "/v1/verify", form);
    // One that takes longer than the service waits comes back as a job
    // (202): follow it until the ledger's answer is there.
    while (v && v.url && String(v.id).startsWith("vf_")) {
      if (v.status === "done") {
        v = v.result;
        break;
      }
      if (v.status === "failed") throw new APIError(422, v.error.code, v.error.message);
      v = await call("GET", v.url + "?wait=30");
    }
    setStatus(status, `${file.name}: ${words(v.status)}.`, "ok");
    show(out, renderVerification(v, 3, `Verification of ${file.name}`));
  } catch (err) {
    setStatus(status, "");
    showError(errors, err);
    focusFor(err, $("verifyFile"));
  }
}

async function register() {
  const status = $("registerStatus"), errors = $("registerError"), out = $("provenanceOut");
  showError(errors, null);
  setStatus(status, "");
  try {
    key();
    const file = chosenFile($("registerFile"), "the original video to register");
    const form = new FormData();
    const meta = $("registerMeta").value.trim();
    if (meta) form.append("meta", meta);
    form.append("file", file);
    out.replaceChildren();
    setStatus(status, `Fingerprinting ${file.name} and writing it to the ledger…`);
    const rec = await send("POST", "/v1/originals", form);
    setStatus(status, `${file.name} is registered.`, "ok");
    show(out, renderRecord(rec));
  } catch (err) {
    setStatus(status, "");
    showError(errors, err);
    focusFor(err, $("registerFile"));
  }
}

// ---- Wiring ----

function onSubmit(form, name, button, action) {
  $(form).addEventListener("submit", (e) => {
    e.preventDefault();
    once(name, $(button), action);
  });
}

onSubmit("keyForm", "key", "keyBtn", useKey);
onSubmit("scanForm", "scan", "scanBtn", analyse);
onSubmit("verifyForm", "verify", "verifyBtn", verify);
onSubmit("registerForm", "register", "registerBtn", register);
$("remember").addEventListener("change", () => rememberKey($("key").value.trim(), $("remember").checked));
$("historyRefresh").addEventListener("click", () => once("history", $("historyRefresh"), () => loadHistory(true)));
$("historyMore").addEventListener("click", () => once("more", $("historyMore"), () => loadHistory(false)));

const stored = rememberedKey();
if (stored) {
  $("key").value = stored;
  $("remember").checked = true;
  once("key", $("keyBtn"), async () => {
    await useKey();
    const m = /^#analysis=(an_[0-9a-f]{24})$/.exec(location.hash);
    if (m && state.role) await open(m[1]);
  });
} else {
  clearHistory("Enter your key to see your analyses.");
}
