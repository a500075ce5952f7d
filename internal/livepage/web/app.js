// app.js: the page's routing, API calls, sign-in and live stream. One
// index.html serves both the list (/dashboards/) and a dashboard
// (/dashboards/d/{uid}); this module looks at location.pathname and draws
// the one asked for. The stream is read with fetch() and a small SSE parser
// instead of EventSource, because EventSource cannot send the
// Authorization header the query API's auth extensions want.

import { el, createPanel, renderPanel, TimeFormat } from "./panels.js";
import { readEvents } from "./sse.js";

const BASE = "/dashboards";
const TOKEN_KEY = "pulse.token";
const THEME_KEY = "pulse.theme";
const RANGES = [
  ["now-5m", "Last 5 minutes"],
  ["now-1h", "Last 1 hour"],
  ["now-6h", "Last 6 hours"],
  ["now-24h", "Last 24 hours"],
  ["now-7d", "Last 7 days"],
  ["now-30d", "Last 30 days"],
];

const main = document.getElementById("main");
const controls = document.getElementById("controls");

// ---- sign-in ------------------------------------------------------------

class Unauthorized extends Error {}

// api fetches a JSON API path with the session's token; a 401 opens the
// token form and throws Unauthorized, so callers only handle real errors.
async function api(path, init = {}) {
  const headers = new Headers(init.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const resp = await fetch(BASE + path, { ...init, headers });
  if (resp.status === 401) {
    askToken(token ? "The token was refused." : "");
    throw new Unauthorized("unauthorized");
  }
  return resp;
}

// askToken shows the token form; submitting it stores the token for this
// browser tab only (sessionStorage) and starts the page again.
function askToken(note) {
  const form = document.getElementById("token-form");
  document.getElementById("token-note").textContent = note;
  form.hidden = false;
  document.getElementById("token").focus();
}

document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = document.getElementById("token").value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  document.getElementById("token").value = "";
  ev.target.hidden = true;
  start();
});

// ---- theme --------------------------------------------------------------

// The dashboard's theme (the seed's setting, from the API) unless the
// viewer toggled it in this tab.
function applyTheme(fromAPI) {
  const chosen = sessionStorage.getItem(THEME_KEY) || fromAPI;
  document.body.dataset.theme = chosen === "light" ? "light" : "dark";
}

document.getElementById("theme-toggle").addEventListener("click", () => {
  const next = document.body.dataset.theme === "dark" ? "light" : "dark";
  sessionStorage.setItem(THEME_KEY, next);
  document.body.dataset.theme = next;
});

// ---- list page ----------------------------------------------------------

