// Small DOM helpers. The page builds every element with these rather
// than with HTML strings, so that text from a report or a file name is
// always text, never markup; and it sets no inline style attributes, which
// the page's Content-Security-Policy would refuse.

const SVG = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// h makes an HTML element: h("p", {class: "note"}, "text", child, ...).
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// svg makes an SVG element the same way.
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

export const $ = (id) => document.getElementById(id);

// show replaces the content of an element.
export function show(el, ...children) {
  el.replaceChildren();
  build(el, {}, children);
}

// fmt formats a number with a fixed number of decimals, or "–".
export function fmt(v, digits = 2) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–";
}

// seconds formats a time in the video: "7.5 s", or "1:02.5" past a minute.
export function seconds(t, digits = 1) {
  if (typeof t !== "number" || !Number.isFinite(t)) return "–";
  if (t < 60) return t.toFixed(digits) + " s";
  const m = Math.floor(t / 60);
  const s = t - 60 * m;
  return `${m}:${s < 10 ? "0" : ""}${s.toFixed(digits)}`;
}

// words turns an identifier such as likely_authentic into "likely authentic".
export const words = (s) => String(s || "").replace(/_/g, " ");

// when formats an ISO time for people, in their locale.
export function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso || "") : d.toLocaleString();
}

// bytes formats a size.
export function bytes(n) {
  if (!(n >= 0)) return "";
  const units = ["bytes", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}
