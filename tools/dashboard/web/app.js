// The slate dashboard: one page, routed by the URL's hash, fed by the
// dashboard's JSON API and kept live by its event stream (/api/events).
// Actions send the token (from the URL's #token=..., kept for the tab, or
// typed in) as a bearer header; without it the server refuses them.
"use strict";

const STATES = ["pending", "running", "waiting", "held", "done", "failed", "dead_lettered",
                "skipped", "cancelled"];
const page = document.getElementById("page");
let overview = null;      // the latest overview the stream sent
let route = { name: "overview", args: [], params: new URLSearchParams() };
let refreshing = false;   // a page's data is being fetched

// ---- helpers ---------------------------------------------------------

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function num(n) { return n === null || n === undefined ? "-" : Number(n).toLocaleString("en-US"); }
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  return (u ? n.toFixed(1) : n) + " " + units[u];
}
function seconds(s) {
  if (s === null || s === undefined) return "-";
  if (s < 1) return (s * 1000).toFixed(0) + " ms";
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function when(unix) { return unix ? new Date(unix * 1000).toLocaleTimeString() : "-"; }
function stateBadge(s) { return `<span class="state ${esc(s)}">${esc(s)}</span>`; }
function say(text, ok) {
  const m = document.getElementById("message");
  m.textContent = text;
  m.className = "message " + (ok ? "ok" : "error");
  m.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { m.hidden = true; }, 6000);
}

async function api(path) {
  const res = await fetch(path, { headers: { "Accept": "application/json" } });
  const body = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

function token() { return sessionStorage.getItem("slate-token") || ""; }
function askToken() {
  const t = window.prompt("The dashboard's token (printed at its start, and in its token file):",
                          token());
  if (t !== null) sessionStorage.setItem("slate-token", t.trim());
}

async function act(path, body) {
  if (!token()) askToken();
  const res = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token() },
    body: JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) {
    say(answer.error || res.statusText, false);
    if (res.status === 401) sessionStorage.removeItem("slate-token");
    return null;
  }
  say(answer.message || "done", true);
  refresh();
  return answer;
}

function progressBar(r) {
  const total = Math.max(1, r.total);
  // Widths are set by script once drawn (sizeWidths): the page's policy
  // allows no inline style.
  const part = (n, cls) => n ? `<i class="${cls}" data-w="${(100 * n / total).toFixed(2)}"></i>` : "";
  return `<div class="bar" title="${num(r.done)} done, ${num(r.running)} running of ${num(r.total)}">` +
    part(r.done, "done") + part(r.running, "running") +
    part(r.dead_lettered + r.failed + r.cancelled + r.skipped, "bad") + part(r.held, "held") + "</div>";
}

function sizeWidths() {
  page.querySelectorAll("[data-w]").forEach((e) => { e.style.width = e.dataset.w + "%"; });
}

