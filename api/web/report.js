// The result of an analysis, for a person: the verdict in words and how
// sure it is, one card per face with its detectors explained, the video
// with its timeline, the evidence images with what they show, the
// per-second findings, the provenance check and the JSON report.

import { h, $, show, fmt, seconds, words, bytes } from "./dom.js";
import { fetchBlob } from "./api.js";
import { timeline, band } from "./timeline.js";
import { renderVerification } from "./provenance.js";

const verdictText = {
  likely_authentic: {
    icon: "✓", title: "Likely authentic",
    meaning: "No face in this video shows convincing signs of manipulation. That is not proof: lip-syncs (a mouth redrawn to new speech) and reenacted talking heads made by tools this service was not trained on are often missed.",
  },
  suspicious: {
    icon: "!", title: "Suspicious",
    meaning: "Some signs point to manipulation, but not strongly enough to call it. Look at the faces and seconds flagged below before trusting this video.",
  },
  likely_manipulated: {
    icon: "✕", title: "Likely manipulated",
    meaning: "At least one face shows strong signs of manipulation: see which face and which seconds below. That is the detectors' finding, not proof: real footage unlike what they learned from (news, talk shows, phone video) is sometimes called manipulated, so check the flagged seconds and the provenance before acting on it.",
  },
  inconclusive: {
    icon: "?", title: "Inconclusive",
    meaning: "trueframe could not judge this video.",
  },
};

// What each detector looks at, in plain words.
const detectorInfo = {
  blink: { name: "Blinking", about: "Watches the eyes open and close. People blink about 15 to 26 times a minute, at irregular intervals, each blink lasting a tenth to four tenths of a second; some generated faces blink too rarely, too regularly or too slowly." },
  edges: { name: "Face outline", about: "Looks along the outline of the face for a seam: a pasted face is often smoother, or grainy in a different way, than the frame around it." },
  skin_tone: { name: "Skin colour", about: "Compares the colour of the face with the neck and the skin around it, and how the face's colour flickers compared with the rest of the scene: a swapped face may not belong to the head it sits on." },
  face_cnn: { name: "Face network", about: "A neural network the project trained on faces it blended itself. It marks the patches of the face that look pasted or synthesised." },
  meso4: { name: "MesoNet (reference)", about: "A network published in 2018, kept as a point of comparison; it weighs little in the verdict." },
  motion: { name: "Face motion", about: "Follows how the face moves over a few seconds: in a talking-head or lip-sync fake the mouth may move without the jaw and cheeks following, or the upper face may stay frozen." },
  resolution: { name: "Sharpness", about: "Compares the finest detail inside the face and the mouth with the picture around them: a face generated at low resolution and scaled up lacks the finest detail." },
};

const detectorName = (d) => (detectorInfo[d] || {}).name || words(d);

function verdictBadge(v) {
  const t = verdictText[v] || { icon: "•", title: words(v) };
  return h("span", { class: "badge verdict-" + v }, h("span", { "aria-hidden": "true" }, t.icon + " "), t.title);
}

function confidenceWords(c) {
  if (!(c > 0)) return "no confidence";
  if (c >= 0.75) return "high confidence";
  if (c >= 0.4) return "medium confidence";
  return "low confidence";
}

// notCounted reports whether the fusion gives the detector no weight.
function notCounted(r, detector) {
  return (r.not_counted || []).includes(detector);
}

function leaning(d) {
  if (!(d.confidence >= 0.2)) return "too unsure to count";
  if (d.score >= 0.6) return "points to manipulation";
  if (d.score <= 0.4) return "points to authentic";
  return "no clear lean";
}

