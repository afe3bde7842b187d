// forecourt dashboard: plain JavaScript over the admin API, no build step.
// The token is entered once and kept in sessionStorage (this tab only).
// Every value from the API is written with textContent, never as HTML.
"use strict";

const TOKEN_KEY = "forecourt.token";
const ROLES = ["viewer", "operator", "admin"];
const REFRESH_MS = 10000;
let me = null;
let timer = null;

const $ = (id) => document.getElementById(id);

function canReadEnquiries() {
  return me !== null && Array.isArray(me.grants) && me.grants.indexOf("enquiries:read") >= 0;
}

function canOperate() {
  return me !== null && ROLES.indexOf(me.role) >= ROLES.indexOf("operator");
}

async function api(method, path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(path, {
    method,
    headers: { Authorization: "Bearer " + token, Accept: "application/json" },
  });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const error = new Error(body && body.error ? body.error.message : response.statusText);
    error.status = response.status;
    error.code = body && body.error ? body.error.code : "http_" + response.status;
    throw error;
  }
  return body;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function fill(tableId, rows, render) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    render(row, tr);
    return tr;
  }));
  const empty = $(tableId + "-empty");
  if (empty) {
    empty.hidden = rows.length > 0;
    $(tableId).hidden = rows.length === 0;
  }
}

function ago(ms) {
  if (ms === null || ms === undefined) return "never";
  const minutes = Math.round((Date.now() - ms) / 60000);
  return minutes < 1 ? "just now" : minutes + " min ago";
}

function time(ms) {
  return new Date(ms).toLocaleTimeString();
}