async function showList() {
  document.title = "Pulse dashboards";
  // The list belongs to no dashboard: it follows the system's preference.
  applyTheme(matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark");
  const resp = await api("/api/list");
  if (!resp.ok) throw new Error(`the dashboard list answered HTTP ${resp.status}`);
  const body = await resp.json();
  const list = el("div", { id: "dashboards", class: "dashboard-list" });
  for (const d of body.dashboards || []) {
    const tags = el("div", { class: "tags" }, ...(d.tags || []).map((t) => el("span", { class: "tag" }, t)));
    list.append(
      el(
        "a",
        { class: "dashboard-link", "data-uid": d.uid, href: `${BASE}/d/${encodeURIComponent(d.uid)}` },
        el("h2", {}, d.title || d.uid),
        el("div", { class: "uid" }, d.uid),
        el("p", {}, d.description || ""),
        tags,
      ),
    );
  }
  const parts = [el("h1", {}, "Dashboards"), list];
  if (body.problem) parts.push(el("p", { class: "problem" }, body.problem));
  else if (!(body.dashboards || []).length) parts.push(el("p", { class: "problem" }, "No dashboards are visible to you."));
  main.replaceChildren(...parts);
}

// ---- dashboard page -----------------------------------------------------

// The stream's state: the last full frame with every delta merged in.
let state = null;
let stream = null; // AbortController of the running stream
let onVisibility = () => {}; // the shown dashboard's, see showDashboard
let resized = null; // the shown dashboard's ResizeObserver
document.addEventListener("visibilitychange", () => onVisibility());

async function showDashboard(uid) {
  const resp = await api(`/api/dashboard/${encodeURIComponent(uid)}`);
  if (resp.status === 404 || resp.status === 403) {
    main.replaceChildren(
      el("p", { class: "problem" }, resp.status === 404 ? "There is no dashboard with this UID." : "This dashboard is not shared with you."),
      el("a", { href: `${BASE}/` }, "All dashboards"),
    );
    return;
  }
  if (!resp.ok) throw new Error(`the dashboard answered HTTP ${resp.status}`);
  const { dashboard: db, theme } = await resp.json();
  applyTheme(theme);
  document.title = `${db.title || uid} · Pulse`;
  const tf = new TimeFormat(db.timezone);

  const grid = el("div", { id: "dashboard", class: "grid", "data-uid": uid, "data-seq": "0" });
  const panels = (db.panels || []).filter((p) => p && p.id !== undefined);
  const nodes = new Map();
  for (const p of panels) {
    const node = createPanel(p);
    nodes.set(String(p.id), { node, panel: p });
    grid.append(node);
  }
  main.replaceChildren(el("h1", { class: "dash-title" }, db.title || uid), grid);

  const defaultFrom = db.time?.from || "now-6h";
  const wanted = new URLSearchParams(location.search).get("from");
  const range = el("select", { id: "range", "aria-label": "Time range" });
  const options = RANGES.some(([v]) => v === defaultFrom) ? RANGES : [[defaultFrom, `Default (${defaultFrom})`], ...RANGES];
  for (const [v, text] of options) range.append(el("option", { value: v }, text));
  range.value = options.some(([v]) => v === wanted) ? wanted : defaultFrom;
  const conn = el("span", { id: "conn", "data-state": "connecting", role: "status" }, "Connecting…");
  controls.replaceChildren(range, el("span", { id: "timezone", title: "Dashboard timezone" }, tf.label), conn);

  // Redraw only what a frame touched, once per animation frame however
  // many frames arrived in between.
  const dirty = new Set();
  let scheduled = false;
  const redraw = (ids) => {
    for (const id of ids) dirty.add(id);
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      const ctx = { from: state?.from, to: state?.to, timeFormat: tf };
      for (const id of dirty) {
        const n = nodes.get(id);
        if (n) renderPanel(n.node, n.panel, state?.panels?.[id], ctx);
      }
      dirty.clear();
      grid.dataset.seq = String(state?.seq ?? 0);
    });
  };
  // Time series depend on their size: redraw them when it changes.
  resized = new ResizeObserver((entries) => {
    if (state) redraw(entries.map((e) => e.target.dataset.panelId).filter((id) => nodes.get(id)?.panel.type === "timeseries"));
  });
  for (const { node } of nodes.values()) resized.observe(node);

  const onFrame = (event, frame) => {
    if (event === "full") {
      state = frame;
      state.panels ||= {};
      redraw(nodes.keys());
    } else if (event === "delta" && state) {
      const to = state.to;
      const touched = mergeDelta(state, frame);
      // The window moved: time series a delta did not touch still need
      // their axis moved, at most once a second (a tick is 250 ms).
      if (state.to !== to && performance.now() - lastSweep >= 1000) {
        lastSweep = performance.now();
        for (const [id, n] of nodes) if (n.panel.type === "timeseries") touched.push(id);
      }
      redraw(touched);
    }
  };
  let lastSweep = 0;
  const connect = () => {
    stream?.abort();
    stream = new AbortController();
    // The dashboard's own "to" goes with its own default range only; a
    // range picked from the list always ends now.
    const to = range.value === defaultFrom ? db.time?.to || "now" : "now";
    const q = new URLSearchParams({ from: range.value, to, width: String(Math.round(grid.clientWidth || innerWidth)) });
    runStream(`/api/live/${encodeURIComponent(uid)}?${q}`, conn, onFrame, stream.signal);
  };
  // A tab left in the background for a minute gives its stream back (the
  // server evaluates every open range each tick; a hidden page needs none)
  // and takes a new one, with a full frame, when it is shown again.
  let idle;
  onVisibility = () => {
    clearTimeout(idle);
    if (document.hidden) {
      idle = setTimeout(() => {
        stream?.abort();
        setConn(conn, "connecting", "Paused while the tab is hidden");
      }, 60000);
    } else if (stream?.signal.aborted) connect();
  };
  range.addEventListener("change", () => {
    const u = new URL(location.href);
    u.searchParams.set("from", range.value);
    history.replaceState(null, "", u);
    connect();
  });
  connect();
}