// sureness says how close the score is to the verdict's edges.
function sureness(r) {
  const th = r.thresholds || {};
  if (r.verdict === "inconclusive") return r.verdict_reason ? `Why: ${r.verdict_reason}.` : "";
  const lines = [[th.suspicious_from, "suspicious"], [th.manipulated_from, "likely manipulated"]].filter(([v]) => v > 0);
  if (!lines.length) return "";
  const [v, name] = lines.reduce((a, b) => (Math.abs(b[0] - r.score) < Math.abs(a[0] - r.score) ? b : a));
  const margin = Math.abs(v - r.score);
  const where = margin < 0.005 ? "right at" : `${fmt(margin)} ${r.score >= v ? "above" : "below"}`;
  return margin < 0.05
    ? `Borderline: the score is ${where} the line where “${name}” starts (${fmt(v)}); a small change could tip the verdict.`
    : `Not a close call: the score is ${where} the nearest line (“${name}” from ${fmt(v)}).`;
}

function banner(r) {
  const t = verdictText[r.verdict] || { icon: "•", title: words(r.verdict), meaning: "" };
  const th = r.thresholds || {};
  return h("div", { class: "banner verdict-" + r.verdict, id: "verdict", dataset: { verdict: r.verdict } },
    h("p", { class: "banner-title" }, h("span", { class: "banner-icon", "aria-hidden": "true" }, t.icon), " ", t.title),
    h("p", {}, t.meaning),
    h("p", {}, `Score ${fmt(r.score)} on a scale from 0 (authentic) to 1 (manipulated)`,
      th.suspicious_from ? `: suspicious from ${fmt(th.suspicious_from)}, likely manipulated from ${fmt(th.manipulated_from)}.` : ".",
      " ", sureness(r)),
    h("p", { class: "help" }, "Detectors give a judgement from measurements, not proof. The score of a video is the score of its most suspicious face."));
}

// faceCard is one face: its picture, time on screen, verdict and the
// detectors behind it.
function faceCard(r, f, images, seek, deciding) {
  const order = new Map((f.contributions || []).map((c, i) => [c.detector, i]));
  const push = new Map((f.contributions || []).map((c) => [c.detector, c.logit]));
  const dets = [...(f.detectors || [])].sort((a, b) => (order.get(a.detector) ?? 99) - (order.get(b.detector) ?? 99));
  const pic = images.get(f.thumbnail);
  const onScreen = Math.max(0, f.end_s - f.start_s);
  return h("li", { class: "face-card", dataset: { track: f.track, verdict: f.verdict } },
    h("div", { class: "face-head" },
      pic ? h("img", { class: "thumb", src: pic, alt: `Face ${f.track}, at ${seconds(f.thumbnail_s || 0)}` })
        : h("div", { class: "thumb thumb-missing", "aria-hidden": "true" }, "?"),
      h("div", {},
        h("h4", {}, `Face ${f.track}`, deciding ? h("span", { class: "tag" }, "decides the verdict") : ""),
        h("p", {}, verdictBadge(f.verdict), ` score ${fmt(f.score)}`),
        h("p", { class: "help" }, `On screen from ${seconds(f.start_s)} to ${seconds(f.end_s)} (${seconds(onScreen)}, ${f.frames} frames analysed). `,
          h("button", { type: "button", class: "link", onclick: () => seek(f.start_s) }, `Go to ${seconds(f.start_s)}`)),
        f.reason ? h("p", { class: "help" }, "Inconclusive because: ", f.reason, ".") : "")),
    h("h5", { class: "sub" }, "What the detectors found"),
    h("ul", { class: "detectors" }, dets.map((d) => {
      const ignored = notCounted(r, d.detector);
      const lean = ignored ? `${leaning(d)}, not counted in the score` : leaning(d);
      const p = push.get(d.detector);
      return h("li", { class: "detector", dataset: { detector: d.detector } },
        h("p", { class: "det-head" }, h("strong", {}, detectorName(d.detector)), " — ", lean,
          h("span", { class: "help" }, ` (score ${fmt(d.score)}, ${confidenceWords(d.confidence)})`)),
        h("p", { class: "finding" }, d.explanation),
        h("details", { class: "fold" },
          h("summary", {}, "How it works, and its measurements"),
          h("p", {}, (detectorInfo[d.detector] || {}).about || ""),
          p != null ? h("p", { class: "help" }, p > 0.05 ? "It pushed this face's score up." : p < -0.05 ? "It pushed this face's score down." : "It barely moved this face's score.")
            : ignored ? h("p", { class: "help" }, "The fusion in use gives it no weight (it did not help on the clips the fusion was fitted on): its findings are shown, but they do not move the score.") : "",
          measurements(d.measurements)));
    })));
}

