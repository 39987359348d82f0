// The models panel: the versions of the learned detectors and of the
// fusion that analyses run (GET /v1/models), the active one of each kind
// marked; an admin key can make another version active. The panel stays
// hidden on a service without a model registry.

import { $, h, show, words, when } from "./dom.js";
import { call } from "./api.js";

function showError(err) {
  const el = $("modelsError");
  if (!err) el.replaceChildren();
  else show(el, h("p", {}, h("span", { "aria-hidden": "true" }, "⚠ "), err.message), err.detail ? h("p", { class: "help" }, "The service said: ", err.detail) : "");
}

// figures says how a version measured when it was admitted: its AUC and
// its parent's on the same held-apart clips, per method folded away.
function figures(m) {
  const g = m.gate;
  if (!g || !g.child) return m.origin === "embedded" ? "as shipped (see its model card)" : "–";
  const auc = (v) => (typeof v === "number" ? v.toFixed(3) : "n/a");
  const worse = (g.regressions || []).map((r) => r.method);
  const methods = Object.keys(g.child.methods || {}).sort();
  return h("div", {},
    h("p", {}, `AUC ${auc(g.child.auc)} (parent ${auc(g.parent.auc)}) on ${g.clips} held-apart clips`,
      worse.length ? `; worse on ${worse.join(", ")}` : "; no method worse",
      m.forced ? ` — added anyway: ${m.forced}` : ""),
    methods.length ? h("details", {}, h("summary", {}, "By method"),
      h("ul", {}, methods.map((k) => h("li", {}, `${k}: ${auc(g.child.methods[k])} (parent ${auc((g.parent.methods || {})[k])})`)))) : "");
}

function row(m, admin) {
  const cells = [
    h("td", { "data-label": "Kind" }, words(m.kind)),
    h("td", { "data-label": "Version" }, h("code", { class: "hash" }, m.id)),
    h("td", { "data-label": "Active" }, m.active ? h("span", { class: "badge status-registered" }, h("span", { "aria-hidden": "true" }, "✓ "), "active") : "–"),
    h("td", { "data-label": "Made" }, when(m.created), m.origin === "embedded" ? " (built in)" : "", m.parent ? ` from ${m.parent}` : ""),
    h("td", { "data-label": "Measured" }, figures(m)),
  ];
  if (admin) {
    cells.push(h("td", { class: "actions" }, m.active ? "" : h("button", { type: "button", class: "secondary", onclick: async (e) => {
      e.currentTarget.disabled = true;
      showError(null);
      try {
        await call("POST", `/v1/models/${encodeURIComponent(m.id)}/activate`);
        $("modelsStatus").textContent = `${m.id} is now the active ${words(m.kind)}.`;
        await loadModels(admin);
      } catch (err) {
        showError(err);
        e.currentTarget.disabled = false;
      }
    } }, "Make active", h("span", { class: "sr-only" }, ` ${m.kind} ${m.id}`))));
  }
  return h("tr", { dataset: { id: m.id, active: String(Boolean(m.active)) } }, cells);
}

// loadModels lists the versions; admin adds the activate buttons.
export async function loadModels(admin) {
  const section = $("models");
  let page;
  try {
    page = await call("GET", "/v1/models");
  } catch (err) {
    // No registry on this service (or it is off): nothing to show.
    section.hidden = true;
    $("modelsNav").hidden = true;
    return;
  }
  const models = [...(page.models || [])].sort((a, b) => a.kind.localeCompare(b.kind) || (b.active - a.active) || String(b.created).localeCompare(String(a.created)));
  section.hidden = false;
  $("modelsNav").hidden = false;
  show($("modelsBody"), models.length
    ? h("div", { class: "table-wrap" }, h("table", { class: "history" },
      h("caption", { class: "sr-only" }, "Model versions"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Kind"), h("th", { scope: "col" }, "Version"), h("th", { scope: "col" }, "Active"),
        h("th", { scope: "col" }, "Made"), h("th", { scope: "col" }, "Measured"), admin ? h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")) : "")),
      h("tbody", {}, models.map((m) => row(m, admin)))))
    : h("p", { class: "help" }, "No model versions are registered."));
}

export function hideModels() {
  $("models").hidden = true;
  $("modelsNav").hidden = true;
}