function say(text, isError) {
  const m = $("message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}

function healthBadge(health) {
  const span = document.createElement("span");
  span.className = "badge health-" + health;
  span.textContent = health.replace("_", " ");
  return span;
}

async function act(button, method, path, done) {
  button.disabled = true;
  try {
    await api(method, path);
    say(done, false);
  } catch (e) {
    say(e.message, true);
  }
  await refresh();
}

function renderDeadLetter(job, tr) {
  tr.dataset.jobId = job.id;
  [job.id, job.platform, job.stock_id, job.kind, job.attempts].forEach((v) => tr.append(cell(v)));
  tr.append(cell("[" + (job.error_class || "?") + "] " + (job.last_error || "")));
  const actions = document.createElement("td");
  const allowed = canOperate();
  for (const [label, verb, done] of [["Retry", "retry", "re-queued"], ["Discard", "discard", "discarded"]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = verb;
    button.textContent = label;
    button.disabled = !allowed;
    button.title = allowed ? label + " dead letter " + job.id : "Needs the operator role";
    button.addEventListener("click", () =>
      act(button, "POST", "/api/dead-letters/" + job.id + "/" + verb, "Dead letter " + job.id + " " + done + "."));
    actions.append(button);
  }
  tr.append(actions);
}

// A horizontal bar chart: rows of [label, value, text]; bars scale to `max`.
// Widths are set through style properties, never through markup.
function bars(containerId, rows, max) {
  const container = $(containerId);
  if (rows.length === 0) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No data in this period.";
    container.replaceChildren(p);
    return;
  }
  container.replaceChildren(...rows.map(([label, values, text]) => {
    const row = document.createElement("div");
    row.className = "bar" + (values.length > 1 ? " pair" : "");
    row.dataset.label = label;
    const name = document.createElement("span");
    name.textContent = label;
    const tracks = document.createElement("span");
    for (const [value, kind] of values) {
      const track = document.createElement("span");
      track.className = "track";
      const fill = document.createElement("span");
      fill.className = "fill " + (kind || "");
      fill.style.width = (max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0) + "%";
      track.append(fill);
      tracks.append(track);
    }
    const figure = document.createElement("span");
    figure.className = "value";
    figure.textContent = text;
    row.append(name, tracks, figure);
    return row;
  }));
}

function percent(x) {
  return Math.round(x * 100) + "%";
}

function renderReport(report) {
  const platforms = report.platforms;
  const share = Math.max(0.0001, ...platforms.map((p) => Math.max(p.enquiry_share, p.listing_share)));
  bars("chart-share", platforms.map((p) => [
    p.platform,
    [[p.enquiry_share, "enquiries"], [p.listing_share, "listings"]],
    percent(p.enquiry_share) + " / " + percent(p.listing_share),
  ]), share);
  const categories = report.categories;
  bars("chart-categories", categories.map((c) => [c.category, [[c.enquiries]], String(c.enquiries)]),
    Math.max(0, ...categories.map((c) => c.enquiries)));
  const days = report.days_to_sell;
  bars("chart-days", days.map((d) => [d.category, [[d.median_days]], d.median_days.toFixed(0) + " d"]),
    Math.max(0, ...days.map((d) => d.median_days)));
  const byCategory = Object.entries(report.price_changes.by_category);
  bars("chart-prices", byCategory.map(([category, mean]) => [category, [[mean]], mean.toFixed(1)]),
    Math.max(0, ...byCategory.map(([, mean]) => mean)));
  const changes = report.price_changes;
  $("report-summary").textContent = report.enquiries + " enquiries (" + report.enquiries_without_vehicle +
    " about no known vehicle); " + changes.sold + " sold, " + changes.with_changes +
    " of them after a price change (mean " + changes.mean_change_percent.toFixed(1) + "%).";
}

function renderEnquiry(e, tr) {
  const buyer = e.customer || {};
  const deliveries = (e.deliveries || []).map((d) => d.target + ": " + d.state).join(", ");
  tr.append(cell(time(e.received_at)), cell(e.platform), cell(e.stock_id || ""),
    cell(e.purged_at ? "(deleted after retention)" : (buyer.name || "")),
    cell([buyer.email, buyer.phone].filter(Boolean).join(" ")), cell(deliveries || "none"));
}

async function refresh() {
  try {
    const [status, discrepancies, dead, completeness, audit, report, enquiries] = await Promise.all([
      api("GET", "/api/status"),
      api("GET", "/api/discrepancies"),
      api("GET", "/api/dead-letters"),
      api("GET", "/api/completeness"),
      api("GET", "/api/audit?limit=20"),
      api("GET", "/api/report?days=" + encodeURIComponent($("report-days").value)),
      canReadEnquiries() ? api("GET", "/api/enquiries?limit=50") : Promise.resolve(null),
    ]);
    renderReport(report);
    if (enquiries) fill("enquiries", enquiries.items, renderEnquiry);
    fill("platforms", status.platforms, (p, tr) => {
      tr.dataset.platform = p.platform;
      tr.append(cell(p.platform));
      const h = cell("");
      h.append(healthBadge(p.health));
      if (p.paused) h.append(" " + p.paused);
      tr.append(h);
      [p.published, p.pending, p.blocked, p.queued, p.dead].forEach((v) => tr.append(cell(v, "num")));
    });
    fill("sources", status.sources, (s, tr) => {
      tr.append(cell(s.source), cell(ago(s.last_success_ms)));
    });
    fill("discrepancies", discrepancies.items, (d, tr) => {
      tr.append(cell(d.stock_id), cell(d.reason), cell(d.still_listed_on.join(", ")), cell(d.removed_from.join(", ") || "none"));
    });
    fill("dead-letters", dead.items, renderDeadLetter);
    fill("completeness", completeness.platforms, (p, tr) => {
      tr.append(cell(p.platform), cell(p.advertised, "num"), cell(Math.round(p.mean * 100) + "%", "num"), cell(p.below_three_quarters, "num"));
    });
    fill("worst", completeness.worst, (w, tr) => {
      tr.append(cell(w.stock_id), cell(Math.round(w.score * 100) + "%", "num"), cell(w.missing.join(", ")));
    });
    fill("activity", audit.items, (a, tr) => {
      tr.append(cell(time(a.at)), cell(a.kind), cell(a.actor), cell(a.stock_id || ""), cell(a.platform || ""), cell(a.step || ""), cell(a.error_class || ""));
    });
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    if (e.status === 401) return signOut("The token was refused: " + e.message);
    say(e.message, true);
  }
}

function showBoard() {
  $("sign-in").hidden = true;
  $("board").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = me.name;
  $("who-role").textContent = me.role;
  document.body.dataset.role = me.role;
  $("sync-now").hidden = !canOperate();
  $("enquiries-section").hidden = !canReadEnquiries();
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  if (timer) clearInterval(timer);
  timer = null;
  $("board").hidden = true;
  $("who").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = reason || "";
  delete document.body.dataset.role;
}

async function start() {
  try {
    me = await api("GET", "/api/me");
  } catch (e) {
    return signOut(e.status === 401 ? "The token was refused: " + e.message : e.message);
  }
  showBoard();
  await refresh();
  if (!timer) timer = setInterval(refresh, REFRESH_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("report-days").addEventListener("change", () => refresh());
  $("sync-now").addEventListener("click", () =>
    act($("sync-now"), "POST", "/api/sync", "Sync started.").then(() => { $("sync-now").disabled = false; }));
  if (sessionStorage.getItem(TOKEN_KEY)) start();
});