// mergeDelta folds a delta into the state per the contract: per panel, per
// target, the fields it carries replace the old ones ("error":"" clears the
// error). It returns the ids of the panels it touched.
function mergeDelta(st, delta) {
  for (const k of ["seq", "now", "from", "to", "step"]) if (k in delta) st[k] = delta[k];
  const touched = [];
  for (const [id, p] of Object.entries(delta.panels || {})) {
    const old = (st.panels[id] ||= { targets: {} });
    old.targets ||= {};
    for (const [ref, t] of Object.entries(p?.targets || {})) old.targets[ref] = { ...(old.targets[ref] || {}), ...t };
    touched.push(id);
  }
  return touched;
}

// ---- the live stream ----------------------------------------------------

function setConn(conn, s, text) {
  conn.dataset.state = s;
  conn.textContent = text;
}

// runStream keeps one SSE stream open until signal aborts: it reconnects
// after an end or error, 1 s first (or the server's retry:), doubling to
// 5 s while it keeps failing, and says so in #conn.
async function runStream(path, conn, onFrame, signal) {
  let base = 1000;
  let delay = base;
  let first = true;
  while (!signal.aborted) {
    setConn(conn, first ? "connecting" : "reconnecting", first ? "Connecting…" : "Reconnecting…");
    first = false;
    try {
      const resp = await api(path, { signal, headers: { Accept: "text/event-stream" } });
      if (!resp.ok || !resp.body) {
        // Over the viewer limit the server says when to come back (within
        // the 5 s the page waits at most).
        const after = Number(resp.headers.get("Retry-After"));
        if (after > 0) delay = Math.min(5000, Math.max(delay, after * 1000));
        // A refused request (bad range, a dashboard gone or not shared)
        // fails the same way again: say so instead of retrying.
        if ([400, 403, 404].includes(resp.status)) {
          setConn(conn, "error", `The live stream was refused (HTTP ${resp.status})`);
          return;
        }
        throw new Error(`HTTP ${resp.status}`);
      }
      await readEvents(resp.body, signal, (ev) => {
        if (ev.retry) base = Math.min(5000, Math.max(250, ev.retry));
        if (!ev.data || (ev.event !== "full" && ev.event !== "delta")) return;
        let frame;
        try {
          frame = JSON.parse(ev.data);
        } catch {
          return; // a torn or foreign event: skip it, the next full repairs
        }
        onFrame(ev.event, frame);
        if (ev.event === "full") {
          setConn(conn, "live", "Live");
          delay = base;
        }
      });
    } catch (e) {
      if (e instanceof Unauthorized) {
        setConn(conn, "error", "Sign-in needed");
        return; // the token form starts the page again
      }
      if (signal.aborted) return;
    }
    if (signal.aborted) return;
    setConn(conn, "reconnecting", "Reconnecting…");
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(5000, delay * 2);
  }
}

// ---- routing ------------------------------------------------------------

async function start() {
  // Forget the dashboard shown before (start runs again after sign-in).
  stream?.abort();
  resized?.disconnect();
  state = null;
  onVisibility = () => {};
  const m = location.pathname.match(/^\/dashboards\/d\/([^/]+)\/?$/);
  try {
    if (m) await showDashboard(decodeURIComponent(m[1]));
    else {
      controls.replaceChildren();
      await showList();
    }
  } catch (e) {
    if (e instanceof Unauthorized) return;
    console.error(e);
    main.replaceChildren(el("p", { class: "problem" }, `The page could not load: ${e.message}`));
  }
}

start();