function measurements(m) {
  const entries = Object.entries(m || {});
  if (!entries.length) return "";
  return h("div", { class: "table-wrap" }, h("table", { class: "measures" },
    h("caption", { class: "sr-only" }, "Measurements"),
    h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, words(k)), h("td", {}, Number.isInteger(v) ? String(v) : fmt(v, 3)))))));
}

// findings lists the per-second evidence of every face in time order.
function findings(r, seek) {
  const items = [];
  for (const f of r.faces || []) {
    for (const d of f.detectors || []) {
      for (const e of d.evidence || []) {
        if (!e.note) continue;
        items.push({ t: e.start_s, end: e.end_s, face: f.track, det: d.detector, note: e.note, kind: e.kind, score: e.score });
      }
    }
  }
  if (!items.length) return h("p", { class: "help" }, "No per-second findings.");
  items.sort((a, b) => a.t - b.t || a.face - b.face);
  return h("ul", { class: "findings" }, items.map((it) => h("li", {},
    h("button", { type: "button", class: "link", onclick: () => seek(it.t) },
      it.end > it.t ? `${seconds(it.t, 2)}–${seconds(it.end, 2)}` : seconds(it.t, 2)),
    ` · Face ${it.face} · ${detectorName(it.det)}: ${it.note}`,
    it.kind === "event" ? "" : ` (score ${fmt(it.score)})`,
    notCounted(r, it.det) ? " — not counted in the score" : "")));
}

// heatmapLegend says how to read an evidence image of a detector.
function heatmapLegend(det) {
  if (det === "edges") {
    return h("p", { class: "legend-row" }, h("span", { class: "gradient jet", "aria-hidden": "true" }),
      "Colour in the band around the outline: blue, the grain matches the surroundings; red, it differs up to threefold. The inner and outer lines bound the band compared.");
  }
  if (det === "face_cnn") {
    return h("p", { class: "legend-row" }, h("span", { class: "gradient reds", "aria-hidden": "true" }),
      "The face aligned and in grey; the redder a patch, the more the network takes it for pasted or synthesised.");
  }
  return "";
}

// evidenceFigure shows one evidence image large, with what it is, its
// time, a legend and (when the video plays) a switch that lays it over the
// frame it comes from.
function evidenceFigure(ev, info, src, player, r) {
  const what = info ? `Face ${info.track} · ${detectorName(info.det)} · at ${seconds(info.t, 2)}` : ev.name;
  const img = h("img", { src, alt: info ? `${detectorName(info.det)} evidence for face ${info.track} at ${seconds(info.t, 2)}: ${info.note}` : `Evidence image ${ev.name}` });
  const canvas = h("canvas", { class: "overlay", hidden: true, role: "img", "aria-label": `${what}, laid over the video frame` });
  const fig = h("figure", { class: "evidence" }, img, canvas,
    h("figcaption", {}, h("strong", {}, what), info && info.note ? `: ${info.note}.` : "",
      info && notCounted(r, info.det) ? " Not counted in the score: the fusion gives this detector no weight." : "",
      heatmapLegend(info && info.det)));
  if (info && info.region && player) {
    const box = h("input", { type: "checkbox", disabled: !player.playable() });
    const label = h("label", { class: "check" }, box, " Show it over the video frame");
    // Only an image of the region itself can be laid over it (not, say,
    // an aligned and rotated face): the shapes must agree.
    img.addEventListener("load", () => {
      if (Math.abs(img.naturalWidth / img.naturalHeight - info.region.W / info.region.H) > 0.03) label.remove();
    }, { once: true });
    box.addEventListener("change", async () => {
      if (box.checked && (await player.drawOverlay(canvas, img, info.t, info.region))) {
        canvas.hidden = false;
        img.hidden = true;
      } else {
        canvas.hidden = true;
        img.hidden = false;
        box.checked = false;
      }
    });
    player.onPlayable(() => { box.disabled = false; });
    fig.append(label);
  }
  return fig;
}

