// The generator panel (registrar and admin keys): start a face-swap
// generator job (train a model on two people, swap faces in a video, make
// a labelled dataset), follow its progress, see its preview images and
// download what it made. Only the public /v1/generator routes are used.

import { $, h, show, words, when, fmt, seconds } from "./dom.js";
import { APIError, call, send, fetchBlob } from "./api.js";

const kinds = {
  train: "Train a face-swap model on two people",
  swap: "Swap faces in a video with a trained model",
  dataset: "Make labelled fakes from real videos with a trained model",
};

const panel = { built: false, timer: 0, urls: [] };

function field(id, label, input, help) {
  input.id = id;
  return h("div", { class: "field", dataset: { for: id } },
    h("label", { for: id }, label), input, help ? h("p", { class: "help" }, help) : "");
}

function build() {
  const type = h("select", { name: "type" }, Object.entries(kinds).map(([v, text]) => h("option", { value: v }, text)));
  const fields = h("div", { class: "stack" },
    field("genA", "Videos of person A", h("input", { type: "file", name: "a", multiple: true, accept: "video/*" }), "One or more clips with one face each."),
    field("genB", "Videos of person B", h("input", { type: "file", name: "b", multiple: true, accept: "video/*" })),
    field("genSteps", "Training steps", h("input", { type: "number", name: "steps", min: 1, max: 1000000, placeholder: "default" })),
    field("genModel", "Trained model (a finished training job)", h("select", { name: "model" })),
    field("genTarget", "Video whose face to replace", h("input", { type: "file", name: "target", accept: "video/*" })),
    field("genDirection", "Direction", h("select", { name: "direction" },
      h("option", { value: "a2b" }, "A's face becomes B's"), h("option", { value: "b2a" }, "B's face becomes A's"))),
    field("genReal", "Real videos to fake", h("input", { type: "file", name: "real", multiple: true, accept: "video/*" })));
  const shown = { train: ["genA", "genB", "genSteps"], swap: ["genModel", "genTarget", "genDirection"], dataset: ["genModel", "genReal"] };
  const pick = () => {
    for (const el of fields.children) el.hidden = !shown[type.value].includes(el.dataset.for);
  };
  type.addEventListener("change", pick);
  pick();

  const button = h("button", { type: "submit", id: "genBtn" }, "Start the job");
  const form = h("form", { id: "genForm", class: "stack", novalidate: true, "aria-labelledby": "genStartHeading" },
    h("h3", { id: "genStartHeading" }, "Start a job"),
    h("p", { class: "help" }, "The generator makes fakes for training and testing detectors. A training job takes minutes to hours; one job runs at a time."),
    field("genType", "Job", type), fields, h("div", { class: "row" }, button));
  let busy = false;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    busy = true;
    button.disabled = true;
    showError(null);
    try {
      const data = new FormData();
      data.append("type", type.value);
      for (const id of shown[type.value]) {
        const el = $(id);
        if (el.type === "file") for (const f of el.files) data.append(el.name, f);
        else if (el.value) data.append(el.name, el.value);
      }
      setStatus("Uploading the videos and queueing the job…");
      const job = await send("POST", "/v1/generator/jobs", data);
      setStatus(`Queued: ${words(job.type)} job ${job.id}.`);
      await refresh();
    } catch (err) {
      setStatus("");
      showError(err);
    } finally {
      busy = false;
      button.disabled = false;
    }
  });

  show($("generatorBody"),
    form,
    h("p", { id: "genStatus", class: "status", role: "status" }),
    h("div", { id: "genError", class: "error", role: "alert" }),
    h("h3", {}, "Jobs"),
    h("div", { id: "genJobs" }));
}

function setStatus(text) {
  $("genStatus").textContent = text;
}

function showError(err) {
  const el = $("genError");
  if (!err) el.replaceChildren();
  else show(el, h("p", {}, h("span", { "aria-hidden": "true" }, "⚠ "), err.message), err.detail ? h("p", { class: "help" }, "The service said: ", err.detail) : "");
}

