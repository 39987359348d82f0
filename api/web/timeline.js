// The per-second timeline: one bar a second whose height is the score of
// the most suspicious face on screen, the verdict thresholds as labelled
// dashed lines, hatched stripes for the seconds with no face, time labels,
// a legend in words, and a table of the same figures for keyboards and
// screen readers. Clicking a second (or its row's button) seeks the video.

import { h, svg, fmt, seconds } from "./dom.js";

// band names the verdict zone of a score.
export function band(score, th) {
  if (score == null) return "no face";
  if (score >= th.manipulated_from) return "likely manipulated";
  if (score >= th.suspicious_from) return "suspicious";
  return "likely authentic";
}

const bandClass = { "likely authentic": "ok", suspicious: "warn", "likely manipulated": "bad", "no face": "none" };

// tickStep picks a time step that gives at most about ten labels.
function tickStep(duration) {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600]) {
    if (duration / s <= 10) return s;
  }
  return 7200;
}

// width is the drawing's width in CSS pixels (the space it will have), so
// that its text stays legible on a phone as on a wide screen.
export function timeline(points, duration, th, onSeek, width) {
  const W = Math.round(Math.max(280, Math.min(width || 800, 1100))), H = 190, left = 40, right = 10, top = 12, bottom = 34;
  const pw = W - left - right, ph = H - top - bottom;
  const n = points.length;
  const span = Math.max(duration, n, 1);
  const x = (t) => left + (t / span) * pw;
  const y = (s) => top + (1 - s) * ph;

  const scored = points.filter((p) => p.score != null);
  const noFace = n - scored.length;
  const worst = scored.reduce((a, p) => (a == null || p.score > a.score ? p : a), null);
  const summary = worst
    ? `Highest score ${fmt(worst.score)} (${band(worst.score, th)}) at ${seconds(worst.t, 0)}; ` +
      `${noFace} of ${n} seconds without a visible face.`
    : `No face was visible in any of the ${n} seconds.`;

  const titleId = "tlTitle", descId = "tlDesc";
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "timeline", role: "img",
    "aria-labelledby": `${titleId} ${descId}` });
  chart.append(
    svg("title", { id: titleId }, "Score per second"),
    svg("desc", { id: descId }, summary),
    svg("defs", {},
      svg("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        svg("rect", { width: 6, height: 6, class: "hatch-bg" }),
        svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" }))),
    svg("rect", { x: left, y: top, width: pw, height: ph, class: "plot" }));

  // Y axis: 0, 0.5, 1.
  for (const s of [0, 0.5, 1]) {
    chart.append(svg("line", { x1: left - 4, x2: left + pw, y1: y(s), y2: y(s), class: "grid" }),
      svg("text", { x: left - 8, y: y(s) + 4, class: "axis", "text-anchor": "end" }, String(s)));
  }
  // Bars.
  const bw = pw / span;
  points.forEach((p) => {
    const x0 = x(p.t) + Math.min(1, bw * 0.1), w = Math.max(1, bw - Math.min(2, bw * 0.2));
    const b = band(p.score, th);
    const label = `${seconds(p.t, 0)} to ${seconds(Math.min(p.t + 1, span), 0)}: ` +
      (p.score == null ? "no face visible" : `score ${fmt(p.score)}, ${b}, ${p.faces} face${p.faces === 1 ? "" : "s"}`);
    const bar = p.score == null
      ? svg("rect", { x: x0, y: top, width: w, height: ph, class: "bar none", fill: "url(#hatch)" })
      : svg("rect", { x: x0, y: y(Math.max(p.score, 0.015)), width: w, height: ph - (y(Math.max(p.score, 0.015)) - top), class: "bar " + bandClass[b] });
    bar.append(svg("title", {}, label));
    bar.dataset.t = p.t;
    chart.append(bar);
  });
  // Thresholds.
  for (const [v, name] of [[th.suspicious_from, "suspicious"], [th.manipulated_from, "likely manipulated"]]) {
    if (!(v > 0 && v < 1)) continue;
    chart.append(svg("line", { x1: left, x2: left + pw, y1: y(v), y2: y(v), class: "threshold" }),
      svg("text", { x: left + pw - 4, y: y(v) - 4, class: "threshold-label", "text-anchor": "end" }, `${name} from ${fmt(v)}`));
  }
  // X axis: time labels, fewer on a narrow drawing.
  const step = tickStep(span * (W < 500 ? 1.8 : 1));
  for (let t = 0; t <= span + 1e-9; t += step) {
    chart.append(svg("line", { x1: x(t), x2: x(t), y1: top + ph, y2: top + ph + 5, class: "tick" }),
      svg("text", { x: x(t), y: top + ph + 18, class: "axis", "text-anchor": t === 0 ? "start" : "middle" }, seconds(t, 0)));
  }
  chart.append(svg("text", { x: left + pw, y: H - 2, class: "axis", "text-anchor": "end" }, "time in the video"));
  const head = svg("line", { x1: left, x2: left, y1: top, y2: top + ph, class: "playhead" });
  chart.append(head);

  chart.addEventListener("click", (e) => {
    const r = chart.getBoundingClientRect();
    const vx = ((e.clientX - r.left) / r.width) * W;
    if (vx < left || vx > left + pw) return;
    const t = Math.min(Math.floor(((vx - left) / pw) * span), n - 1);
    if (t >= 0) onSeek(t);
  });

  const legend = h("ul", { class: "legend" },
    h("li", {}, h("span", { class: "swatch ok", "aria-hidden": "true" }), "likely authentic (below the first line)"),
    h("li", {}, h("span", { class: "swatch warn", "aria-hidden": "true" }), "suspicious (between the lines)"),
    h("li", {}, h("span", { class: "swatch bad", "aria-hidden": "true" }), "likely manipulated (above the upper line)"),
    h("li", {}, h("span", { class: "swatch none", "aria-hidden": "true" }), "hatched: no face visible that second"),
    h("li", {}, h("span", { class: "swatch line", "aria-hidden": "true" }), "dashed lines: the verdict thresholds"));

  const rows = points.map((p) => h("tr", {},
    h("td", {}, h("button", { type: "button", class: "link", onclick: () => onSeek(p.t) }, seconds(p.t, 0))),
    h("td", {}, p.score == null ? "–" : fmt(p.score)),
    h("td", {}, band(p.score, th)),
    h("td", {}, String(p.faces))));
  const table = h("details", { class: "fold" },
    h("summary", {}, "The same figures as a table"),
    h("div", { class: "table-wrap" },
      h("table", {},
        h("caption", { class: "sr-only" }, "Score per second"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Second"), h("th", { scope: "col" }, "Score"),
          h("th", { scope: "col" }, "Meaning"), h("th", { scope: "col" }, "Faces"))),
        h("tbody", {}, rows))));

  const el = h("figure", { class: "timeline-figure" },
    chart,
    h("figcaption", {},
      h("p", {}, "Bar height: the score of the most suspicious face on screen in each second, from 0 (authentic) to 1 (manipulated). ",
        "A second is scored from that second's evidence alone, so one second can cross a line that the face as a whole does not. ",
        "Click a second to move the video there."),
      h("p", { class: "help" }, summary),
      legend),
    table);

  return {
    element: el,
    setTime(t) {
      const px = x(Math.max(0, Math.min(t, span)));
      head.setAttribute("x1", px);
      head.setAttribute("x2", px);
    },
  };
}