// makePlayer puts the video in a player (when the browser can decode it)
// and offers seeking and frame grabs to the rest of the view.
function makePlayer(src, name) {
  const video = h("video", { controls: true, preload: "auto", playsinline: true, "aria-label": `The video: ${name}` });
  const note = h("p", { class: "help", role: "status" });
  let ok = false;
  const waiting = [];
  video.addEventListener("loadeddata", () => {
    ok = true;
    waiting.splice(0).forEach((f) => f());
  });
  video.addEventListener("error", () => {
    video.hidden = true;
    note.textContent = "This browser cannot play this file's format (for example MPEG-1), so there is no player; the timeline, faces and findings below still apply.";
  });
  if (src) video.src = src;
  else {
    video.hidden = true;
    note.textContent = "The video is not loaded.";
  }
  const seeked = () => new Promise((resolve) => video.addEventListener("seeked", resolve, { once: true }));
  return {
    element: h("div", { class: "player" }, video, note),
    video,
    playable: () => ok,
    onPlayable(f) { if (ok) f(); else waiting.push(f); },
    seek(t) {
      if (!video.hidden && Number.isFinite(t)) video.currentTime = t;
    },
    async drawOverlay(canvas, img, t, region) {
      if (!ok) return false;
      const wait = seeked();
      video.pause();
      video.currentTime = t;
      await wait;
      // The frame around the face (the region and as much again on each
      // side), with the image laid over the region, at least 480 px wide.
      const vw = video.videoWidth, vh = video.videoHeight;
      const x0 = Math.max(0, region.X - region.W / 2), y0 = Math.max(0, region.Y - region.H / 2);
      const x1 = Math.min(vw, region.X + region.W * 1.5), y1 = Math.min(vh, region.Y + region.H * 1.5);
      const scale = Math.max(1, 480 / (x1 - x0));
      canvas.width = Math.round((x1 - x0) * scale);
      canvas.height = Math.round((y1 - y0) * scale);
      const g = canvas.getContext("2d");
      g.drawImage(video, x0, y0, x1 - x0, y1 - y0, 0, 0, canvas.width, canvas.height);
      g.globalAlpha = 0.65;
      g.drawImage(img, (region.X - x0) * scale, (region.Y - y0) * scale, region.W * scale, region.H * scale);
      g.globalAlpha = 1;
      g.strokeStyle = "#fff";
      g.lineWidth = 2;
      g.strokeRect((region.X - x0) * scale, (region.Y - y0) * scale, region.W * scale, region.H * scale);
      return true;
    },
  };
}

