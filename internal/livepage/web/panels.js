// panels.js: draw one Grafana panel (stat, gauge, bargauge, table,
// timeseries) from the stream's targets. Every renderer rebuilds its
// panel's body from the data it is given, so a full frame and a delta draw
// the same way; all text goes in through textContent, never innerHTML, so
// a label value can never become markup.

import { format, parseValue, unitSeconds } from "./units.js";
import { TimeFormat } from "./timefmt.js";

const SVG = "http://www.w3.org/2000/svg";

// el makes an HTML element with attributes and children.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// Series colours, distinguishable on both themes (CSS can override them
// through the --series-N custom properties).
const palette = ["#3d7eff", "#22a06b", "#e2a000", "#d9455f", "#8f5be8", "#16a3b8", "#e07b39", "#8b9a2b", "#c353b5", "#6c7a89"];
const color = (i) => `var(--series-${i % palette.length}, ${palette[i % palette.length]})`;

// legendName fills a Grafana legendFormat ("{{job}} {{environment}}") from
// the series' labels; without one, or when the labels it names are all
// missing (a {{unit}} legend on a series with no unit), it is Grafana's
// `name{a="b"}`, or the fallback (the panel title) for a series without
// labels (a sum()).
export function legendName(legendFormat, metric, fallback) {
  metric = metric || {};
  if (legendFormat && legendFormat !== "__auto") {
    const filled = legendFormat.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, l) => metric[l] ?? "");
    if (filled.trim() !== "") return filled;
  }
  const name = metric.__name__ || "";
  const labels = Object.keys(metric)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}="${metric[k]}"`);
  if (!name && labels.length === 0) return fallback;
  return name + (labels.length ? `{${labels.join(", ")}}` : "");
}

const labelKey = (metric) => JSON.stringify(Object.entries(metric || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

// panelSeries gathers the series of a panel's visible targets from the
// stream state: {name, metric, points: [[ms, raw]...]} with the live edge
// point appended after the aligned points when it is newer than them.
export function panelSeries(panel, pstate) {
  const out = [];
  const errors = [];
  let truncated = false;
  for (const target of panel.targets || []) {
    if (target.hide) continue;
    const t = pstate?.targets?.[target.refId];
    if (!t) continue;
    if (t.error) errors.push(String(t.error));
    if (t.truncated) truncated = true;
    const edges = new Map();
    for (const e of Array.isArray(t.edge) ? t.edge : []) {
      if (e && Array.isArray(e.value)) edges.set(labelKey(e.metric), e.value);
    }
    const seen = new Set();
    for (const s of Array.isArray(t.series) ? t.series : []) {
      if (!s) continue;
      const key = labelKey(s.metric);
      seen.add(key);
      const points = (Array.isArray(s.values) ? s.values : []).filter((p) => Array.isArray(p) && p.length === 2);
      appendEdge(points, edges.get(key));
      out.push({ name: legendName(target.legendFormat, s.metric, panel.title || target.refId), metric: s.metric || {}, points });
    }
    // An edge without aligned points (a series that only just appeared).
    for (const e of Array.isArray(t.edge) ? t.edge : []) {
      if (!e || !Array.isArray(e.value) || seen.has(labelKey(e.metric))) continue;
      out.push({ name: legendName(target.legendFormat, e.metric, panel.title || target.refId), metric: e.metric || {}, points: [e.value] });
    }
  }
  return { series: out.filter((s) => s.points.length > 0), errors, truncated };
}

function appendEdge(points, edge) {
  if (!edge) return;
  const last = points[points.length - 1];
  if (!last || Number(edge[0]) > Number(last[0])) points.push(edge);
  else if (Number(edge[0]) === Number(last[0])) points[points.length - 1] = edge;
}

const lastRaw = (s) => String(s.points[s.points.length - 1][1]);

// limits returns the [min, max] a gauge or bar spans: the panel's own
// min/max, else the unit's natural range, else 0 to the largest value.
function limits(defaults, unit, values) {
  let lo = Number.isFinite(defaults.min) ? defaults.min : 0;
  let hi = Number.isFinite(defaults.max) ? defaults.max : NaN;
  if (!Number.isFinite(hi)) {
    if (unit === "percentunit") hi = 1;
    else if (unit === "percent") hi = 100;
    else hi = Math.max(lo + 1, ...values.filter(Number.isFinite));
  }
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

const fraction = (v, [lo, hi]) => (Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : v === Infinity ? 1 : 0);

function valueEl(tag, s, unit, cls = "value") {
  return el(tag, { class: cls, "data-raw": lastRaw(s), "data-series": s.name, title: s.name }, format(lastRaw(s), unit));
}

function drawStat(body, panel, series, unit) {
  const grid = el("div", { class: "stat-grid" });
  series.forEach((s, i) => {
    const v = valueEl("div", s, unit);
    // Size the number to fit the panel's width as well as its height.
    v.style.setProperty("--chars", String(Math.max(3, v.textContent.length) * series.length));
    const item = el("div", { class: "stat" }, v);
    item.style.setProperty("--accent", color(i));
    if (series.length > 1) item.append(el("div", { class: "stat-name" }, s.name));
    grid.append(item);
  });
  body.append(grid);
}

// drawGauge: a 240° arc per series, filled from min to the value.
function drawGauge(body, panel, series, unit, defaults) {
  const range = limits(defaults, unit, series.map((s) => parseValue(lastRaw(s))));
  const grid = el("div", { class: "gauge-grid" });
  series.forEach((s, i) => {
    const f = fraction(parseValue(lastRaw(s)), range);
    const g = svg("svg", { viewBox: "0 0 100 80", class: "gauge-arc", "aria-hidden": "true" });
    g.append(svg("path", { d: arc(50, 52, 40, 0, 1), class: "gauge-track" }));
    if (f > 0) g.append(svg("path", { d: arc(50, 52, 40, 0, f), class: "gauge-fill", stroke: color(i) }));
    const item = el("div", { class: "gauge" }, g, valueEl("div", s, unit));
    if (series.length > 1) item.append(el("div", { class: "stat-name" }, s.name));
    grid.append(item);
  });
  body.append(grid);
}

function arc(cx, cy, r, f0, f1) {
  const a = (f) => ((150 + 240 * f) * Math.PI) / 180;
  const p = (f) => `${(cx + r * Math.cos(a(f))).toFixed(2)} ${(cy + r * Math.sin(a(f))).toFixed(2)}`;
  const large = (f1 - f0) * 240 > 180 ? 1 : 0;
  return `M ${p(f0)} A ${r} ${r} 0 ${large} 1 ${p(f1)}`;
}

// drawBars: Grafana's bar gauge, horizontal, one row per series.
function drawBars(body, panel, series, unit, defaults) {
  const range = limits(defaults, unit, series.map((s) => parseValue(lastRaw(s))));
  const list = el("div", { class: "bars" });
  series.forEach((s, i) => {
    const fill = el("div", { class: "bar-fill" });
    fill.style.width = `${(fraction(parseValue(lastRaw(s)), range) * 100).toFixed(2)}%`;
    fill.style.background = color(i);
    const row = el(
      "div",
      { class: "bar", "data-raw": lastRaw(s), "data-series": s.name },
      el("span", { class: "bar-label", title: s.name }, s.name),
      el("div", { class: "bar-track" }, fill),
      el("span", { class: "bar-value" }, format(lastRaw(s), unit)),
    );
    list.append(row);
  });
  body.append(list);
}

// drawTable: one row per series, its labels as columns, then the value.
// Rows are in label order; a click on a header sorts by that column (again:
// the other way), and the choice is kept on the panel across frames.
function drawTable(body, panel, series, unit) {
  const node = body.closest(".panel");
  const cols = [...new Set(series.flatMap((s) => Object.keys(s.metric)))].filter((k) => k !== "__name__").sort();
  const [sortCol, sortDir] = (node?.dataset.sort || "").split(":");
  const text = (s, c) => String(s.metric[c] ?? "");
  const byLabels = (a, b) => {
    for (const c of cols) {
      const d = text(a, c).localeCompare(text(b, c), undefined, { numeric: true });
      if (d) return d;
    }
    return 0;
  };
  const byValue = (a, b) => {
    const [x, y] = [parseValue(lastRaw(a)), parseValue(lastRaw(b))];
    return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : Number.isNaN(y) ? -1 : x - y;
  };
  const cmp =
    sortCol === "" || sortCol === undefined
      ? byLabels
      : sortCol === "__value"
        ? byValue
        : (a, b) => text(a, sortCol).localeCompare(text(b, sortCol), undefined, { numeric: true }) || byLabels(a, b);
  const rows = [...series].sort(sortDir === "desc" ? (a, b) => cmp(b, a) : cmp);

  const th = (label, key, cls) => {
    const e = el("th", { class: cls, tabindex: "0", "aria-sort": key === sortCol ? (sortDir === "desc" ? "descending" : "ascending") : "none" }, label);
    const sort = () => {
      if (!node) return;
      node.dataset.sort = `${key}:${key === sortCol && sortDir !== "desc" ? "desc" : "asc"}`;
      body.replaceChildren();
      drawTable(body, panel, series, unit);
    };
    e.addEventListener("click", sort);
    e.addEventListener("keydown", (ev) => (ev.key === "Enter" || ev.key === " ") && (ev.preventDefault(), sort()));
    return e;
  };
  const head = el("tr", {}, ...cols.map((c) => th(c, c)), th("Value", "__value", "value"));
  const tbody = el("tbody");
  for (const s of rows) {
    tbody.append(
      el("tr", { "data-series": s.name }, ...cols.map((c) => el("td", {}, s.metric[c] ?? "")), valueEl("td", s, unit)),
    );
  }
  body.append(el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), tbody)));
}

// Round steps of a time axis, in seconds: a duration axis reads 10 s,
// 20 s, 30 s or 5 min, 10 min, not 3.33 min.
const durationSteps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

// niceTicks returns about n round values covering [lo, hi]; unless a bound
// is fixed (the panel's min/max), the axis grows to the round value past
// it. secs is the size of a duration unit in seconds (ms: 0.001).
function niceTicks(lo, hi, n, fixLo, fixHi, secs) {
  const raw = (hi - lo) / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const inSecs = secs && durationSteps.find((d) => d >= raw * secs);
  if (secs && raw * secs >= 1 && inSecs) step = inSecs / secs;
  const first = fixLo ? Math.ceil(lo / step) * step : Math.floor(lo / step + 1e-9) * step;
  const ticks = [];
  for (let i = 0; ticks.length < 50; i++) {
    const v = first + i * step;
    if (fixHi && v > hi + step * 1e-9) break;
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    if (v >= hi - step * 1e-9) break;
  }
  return ticks;
}

// Time axis steps, in ms: the first that gives labels about 100 px apart.
const timeSteps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000].map((s) => s * 1000);

// drawTimeseries: an SVG line per series over [from, to] (stretched to the
// live edge point), a value axis in the panel's unit, a time axis in the
// dashboard's timezone, and a legend with each series' last value.
function drawTimeseries(body, panel, series, unit, defaults, ctx) {
  // The legend first, so the plot is measured in the room it leaves.
  const legend = el("div", { class: "legend" });
  series.forEach((s, i) => {
    const sw = el("span", { class: "swatch" });
    sw.style.background = color(i);
    const last = s.points[s.points.length - 1][1];
    legend.append(el("span", { class: "legend-item", "data-series": s.name }, sw, el("span", {}, s.name), el("span", { class: "legend-value" }, format(last, unit))));
  });
  const plot = el("div", { class: "plot" });
  body.append(plot, legend);
  const W = Math.max(120, plot.clientWidth || body.clientWidth || 400);
  const H = Math.max(60, plot.clientHeight || 150);
  const m = { l: 58, r: 10, t: 8, b: 20 };
  let w = W - m.l - m.r;
  const h = H - m.t - m.b;
  let t0 = Number(ctx.from);
  let t1 = Number(ctx.to);
  // Loops, not Math.min(...values): a panel may hold 100 series of 300
  // points, too many arguments for a spread.
  let vmin = Infinity;
  let vmax = -Infinity;
  for (const s of series) {
    for (const [t, raw] of s.points) {
      const v = parseValue(raw);
      if (Number.isFinite(v)) [vmin, vmax] = [Math.min(vmin, v), Math.max(vmax, v)];
      if (Number(t) > t1) t1 = Number(t);
      if (!Number.isFinite(t0) || Number(t) < t0) t0 = Number(t);
    }
  }
  if (!Number.isFinite(t0) || !Number.isFinite(t1) || t1 <= t0) [t0, t1] = [Date.now() - 3600e3, Date.now()];
  let lo = Number.isFinite(defaults.min) ? defaults.min : Math.min(0, vmin);
  let hi = Number.isFinite(defaults.max) ? defaults.max : Math.max(vmax, lo);
  if (!(hi > lo)) hi = lo + (Math.abs(lo) || 1);
  const yt = niceTicks(lo, hi, Math.max(2, Math.floor(h / 30)), Number.isFinite(defaults.min), Number.isFinite(defaults.max), unitSeconds(unit));
  if (yt.length > 1) [lo, hi] = [Math.min(lo, yt[0]), Math.max(hi, yt[yt.length - 1])];
  // The value axis is as wide as its longest label ("1.5 records/s").
  const yLabels = yt.map((v) => format(v, unit));
  m.l = Math.min(W / 3, 10 + 6 * Math.max(3, ...yLabels.map((l) => l.length)));
  w = W - m.l - m.r;
  const x = (t) => m.l + ((Number(t) - t0) / (t1 - t0)) * w;
  const y = (v) => m.t + h - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * h;

  const g = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart" });
  const yAxis = svg("g", { class: "axis axis-y" });
  yt.forEach((v, i) => {
    yAxis.append(svg("line", { x1: m.l, x2: m.l + w, y1: y(v), y2: y(v), class: "grid" }));
    const label = svg("text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end" });
    label.textContent = yLabels[i];
    yAxis.append(label);
  });
  const xAxis = svg("g", { class: "axis axis-x" });
  const step = timeSteps.find((s) => ((t1 - t0) / s) * 100 <= w) || timeSteps[timeSteps.length - 1];
  const tf = ctx.timeFormat;
  const off = tf.offset((t0 + t1) / 2);
  for (let t = Math.ceil((t0 + off) / step) * step - off; t <= t1; t += step) {
    xAxis.append(svg("line", { x1: x(t), x2: x(t), y1: m.t, y2: m.t + h, class: "grid" }));
    const label = svg("text", { x: x(t), y: H - 5, "text-anchor": "middle", "data-ms": String(t) });
    label.textContent = tf.tick(t, step, t1 - t0);
    xAxis.append(label);
  }
  g.append(yAxis, xAxis);

  series.forEach((s, i) => {
    let d = "";
    let pen = false;
    for (const [t, raw] of s.points) {
      const v = parseValue(raw);
      // NaN and ±Inf are gaps: the line stops and starts again after them.
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    const last = s.points[s.points.length - 1];
    g.append(svg("path", { d: d || "M0,0", class: "series", stroke: color(i), "data-series": s.name, "data-last": String(last[1]) }));
    const lv = parseValue(last[1]);
    if (Number.isFinite(lv)) g.append(svg("circle", { cx: x(last[0]).toFixed(1), cy: y(lv).toFixed(1), r: 2.5, fill: color(i), class: "edge" }));
  });
  plot.append(g);
  hover(plot, g, series, unit, ctx.timeFormat, { x, t0, t1, m, w, h });
}

// hover shows, under the pointer, the time and each series' value at the
// nearest point: the numbers behind a line, as Grafana's tooltip does.
function hover(plot, g, series, unit, tf, { x, t0, t1, m, w, h }) {
  const cursor = svg("line", { y1: m.t, y2: m.t + h, class: "cursor", visibility: "hidden" });
  const tip = el("div", { class: "tooltip", hidden: "" });
  g.append(cursor);
  plot.append(tip);
  const nearest = (points, t) => {
    let lo = 0;
    let hi = points.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Number(points[mid][0]) < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && Math.abs(Number(points[lo - 1][0]) - t) < Math.abs(Number(points[lo][0]) - t)) lo--;
    return points[lo];
  };
  g.addEventListener("mousemove", (ev) => {
    const px = ev.offsetX;
    if (px < m.l || px > m.l + w) return;
    const t = t0 + ((px - m.l) / w) * (t1 - t0);
    const rows = series.map((s, i) => [i, s.name, nearest(s.points, t)]);
    const at = Number(rows[0][2][0]);
    cursor.setAttribute("x1", x(at));
    cursor.setAttribute("x2", x(at));
    cursor.setAttribute("visibility", "visible");
    tip.replaceChildren(
      el("div", { class: "tooltip-time" }, tf.full(at)),
      ...rows.map(([i, name, p]) => {
        const sw = el("span", { class: "swatch" });
        sw.style.background = color(i);
        return el("div", {}, sw, ` ${name}: `, el("b", {}, format(p[1], unit)));
      }),
    );
    tip.hidden = false;
    tip.style.left = `${Math.min(px + 12, Math.max(0, plot.clientWidth - tip.offsetWidth - 4))}px`;
    tip.style.top = `${m.t}px`;
  });
  g.addEventListener("mouseleave", () => {
    tip.hidden = true;
    cursor.setAttribute("visibility", "hidden");
  });
}

const drawers = { stat: drawStat, gauge: drawGauge, bargauge: drawBars, table: drawTable, timeseries: drawTimeseries };

// supported reports whether the page can draw a panel type.
export const supported = (type) => type in drawers;

// createPanel makes the panel's frame (placed on the 24-column grid by
// gridPos), in the loading state until its first frame arrives.
export function createPanel(panel) {
  const gp = panel.gridPos || {};
  const node = el("section", { class: "panel", "data-panel-id": String(panel.id), "data-type": panel.type || "", "data-state": "loading" });
  const col = Math.min(24, Math.max(1, (gp.x | 0) + 1));
  node.style.gridColumn = `${col} / span ${Math.max(1, Math.min(25 - col, gp.w | 0 || 12))}`;
  node.style.gridRow = `${(gp.y | 0) + 1} / span ${Math.max(1, gp.h | 0 || 8)}`;
  node.style.setProperty("--h", String(Math.max(1, gp.h | 0 || 8)));
  const header = el("header", { class: "panel-header" }, el("h2", { class: "panel-title", title: panel.title || "" }, panel.title || ""));
  if (panel.description) header.append(el("span", { class: "panel-info", title: panel.description, tabindex: "0", "aria-label": panel.description }, "i"));
  node.append(header, el("div", { class: "panel-body" }, el("div", { class: "panel-message" }, "Loading…")), el("div", { class: "panel-error", hidden: "" }));
  return node;
}

// renderPanel redraws node from the panel's stream state; it never throws
// on odd data: a renderer failure becomes the panel's error state.
export function renderPanel(node, panel, pstate, ctx) {
  const body = node.querySelector(".panel-body");
  const errBox = node.querySelector(".panel-error");
  const defaults = panel.fieldConfig?.defaults || {};
  const unit = defaults.unit || "none";
  body.replaceChildren();
  errBox.hidden = true;
  errBox.textContent = "";
  if (!supported(panel.type)) {
    body.append(el("div", { class: "panel-message" }, `Panel type "${panel.type}" is not drawn here`));
    node.dataset.state = "nodata";
    return;
  }
  const { series, errors, truncated } = panelSeries(panel, pstate);
  // The server caps the series of a target; say that some are left out.
  let note = node.querySelector(".panel-note");
  if (truncated && !note) {
    note = el("span", { class: "panel-note", title: "The query returned more series than the page is sent; some are not shown." }, "partial");
    node.querySelector(".panel-header").insertBefore(note, node.querySelector(".panel-info"));
  } else if (!truncated && note) note.remove();
  if (errors.length) {
    errBox.textContent = errors.join("; ");
    errBox.hidden = false;
    node.dataset.state = "error";
    return;
  }
  if (series.length === 0) {
    body.append(el("div", { class: "panel-message" }, "No data"));
    node.dataset.state = "nodata";
    return;
  }
  try {
    drawers[panel.type](body, panel, series, unit, defaults, ctx);
    node.dataset.state = "ok";
  } catch (e) {
    console.error("panel", panel.id, e);
    body.replaceChildren();
    errBox.textContent = "The page could not draw this panel";
    errBox.hidden = false;
    node.dataset.state = "error";
  }
}

export { TimeFormat };