function detailText(d) {
  if (!d || !d.total) return "";
  const parts = [`step ${d.step} of ${d.total}`];
  if (d.loss != null) parts.push(`loss ${fmt(d.loss, 4)}`);
  if (d.steps_per_s) parts.push(`${fmt(d.steps_per_s, 1)} steps a second`);
  if (d.eta_s > 0) parts.push(`about ${seconds(d.eta_s, 0)} left`);
  return parts.join(", ");
}

async function download(a) {
  try {
    const u = URL.createObjectURL(await fetchBlob(a.url));
    const link = h("a", { href: u, download: a.name.split("/").pop() });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(u), 10000);
  } catch (err) {
    showError(err);
  }
}

async function jobCard(j) {
  const card = h("li", { class: "face-card", dataset: { id: j.id, status: j.status } },
    h("h4", {}, words(j.type), " ", h("span", { class: "badge status-" + j.status }, words(j.status))),
    h("p", { class: "help" }, `${j.id}, started ${when(j.created_at)}`));
  if (j.status === "running" || j.status === "queued") {
    card.append(h("progress", { max: 1, value: j.progress || 0, "aria-label": `Progress of ${j.id}` }),
      h("p", {}, `${fmt(100 * (j.progress || 0), 0)}%`, j.detail ? " — " + detailText(j.detail) : ""));
  }
  if (j.error) card.append(h("p", { class: "alert-text" }, "Failed: ", j.error.message || j.error.code));
  if (j.status === "done") {
    const job = await call("GET", j.url);
    const images = (job.artifacts || []).filter((a) => /\.(png|jpe?g)$/i.test(a.name)).slice(0, 4);
    for (const a of images) {
      try {
        const u = URL.createObjectURL(await fetchBlob(a.url));
        panel.urls.push(u);
        card.append(h("figure", { class: "evidence" }, h("img", { src: u, alt: `Preview ${a.name} of job ${j.id}` }), h("figcaption", {}, a.name)));
      } catch {
        // A preview that cannot be fetched is left out.
      }
    }
    const files = job.artifacts || [];
    if (files.length) {
      card.append(h("details", { class: "fold" }, h("summary", {}, `Download what it made (${files.length} files)`),
        h("ul", {}, files.slice(0, 200).map((a) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => download(a) }, a.name))))));
    }
  }
  card.append(h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: async () => {
    try {
      await call("DELETE", j.url);
      await refresh();
    } catch (err) {
      showError(err);
    }
  } }, "Delete", h("span", { class: "sr-only" }, " job " + j.id))));
  return card;
}

// refresh lists the jobs, and polls every two seconds while one is
// waiting or running.
export async function refresh() {
  clearTimeout(panel.timer);
  if ($("generator").hidden) return;
  try {
    const page = await call("GET", "/v1/generator/jobs");
    const jobs = page.jobs || [];
    panel.urls.splice(0).forEach((u) => URL.revokeObjectURL(u));
    const models = $("genModel");
    const chosen = models.value;
    show(models, jobs.filter((j) => j.type === "train" && j.status === "done")
      .map((j) => h("option", { value: j.id, selected: j.id === chosen }, `${j.id} (${when(j.created_at)})`)));
    show($("genJobs"), jobs.length ? h("ul", { class: "faces" }, await Promise.all(jobs.map(jobCard))) : h("p", { class: "help" }, "No generator jobs yet."));
    if (jobs.some((j) => j.status === "queued" || j.status === "running")) panel.timer = setTimeout(refresh, 2000);
  } catch (err) {
    // Without the generator on this server there is nothing to start.
    $("genForm").hidden = err.code === "generator_unavailable";
    show($("genJobs"), h("p", { class: "help" }, err instanceof APIError ? err.message : String(err)));
    return;
  }
  $("genForm").hidden = false;
}

export function startGenerator() {
  if (!panel.built) {
    build();
    panel.built = true;
  }
  refresh();
}