function chart(history) {
  const pts = history.slice(-120);
  if (pts.length < 2) return `<p class="muted">collecting samples...</p>`;
  const max = Math.max(1, ...pts.map((p) => p.per_s));
  const w = 600, h = 110;
  const xy = pts.map((p, i) => [(i / (pts.length - 1)) * w, h - (p.per_s / max) * (h - 10)]);
  const line = xy.map(([x, y], i) => (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1)).join(" ");
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none">
    <path class="area" d="${line} L ${w} ${h} L 0 ${h} Z"></path><path d="${line}"></path></svg>
    <p class="muted">tasks done per second, last ${pts.length} samples; now
    <b id="rate-now">${num(Math.round(pts[pts.length - 1].per_s))}</b>/s, peak ${num(Math.round(max))}/s</p>`;
}

function pager(data, go) {
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  return `<div class="pager">
    <button type="button" data-go="${data.page - 1}" ${data.page <= 1 ? "disabled" : ""}>previous</button>
    <span>page ${num(data.page)} of ${num(pages)} (${num(data.total)})</span>
    <button type="button" data-go="${data.page + 1}" ${data.page >= pages ? "disabled" : ""}>next</button>
  </div>`;
}
function wirePager(go) {
  page.querySelectorAll("[data-go]").forEach((b) =>
    b.addEventListener("click", () => go(Number(b.dataset.go))));
}
function setParams(params) {
  const q = params.toString();
  location.hash = "#/" + route.name + (q ? "?" + q : "");
}

// ---- pages ------------------------------------------------------------

function renderOverview(o) {
  if (!o) { page.innerHTML = `<p class="muted">waiting for the first update...</p>`; return; }
  const p = o.pool;
  const counts = STATES.map((s) =>
    `<div class="count" id="count-${s}"><b>${num(p.tasks[s] || 0)}</b><span>${s.replace("_", " ")}</span></div>`).join("");
  const reqs = o.requests.map((r) => `<tr>
      <td><a href="#/tasks?request=${esc(r.id)}">${esc(r.id)}</a>${r.team ? ` <span class="muted">[${esc(r.team)}]</span>` : ""}</td>
      <td title="${esc(r.source)}">${esc(r.source.split("/").pop())}</td>
      <td class="num">${r.priority}</td>
      <td>${progressBar(r)}</td>
      <td class="num req-done">${num(r.done)} / ${num(r.total)}</td>
      <td class="num">${num(Math.round(r.throughput_per_s))}/s</td>
      <td class="num">${seconds(r.eta_s)}</td>
      <td><button type="button" class="danger" data-cancel="${esc(r.id)}">cancel</button></td></tr>`).join("");
  const segs = p.segments.map((s) => `<tr><td>${esc(s.name)}</td><td class="num">${num(s.entries)}</td>
      <td class="num">${bytes(s.bytes)}</td><td class="num">${num(s.evictions)}</td></tr>`).join("");
  const recent = o.recent.map((e) => `<tr><td>${esc(e.at)}</td><td>${esc(e.segment)}</td>
      <td>${esc(e.kind)}</td><td>${esc(e.text)}</td></tr>`).join("");
  page.innerHTML = `
    <h1>Overview</h1>
    <div class="card"><h2>Tasks by state</h2><div class="counts">${counts}</div></div>
    <div class="card"><h2>Requests in progress</h2>
      ${o.requests.length ? `<table id="requests"><thead><tr><th>request</th><th>source</th><th class="num">priority</th>
        <th>progress</th><th class="num">done</th><th class="num">rate</th><th class="num">ETA</th><th></th></tr></thead>
        <tbody>${reqs}</tbody></table>` : `<p class="muted" id="no-requests">no request is running</p>`}</div>
    <div class="grid">
      <div class="card"><h2>Throughput</h2>${chart(o.history)}</div>
      <div class="card"><h2>Pool memory</h2>
        <p>${bytes(p.data_bytes_used)} of ${bytes(p.data_bytes_total)} of entry data in use;
        ${num(p.entries)} entries in ${num(p.slot_capacity)} slots; region ${bytes(p.region_bytes)}</p>
        <table><thead><tr><th>segment</th><th class="num">entries</th><th class="num">bytes</th>
        <th class="num">evicted</th></tr></thead><tbody>${segs}</tbody></table></div>
    </div>
    <div class="card"><h2>Recent errors and conflicts</h2>
      ${o.recent.length ? `<table><tbody>${recent}</tbody></table>` : `<p class="muted">none</p>`}</div>`;
  sizeWidths();
  page.querySelectorAll("[data-cancel]").forEach((b) => b.addEventListener("click", () => {
    if (confirm(`Cancel request ${b.dataset.cancel}'s unfinished tasks?`))
      act("/api/cancel", { request: b.dataset.cancel });
  }));
}

