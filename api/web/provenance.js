// Renders a provenance check (POST /v1/verify, or the provenance part of
// an analysis report) in words: the answer, what it means, the chain
// record behind it, and what differs when the footage was altered.

import { h, fmt, seconds, words, when } from "./dom.js";

export const statusMeaning = {
  registered: "This exact file (the same bytes) was registered as an original.",
  matches_original: "This file shows the same footage as a registered original, with the same faces: a copy that was re-encoded, resized, cropped or trimmed, but not edited.",
  altered_original: "This file shows footage of a registered original in which something was changed: seconds, a region of the picture or a face.",
  revoked: "This file matches an original whose registration was withdrawn by its registrar.",
  unknown: "No registered original matches this file. That says nothing about whether it is genuine: most videos are simply not registered.",
};

const statusIcon = { registered: "✓", matches_original: "✓", altered_original: "✕", revoked: "✕", unknown: "?" };

// badge is the answer as an icon and words (never colour alone).
export function statusBadge(status) {
  return h("span", { class: "badge status-" + status },
    h("span", { "aria-hidden": "true" }, (statusIcon[status] || "•") + " "), words(status || "not checked"));
}

function ranges(list) {
  return list.map((r) => `${seconds(r.start_s, 2)}–${seconds(r.end_s, 2)}`).join(", ");
}

// renderVerification returns the element; level is the heading level of
// its title.
export function renderVerification(v, level = 3, title = "Provenance") {
  const out = h("div", { class: "verification", dataset: { status: v.status || "" } });
  out.append(h("h" + level, {}, title, ": ", statusBadge(v.status)));
  if (v.alert) out.append(h("p", { class: "alert" }, h("span", { "aria-hidden": "true" }, "⚠ "), v.alert));
  if (statusMeaning[v.status]) out.append(h("p", {}, statusMeaning[v.status]));
  // The service's own explanation adds the specifics (which seconds, which
  // face); for unknown and registered it only repeats the meaning.
  if (v.error) out.append(h("p", { class: "help" }, "The check failed: ", v.error));
  else if (v.explanation && v.status !== "unknown" && v.status !== "registered") out.append(h("p", { class: "help" }, v.explanation));

  const o = v.original;
  if (o) {
    const rows = [
      ["Original's SHA-256", h("code", { class: "hash" }, o.sha256)],
      ["Registered", when(o.time)],
      ["Registrar", h("code", { class: "hash" }, o.registrar)],
      ["Chain", `id ${o.chain_id}, contract `, h("code", { class: "hash" }, o.contract)],
      ["Transaction", h("code", { class: "hash" }, o.tx_hash), ` (block ${o.block})`],
    ];
    if (o.meta) rows.push(["Published at", o.meta]);
    if (o.batch) rows.push(["Batch", `one of ${o.batch.count} originals under one Merkle root; inclusion proof `,
      o.batch.verified ? "checked ✓" : "NOT verified ✕"]);
    if (o.revoked) rows.push(["Revoked", o.revoke_reason || "(no reason given)"]);
    out.append(h("dl", { class: "facts" }, rows.map(([k, ...v]) => [h("dt", {}, k), h("dd", {}, ...v)])));
  }

  const m = v.match;
  if (m) {
    const facts = [h("li", {}, `${fmt(100 * m.matched_fraction, 0)}% of the file's samples show the original`,
      m.offset_s ? ` (the file's time t is the original's t + ${fmt(m.offset_s, 2)} s)` : "", ".")];
    if (m.unmatched && m.unmatched.length) facts.push(h("li", {}, "Not in the original: ", ranges(m.unmatched), "."));
    for (const a of m.altered || []) {
      facts.push(h("li", {}, `Part of the picture changed at ${seconds(a.start_s, 2)}–${seconds(a.end_s, 2)} `,
        `(${a.cells.length} of ${a.grid * a.grid} grid cells).`));
    }
    if (m.geometry) facts.push(h("li", {}, `The file shows ${fmt(100 * m.geometry.w, 0)}% × ${fmt(100 * m.geometry.h, 0)}% of the original's frame (cropped or rescaled); it was compared in the original's layout.`));
    if (m.faces_compared === false) facts.push(h("li", {}, "Faces were not compared: the original was registered without them."));
    out.append(h("ul", { class: "facts-list" }, facts));
    for (const f of m.faces || []) {
      const fig = h("figure", { class: "evidence" });
      fig.append(h("p", { class: "alert-text" }, h("span", { "aria-hidden": "true" }, "✕ "), f.description));
      if (f.evidence_png) {
        const bytes = Uint8Array.from(atob(f.evidence_png), (c) => c.charCodeAt(0));
        const src = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
        fig.append(h("img", { src, alt: `Face ${f.track}: the registered face, this file's face and their difference, side by side` }),
          h("figcaption", {}, `Left: the registered face at ${seconds(f.evidence_original_s, 2)} of the original. `,
            `Middle: this file's face at ${seconds(f.evidence_s, 2)}. Right: their difference, the differing regions `,
            `outlined (${(f.regions || []).join(", ")}).`));
      }
      out.append(fig);
    }
  }
  return out;
}

// renderRecord describes a registration just made.
export function renderRecord(rec) {
  return h("div", { class: "verification", dataset: { status: "registered" } },
    h("h3", {}, "Registered: ", statusBadge("registered")),
    h("p", {}, "The original is on the ledger. From now on, verifying this file answers “registered”, and a re-encoded ",
      "copy of it “matches original”."),
    renderVerification({ status: "registered", original: rec }, 4, "Record").querySelector("dl"));
}