// renderReport fills the result section for a finished analysis. video is
// the local File just uploaded, or null (then the upload is fetched back
// from the service when it is small enough to play). It returns a
// function that frees what the view holds.
export async function renderReport(job, video) {
  const r = job.result;
  const urls = [];
  const body = $("resultBody");
  const live = $("verdictLive");
  const th = r.thresholds || { suspicious_from: 0.4, manipulated_from: 0.7 };

  // The evidence images, fetched with the key.
  const images = new Map();
  await Promise.all((job.evidence || []).map(async (ev) => {
    try {
      const u = URL.createObjectURL(await fetchBlob(ev.url));
      urls.push(u);
      images.set(ev.name, u);
    } catch {
      // An image that cannot be fetched is left out; the rest stands.
    }
  }));

  let src = null;
  if (video) src = URL.createObjectURL(video);
  else if (job.file && job.file.size_bytes <= 200e6) {
    try {
      src = URL.createObjectURL(await fetchBlob(job.url + "/file"));
    } catch {
      src = null;
    }
  }
  if (src) urls.push(src);
  const player = makePlayer(src, job.file.name);

  const seekers = [];
  const seek = (t) => {
    player.seek(t);
    seekers.forEach((f) => f(t));
    if (!player.video.hidden) player.video.scrollIntoView({ block: "nearest" });
  };

  show(live, banner(r));

  const deciding = Object.values(r.detectors || {})[0];
  const decidingTrack = deciding ? deciding.track : null;

  const width = Math.min(body.clientWidth || 800, 1100);
  const tl = timeline(r.timeline || [], r.duration_s, th, seek, width);
  seekers.push((t) => tl.setTime(t));
  player.video.addEventListener("timeupdate", () => tl.setTime(player.video.currentTime));

  // Evidence images other than the face pictures, with what produced them.
  const evidenceInfo = new Map();
  for (const f of r.faces || []) {
    for (const d of f.detectors || []) {
      for (const e of d.evidence || []) {
        if (e.image) evidenceInfo.set(e.image, { track: f.track, det: d.detector, t: e.start_s, note: e.note, region: e.region });
      }
    }
  }
  const thumbs = new Set((r.faces || []).map((f) => f.thumbnail).filter(Boolean));
  const figures = (job.evidence || []).filter((ev) => !thumbs.has(ev.name) && images.has(ev.name))
    .map((ev) => evidenceFigure(ev, evidenceInfo.get(ev.name), images.get(ev.name), player, r));

  const json = JSON.stringify(r, null, 2);
  const download = h("button", { type: "button", onclick: () => {
    const u = URL.createObjectURL(new Blob([json], { type: "application/json" }));
    const a = h("a", { href: u, download: `trueframe-${job.id}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(u), 10000);
  } }, "Download the JSON report");

  const v = r.video || {};
  show(body,
    r.provenance && r.provenance.alert ? h("p", { class: "alert" }, h("span", { "aria-hidden": "true" }, "⚠ "), r.provenance.alert) : "",
    h("dl", { class: "facts" },
      h("dt", {}, "File"), h("dd", {}, job.file.name, ` (${bytes(job.file.size_bytes)})`),
      h("dt", {}, "Video"), h("dd", {}, `${seconds(r.duration_s)}, ${v.width}×${v.height}, ${fmt(v.fps, 1)} frames a second`),
      h("dt", {}, "SHA-256"), h("dd", {}, h("code", { class: "hash" }, r.sha256)),
      h("dt", {}, "Analysed in"), h("dd", {}, seconds((r.timing || {}).total_s))),
    h("div", { class: "row" }, download),
    (r.warnings || []).length ? h("div", { class: "warnings" }, h("h3", {}, "Warnings"), h("ul", {}, r.warnings.map((w) => h("li", {}, w)))) : "",
    h("h3", {}, "The video, second by second"),
    player.element,
    tl.element,
    h("h3", {}, `Faces (${(r.faces || []).length})`),
    (r.faces || []).length
      ? h("ul", { class: "faces" }, r.faces.map((f) => faceCard(r, f, images, seek, f.track === decidingTrack && (r.faces || []).length > 1)))
      : h("p", {}, "No face was found in this video, so the detectors had nothing to judge."),
    h("details", { class: "fold explain" },
      h("summary", {}, "What the score and the confidence mean"),
      h("p", {}, "Each detector gives a score from 0 (looks authentic) to 1 (looks manipulated), with 0.5 meaning no opinion, and a confidence from 0 to 1 that says how much evidence it had (a short clip or a face seen briefly gives little). The face's score combines the detectors, each weighed by its confidence and by how reliable it proved on labelled videos."),
      h("p", {}, `A face scoring below ${fmt(th.suspicious_from)} is likely authentic, from ${fmt(th.manipulated_from)} likely manipulated, and suspicious between. The video takes the verdict of its most suspicious face.`)),
    figures.length ? [h("h3", {}, "Evidence images"), h("div", { class: "evidence-grid" }, figures)] : "",
    h("h3", {}, "Findings by time"),
    findings(r, seek),
    r.provenance ? renderVerification(r.provenance, 3, "Provenance of this file") : "",
    h("details", { class: "fold" },
      h("summary", {}, "Full report (JSON)"),
      h("pre", { class: "json", tabindex: "0", "aria-label": "Full report as JSON" }, json)));

  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}

export { band };