async function renderWorkers() {
  const d = await api("/api/workers");
  const rows = d.workers.map((w) => `<tr>
      <td>${esc(w.name)}${w.leads ? ` <span class="state done">leads</span>` : ""}</td>
      <td>${esc(w.role)}${w.team ? ` <span class="muted">[${esc(w.team)}]</span>` : ""}</td>
      <td class="num">${w.pid}</td><td>${esc(w.liveness)}</td>
      <td class="num">${num(Math.round(w.heartbeat_age_ms))} ms</td>
      <td>${w.current_task ? `<a href="#/task/${w.current_task}">${w.current_task}</a>` : "-"}</td>
      <td>${esc(w.breaker)}</td><td class="num">${num(w.pending)}</td><td class="num">${num(w.running)}</td>
      <td class="num">${num(w.done)}</td><td class="num">${num(w.failed)}</td>
      <td class="num">${w.restarts === null ? "-" : num(w.restarts)}</td>
      <td class="num">${seconds(w.up_s)}</td>
      <td>${esc(w.capabilities.join(", "))}</td></tr>`).join("");
  const lead = d.lead && d.lead.term ? `<p>Lead: term ${d.lead.term}, held by <b>${esc(d.lead.holder)}</b>
      (${d.lead.alive ? "alive" : "gone"}), lease ${seconds(d.lead.expires_in_s)} left</p>` : "";
  page.innerHTML = `<h1>Workers</h1><div class="card">${lead}
    <table id="workers"><thead><tr><th>name</th><th>role</th><th class="num">pid</th><th>state</th>
    <th class="num">heartbeat</th><th>task</th><th>breaker</th><th class="num">queued</th>
    <th class="num">running</th><th class="num">done</th><th class="num">failed</th>
    <th class="num">restarts</th><th class="num">up</th><th>capabilities</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

async function renderTasks() {
  const p = route.params;
  const q = new URLSearchParams();
  for (const k of ["state", "worker", "tag", "request", "sort", "desc", "page"])
    if (p.get(k)) q.set(k, p.get(k));
  q.set("per_page", "50");
  const d = await api("/api/tasks?" + q.toString());
  const sortBy = p.get("sort") || "id";
  const head = (key, label, cls) => `<th class="sortable ${cls || ""}" data-sort="${key}">${label}${
    sortBy === key ? (p.get("desc") ? " &#9660;" : " &#9650;") : ""}</th>`;
  const rows = d.items.map((t) => `<tr class="link" data-task="${t.id}">
      <td class="num">${t.id}</td><td>${stateBadge(t.state)}</td><td>${esc(t.request)}</td>
      <td class="num">${esc(t.index)}</td><td>${esc(t.line_id)}</td><td>${esc(t.worker)}</td>
      <td class="num">${t.attempts}</td><td>${when(t.created)}</td></tr>`).join("");
  const stateOptions = ["", ...STATES].map((s) =>
    `<option value="${s}" ${p.get("state") === s ? "selected" : ""}>${s || "any state"}</option>`).join("");
  page.innerHTML = `<h1>Tasks</h1><div class="card">
    <form class="filters" id="task-filters">
      <label>state <select name="state">${stateOptions}</select></label>
      <label>worker <input name="worker" size="12" value="${esc(p.get("worker"))}"></label>
      <label>tag <input name="tag" size="12" value="${esc(p.get("tag"))}"></label>
      <label>request <input name="request" size="8" value="${esc(p.get("request"))}"></label>
      <button type="submit" class="primary">filter</button>
    </form>
    <table id="tasks"><thead><tr>${head("id", "task", "num")}${head("state", "state")}<th>request</th>
      <th class="num">line</th><th>line id</th><th>worker</th>${head("attempts", "attempts", "num")}
      ${head("created", "created")}</tr></thead><tbody>${rows}</tbody></table>
    ${d.items.length ? "" : `<p class="muted">no task matches</p>`}
    ${pager(d)}</div>`;
  page.querySelector("#task-filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(ev.target)) if (v) next.set(k, v);
    if (p.get("sort")) next.set("sort", p.get("sort"));
    if (p.get("desc")) next.set("desc", "1");
    setParams(next);
  });
  page.querySelectorAll("th[data-sort]").forEach((th) => th.addEventListener("click", () => {
    const next = new URLSearchParams(p);
    if (next.get("sort") === th.dataset.sort && !next.get("desc")) next.set("desc", "1");
    else next.delete("desc");
    next.set("sort", th.dataset.sort);
    next.delete("page");
    setParams(next);
  }));
  page.querySelectorAll("tr[data-task]").forEach((tr) =>
    tr.addEventListener("click", () => { location.hash = "#/task/" + tr.dataset.task; }));
  wirePager((n) => { const next = new URLSearchParams(p); next.set("page", n); setParams(next); });
}

function preview(p) {
  if (!p) return `<p class="muted">none</p>`;
  return `<pre>${esc(p.text)}</pre>${p.cut ? `<p class="muted">first part of ${num(p.bytes)} bytes</p>` : ""}`;
}

async function renderTask(id) {
  const t = await api("/api/tasks/" + encodeURIComponent(id));
  const history = t.history.map((r) => `<tr><td>${esc(r.kind || (r.error ? "failure" : ""))}</td>
      <td class="num">${r.attempt ?? ""}</td><td>${esc(r.agent || r.by || "")}</td>
      <td>${esc(r.error || r.reason || "")}</td></tr>`).join("");
  const taskLink = (d) => d.task ? `<a href="#/task/${d.task}">task ${d.task}</a>` : "";
  const deps = (t.dependencies || []).map((d) => `<li>line ${esc(d.line)} ${taskLink(d)}</li>`).join("");
  const dependents = (t.dependents || []).map((d) => `<li>line ${esc(d.line)} ${taskLink(d)}</li>`).join("");
  const feedback = (t.feedback || []).map((f) =>
    `<li>iteration ${f.iteration}: ${esc(f.feedback)}${f.by ? ` <span class="muted">(${esc(f.by)})</span>` : ""}</li>`).join("");
  const final = ["done", "dead_lettered", "skipped", "cancelled"].includes(t.state);
  page.innerHTML = `<h1>Task ${t.id} ${stateBadge(t.state)}</h1>
    <div class="grid"><div class="card"><dl class="facts" id="task-facts">
      <dt>request</dt><dd><a href="#/tasks?request=${esc(t.request)}">${esc(t.request)}</a></dd>
      <dt>line</dt><dd>${esc(t.index)}${t.line_id ? ` (${esc(t.line_id)})` : ""}</dd>
      <dt>attempts</dt><dd id="task-attempts">${t.attempts} (retries allowed: ${t.max_retries})</dd>
      <dt>worker</dt><dd>${esc(t.worker) || "-"}</dd>
      <dt>priority</dt><dd>${t.priority}</dd>
      <dt>requires</dt><dd>${esc(t.requires) || "-"}</dd>
      <dt>timeout</dt><dd>${t.timeout_ms ? t.timeout_ms + " ms" : "none"}</dd>
      <dt>posted</dt><dd>${when(t.created)}</dd>
      ${t.ms !== undefined ? `<dt>took</dt><dd id="task-took">${t.run_ms !== undefined
        ? `${t.queued_ms.toFixed(1)} ms queued, ${t.run_ms.toFixed(1)} ms running` : `${t.ms.toFixed(1)} ms`}</dd>` : ""}
      <dt>tags</dt><dd>${esc(t.tags.join(", "))}</dd>
      ${t.plan ? `<dt>iteration</dt><dd>${t.iteration}</dd>` : ""}
    </dl>
    ${final ? "" : `<div class="actions"><button type="button" class="danger" id="cancel-task">cancel this task</button></div>`}
    </div>
    <div class="card"><h2>History</h2>${t.history.length ? `<table id="task-history"><thead><tr><th>event</th>
      <th class="num">attempt</th><th>by</th><th>error or reason</th></tr></thead><tbody>${history}</tbody></table>`
      : `<p class="muted" id="task-history">no failure, loss or hold recorded</p>`}</div></div>
    <div class="grid"><div class="card"><h2>Payload</h2>${preview(t.payload)}</div>
      <div class="card"><h2>Result</h2>${preview(t.result)}</div></div>
    ${t.plan ? `<div class="grid"><div class="card"><h2>Depends on</h2>${deps ? `<ul>${deps}</ul>` : `<p class="muted">nothing</p>`}</div>
      <div class="card"><h2>Needed by</h2>${dependents ? `<ul>${dependents}</ul>` : `<p class="muted">nothing</p>`}</div>
      <div class="card"><h2>Feedback rounds</h2>${feedback ? `<ul>${feedback}</ul>` : `<p class="muted">none</p>`}</div></div>` : ""}`;
  const cancel = document.getElementById("cancel-task");
  if (cancel) cancel.addEventListener("click", () => act("/api/cancel", { task: String(t.id) }));
}

async function renderRecords(kind, title) {
  const n = Number(route.params.get("page") || 1);
  const d = await api(`/api/${kind}?page=${n}&per_page=50`);
  const rows = d.items.map((r) => `<tr><td class="num">${r.id}</td><td>${when(r.at)}</td>
      <td>${r.task ? `<a href="#/task/${r.task}">${r.task}</a>` : "-"}</td>
      <td>${esc(r.tags.join(", "))}</td><td><pre>${esc(r.record.text)}</pre></td></tr>`).join("");
  page.innerHTML = `<h1>${title}</h1><div class="card">
    ${d.items.length ? `<table id="${kind}"><thead><tr><th class="num">entry</th><th>at</th><th>task</th><th>tags</th>
      <th>record</th></tr></thead><tbody>${rows}</tbody></table>` : `<p class="muted">none</p>`}
    ${pager(d)}</div>`;
  wirePager((k) => setParams(new URLSearchParams({ page: k })));
}

async function renderReview() {
  const d = await api("/api/held");
  const items = d.items.map((h) => `<div class="card held" data-held="${h.task}">
      <h2>task <a href="#/task/${h.task}">${h.task}</a>, request ${esc(h.request)}, line ${h.index}
        ${h.id ? `(${esc(h.id)})` : ""}, ${h.attempts} attempts</h2>
      <p>held: ${esc(h.reason)}</p>
      ${h.errors.length ? `<pre>${esc(h.errors.map((e) => JSON.stringify(e)).join("\n"))}</pre>` : ""}
      <p class="muted">payload</p>${preview(h.payload)}
      ${h.last_result ? `<p class="muted">last result</p>${preview(h.last_result)}` : ""}
      <label class="muted">result (JSON, to accept) or feedback (to retry or reject)</label>
      <textarea></textarea>
      <div class="actions">
        <button type="button" class="primary" data-action="accept">accept with this result</button>
        <button type="button" data-action="retry">retry</button>
        <button type="button" class="danger" data-action="reject">reject</button>
      </div></div>`).join("");
  page.innerHTML = `<h1>Held for review</h1>${items || `<div class="card"><p class="muted">no task is held</p></div>`}`;
  page.querySelectorAll("[data-held]").forEach((card) => {
    card.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => {
      const text = card.querySelector("textarea").value.trim();
      const body = { task: card.dataset.held, action: b.dataset.action };
      if (b.dataset.action === "accept") {
        try { body.result = JSON.parse(text); } catch (e) { say("the result is not valid JSON", false); return; }
      } else if (text) {
        body.feedback = text;
      }
      act("/api/review", body);
    }));
  });
}

// ---- routing and the live stream -------------------------------------

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  return { name: parts[0] || "overview", args: parts.slice(1), params: new URLSearchParams(query || "") };
}

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    switch (route.name) {
      case "overview":
        if (!overview) overview = await api("/api/overview");
        renderOverview(overview);
        break;
      case "workers": await renderWorkers(); break;
      case "tasks": await renderTasks(); break;
      case "task": await renderTask(route.args[0]); break;
      case "dead-letters": await renderRecords("dead-letters", "Dead letters"); break;
      case "conflicts": await renderRecords("conflicts", "Conflicts"); break;
      case "review": await renderReview(); break;
      default: page.innerHTML = `<h1>Not found</h1><p><a href="#/overview">overview</a></p>`;
    }
  } catch (e) {
    page.innerHTML = `<h1>Cannot show this page</h1><p class="message error">${esc(e.message)}</p>`;
  } finally {
    refreshing = false;
  }
}

function onRoute() {
  const hash = location.hash;
  const m = hash.match(/^#token=([^&]+)/);
  if (m) {  // the URL the dashboard printed: keep the token, then show the overview
    sessionStorage.setItem("slate-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", "#/overview");
  }
  route = parseRoute();
  document.querySelectorAll("header nav a").forEach((a) =>
    a.classList.toggle("active", a.dataset.page === route.name));
  refresh();
}

function connect() {
  const live = document.getElementById("live");
  const events = new EventSource("/api/events");
  events.addEventListener("overview", (ev) => {
    overview = JSON.parse(ev.data);
    live.textContent = "live";
    live.className = "live on";
    document.getElementById("pool-name").textContent = overview.pool.pool;
    const held = overview.pool.tasks.held || 0;
    document.getElementById("held-count").textContent = held ? held : "";
    // Pages with forms keep their inputs: only tables are redrawn.
    if (route.name === "overview") renderOverview(overview);
    else if (route.name !== "review" && !page.contains(document.activeElement)) refresh();
  });
  events.onerror = () => { live.textContent = "reconnecting"; live.className = "live off"; };
}

document.getElementById("token-button").addEventListener("click", askToken);
window.addEventListener("hashchange", onRoute);
onRoute();
connect();
