// localtrace UI: the little behaviour the server-rendered pages need.
// Values from the store are only ever put in the page as text (textContent, attributes) or
// arrive as HTML the server rendered with autoescaping; nothing here builds HTML from data.
"use strict";

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function banner(message) {
    return el("div", { class: "banner error", role: "alert" }, el("strong", { text: message }));
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (e) { /* not JSON */ }
    return `${response.status} ${response.statusText}`;
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined) return "";
    if (s < 0.01) return (s * 1000).toFixed(1) + "ms";
    if (s < 1) return Math.round(s * 1000) + "ms";
    if (s < 60) return s.toFixed(2) + "s";
    const m = Math.floor(s / 60);
    return `${m}m${String(Math.round(s - m * 60)).padStart(2, "0")}s`;
  }

  // -- partials: server-rendered (escaped) HTML fetched into a placeholder ----------------
  async function loadPartial(node, url) {
    const response = await fetch(url, { headers: { accept: "text/html" }, credentials: "same-origin" });
    const html = await response.text();
    node.innerHTML = html; // rendered by the server with autoescaping
    node.dataset.loaded = "true";
    node.dispatchEvent(new CustomEvent("partial-loaded", { bubbles: true }));
    return response.ok;
  }

  function initPartials() {
    for (const node of $$("[data-partial-src]")) loadPartial(node, node.dataset.partialSrc);
  }

  // -- the runs table: rows drawn from the page's data request (/ui/api/projects/{id}/runs) ----
  const PREVIEW_CHARS = 80;

  // What _view.preview writes, from the text the server cut (_view.clip): whitespace runs
  // collapsed, at most PREVIEW_CHARS characters (code points), "…" when cut.
  function previewText(text) {
    const words = String(text || "").split(/\s+/).filter(Boolean).join(" ");
    const chars = Array.from(words);
    return chars.length <= PREVIEW_CHARS ? words : chars.slice(0, PREVIEW_CHARS - 1).join("") + "…";
  }

  // One row of _view.table_rows (its places are _view.ROW_FIELDS).
  function runRow(row, allRuns) {
    const [id, traceId, name, runType, status, iso, latency, tokens, cost, input, output, failed, tags, feedback] = row;
    const href = `/ui/traces/${encodeURIComponent(traceId)}?run=${encodeURIComponent(id)}`;
    const nameCell = el("td", { class: "name-cell" }, el("a", { href, text: name }));
    if (allRuns) nameCell.append(" ", el("span", { class: `type type-${runType}`, text: runType }));
    return el(
      "tr",
      { "data-href": href, "data-id": id, "data-start": iso, "data-status": status, class: `status-${status}` },
      el("td", { class: "pick" }, el("input", { type: "checkbox", class: "pick-box", value: id, "aria-label": "pick for comparison" })),
      nameCell,
      el("td", null, el("span", { class: `status ${status}`, text: status })),
      el("td", { class: "nowrap" }, el("time", { datetime: iso, text: `${iso.slice(5, 10)} ${iso.slice(11, 19)}` })),
      el("td", { class: "num", text: latency }),
      el("td", { class: "num", text: tokens }),
      el("td", { class: "num", text: cost }),
      el("td", { class: "preview", text: previewText(input) }),
      el("td", { class: failed ? "preview bad" : "preview", text: previewText(output) }),
      el("td", null, ...tags.map((t) => el("span", { class: "chip", text: t }))),
      el("td", null, ...feedback.map(([key, text]) => el("span", { class: "chip", text: `${key} ${text}` }))),
    );
  }

  // Fetches the page of runs the listing's view names (its data request) and draws it: rows,
  // count, page links. On a refresh (live updates) rows not shown before are marked fresh and
  // the picked and current rows stay so; a failed refresh keeps what is shown.
  async function loadListing(section, refresh) {
    const table = $("table.runs", section);
    let data = null;
    let response;
    try {
      response = await fetch(section.dataset.rowsSrc, { credentials: "same-origin" });
      data = await response.json();
    } catch (e) { /* the server may be restarting, or the answer is not JSON */ }
    if (!response || !response.ok || !data || !data.rows) {
      if (refresh) return false;
      const message = data && data.error ? data.error.message : "The runs could not be read; reload to try again.";
      $(".listing-error", section).replaceChildren(banner(message));
      table.hidden = true;
      section.dataset.loaded = "error";
      return false;
    }
    const before = new Set($$("tr[data-id]", section).map((r) => r.dataset.id));
    const picked = new Set($$(".pick-box", section).filter((b) => b.checked).map((b) => b.value));
    const current = $("tr.current", section);
    const allRuns = table.hasAttribute("data-all-runs");
    const rows = data.rows.map((r) => runRow(r, allRuns));
    for (const row of rows) {
      if (refresh && !before.has(row.dataset.id)) row.classList.add("fresh");
      if (current && row.dataset.id === current.dataset.id) row.classList.add("current");
      const box = $(".pick-box", row);
      if (picked.has(box.value)) box.checked = true;
    }
    $("tbody", table).replaceChildren(...rows);
    table.hidden = !rows.length;
    $("p.empty", section).hidden = rows.length > 0;
    $(".row-count", section).textContent = rows.length ? ` · ${rows.length} shown` : "";
    for (const [rel, link] of [["prev", data.prev], ["next", data.next]]) {
      const a = $(`a[rel=${rel}]`, section);
      a.hidden = !link;
      if (link) a.href = `?${link}`; else a.removeAttribute("href");
    }
    section.dataset.renderedAt = data.rendered_at;
    section.dataset.loaded = "true";
    updateCompare();
    return true;
  }

  // -- keyboard navigation in tables and lists ----------------------------------------------
  function navRows() {
    const list = $("[data-nav]");
    return list ? $$("[data-href]", list) : [];
  }

  function moveCurrent(step) {
    const rows = navRows();
    if (!rows.length) return;
    let index = rows.findIndex((r) => r.classList.contains("current"));
    if (index >= 0) rows[index].classList.remove("current");
    index = index < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, index + step));
    rows[index].classList.add("current");
    rows[index].scrollIntoView({ block: "nearest" });
  }

  // Rows of a [data-nav] table open on click (but not when text is selected or a control is
  // clicked); two picked runs are compared. Delegated, so rows drawn later need nothing.
  function updateCompare() {
    const compare = $("#compare-button");
    if (!compare) return;
    const picked = $$(".pick-box").filter((b) => b.checked);
    compare.disabled = picked.length !== 2;
    compare.textContent = picked.length === 2 ? "Compare the two" : `Compare selected (${picked.length}/2)`;
  }

  document.addEventListener("click", (event) => {
    const compare = event.target.closest("#compare-button");
    if (compare) {
      const [a, b] = $$(".pick-box").filter((x) => x.checked).map((x) => x.value);
      if (a && b) location.href = `/ui/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
      return;
    }
    const row = event.target.closest("[data-nav] [data-href]");
    if (!row || event.target.closest("a, button, input, label, select, textarea")) return;
    if (window.getSelection && String(window.getSelection())) return;
    location.href = row.dataset.href;
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches(".pick-box")) updateCompare();
  });

  function typing(event) {
    const t = event.target;
    return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
  }

  // Enter or Space on a focused link or button is that control's (Tab reaches it), not the row's.
  function activating(event) {
    return (event.key === "Enter" || event.key === " ") && event.target.closest
      && event.target.closest("a[href], button, summary");
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    // an open dialog (the key list) has the keys: Esc closes it, nothing moves behind it
    if ($("dialog[open]")) return;
    if (typing(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (activating(event)) return;
    if (trace && trace.onKey(event)) { event.preventDefault(); return; }
    if (event.key === "j") { moveCurrent(1); event.preventDefault(); }
    else if (event.key === "k") { moveCurrent(-1); event.preventDefault(); }
    else if (event.key === "Enter") {
      const current = $("[data-nav] .current");
      if (current) { location.href = current.dataset.href; event.preventDefault(); }
    } else if (event.key === "/") {
      const input = $("#filter-input");
      if (input) { input.focus(); event.preventDefault(); }
    } else if (event.key === "?") {
      $("#help").showModal();
    } else if (event.key === "Escape") {
      const current = $("[data-nav] .current");
      if (current) current.classList.remove("current");
    }
  });

  // -- run detail: copy, feedback, close ------------------------------------------------------
  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      const area = el("textarea", {}, text);
      document.body.append(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      return ok;
    }
  }

  async function sendFeedback(form) {
    const data = Object.fromEntries(new FormData(form).entries());
    const feedbackId = data.feedback_id;
    delete data.feedback_id;
    const runId = form.dataset.runId;
    const url = feedbackId ? `/ui/api/feedback/${feedbackId}` : `/ui/api/runs/${runId}/feedback`;
    const response = await fetch(url, {
      method: feedbackId ? "PATCH" : "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(data),
      credentials: "same-origin",
    });
    if (!response.ok) {
      $(".form-error", form).textContent = await errorText(response);
      return;
    }
    await reloadDetail(runId);
  }

  async function reloadDetail(runId) {
    const pane = $("#detail");
    if (pane) await loadPartial(pane, `/ui/partials/runs/${runId}`);
    else location.reload();
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest(".feedback-form");
    if (!form) return;
    event.preventDefault();
    sendFeedback(form);
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action], [data-copy-target]");
    if (!button) return;
    if (button.dataset.copyTarget) {
      const source = button.closest(".payload").querySelector(".copy-source");
      const ok = await copyText(source.value);
      button.textContent = ok ? "copied" : "copy failed";
      setTimeout(() => { button.textContent = "copy JSON"; }, 1500);
      return;
    }
    const action = button.dataset.action;
    if (action === "help") { event.preventDefault(); $("#help").showModal(); }
    else if (action === "close-detail" && trace) trace.closeDetail();
    else if (action === "edit-feedback") {
      const item = button.closest("[data-feedback-id]");
      const form = $(".feedback-form", button.closest(".feedback"));
      form.elements.feedback_id.value = item.dataset.feedbackId;
      form.elements.key.value = button.dataset.key;
      form.elements.key.readOnly = true;
      form.elements.score.value = button.dataset.score;
      form.elements.value.value = button.dataset.value;
      form.elements.comment.value = button.dataset.comment;
      form.querySelector("button[type=submit]").textContent = "Update feedback";
      form.elements.score.focus();
    } else if (action === "delete-feedback") {
      const item = button.closest("[data-feedback-id]");
      const runId = button.closest(".run-detail").dataset.runId;
      const response = await fetch(`/ui/api/feedback/${item.dataset.feedbackId}`, { method: "DELETE", credentials: "same-origin" });
      if (!response.ok) { item.append(banner(await errorText(response))); return; }
      await reloadDetail(runId);
    }
  });

  // -- live updates: poll a cheap "what changed" route while the page is visible ---------------
  // No server push: runs written by another process are only seen by reading the file, so the
  // browser asks every few seconds; each answer costs a few indexed rows. Paused while the tab
  // is hidden, and by the Live toggle (remembered in localStorage).
  const LIVE_EVERY_MS = 3000;
  const LIVE_KEY = "localtrace-live";
  const live = { on: true, timer: null, busy: false, check: null, checks: 0 };
  try { live.on = localStorage.getItem(LIVE_KEY) !== "off"; } catch (e) { /* storage blocked */ }

  function syncLive() {
    const state = !live.on ? "paused" : document.hidden ? "hidden" : "live";
    for (const button of $$("[data-action=live]")) {
      button.setAttribute("aria-pressed", String(live.on));
      button.classList.toggle("paused", !live.on);
      button.textContent = live.on ? "Live" : "Paused";
      button.title = live.on ? "New runs appear as they arrive (click to pause)" : "Paused (click to show new runs as they arrive)";
    }
    document.body.dataset.live = state;
  }

  function scheduleLive() {
    clearTimeout(live.timer);
    live.timer = null;
    if (live.check && live.on && !document.hidden) live.timer = setTimeout(liveTick, LIVE_EVERY_MS);
    syncLive();
  }

  async function liveTick() {
    if (live.busy || !live.check) return;
    live.busy = true;
    try {
      if (live.on && !document.hidden) await live.check();
    } catch (e) {
      /* the server may be restarting: the next tick asks again */
    } finally {
      live.busy = false;
      live.checks += 1;
      document.body.dataset.liveChecks = String(live.checks);
      scheduleLive();
    }
  }

  function startLive(check) {
    const first = live.check === null;
    live.check = check;
    if (first) {
      document.addEventListener("visibilitychange", () => {
        syncLive();
        if (document.hidden) scheduleLive(); else liveTick();
      });
      document.addEventListener("click", (event) => {
        if (!event.target.closest("[data-action=live]")) return;
        live.on = !live.on;
        try { localStorage.setItem(LIVE_KEY, live.on ? "on" : "off"); } catch (e) { /* storage blocked */ }
        if (live.on) liveTick(); else scheduleLive();
      });
    }
    scheduleLive();
  }

  // The runs table: rows of this view started after its newest row, and its pending rows.
  async function checkRuns() {
    const section = $("#listing");
    if (!section || !section.dataset.liveSrc) return;
    const rows = $$("tr[data-id]", section);
    const firstPage = section.hasAttribute("data-first-page");
    const url = new URL(section.dataset.liveSrc, location.href);
    let after = section.dataset.renderedAt || "";
    let seen = [];
    if (firstPage) {
      after = rows.reduce((newest, r) => (r.dataset.start > newest ? r.dataset.start : newest), "");
      seen = rows.filter((r) => r.dataset.start === after).map((r) => r.dataset.id);
    }
    const pending = rows.filter((r) => r.dataset.status === "pending").map((r) => r.dataset.id);
    url.searchParams.set("after", after);
    url.searchParams.set("seen", seen.join(","));
    url.searchParams.set("pending", pending.join(","));
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const changes = await response.json();
    if ((firstPage && changes.new) || changes.finished.length) await loadListing(section, true);
    if (!firstPage && changes.new) {
      const note = $("#live-note");
      const count = `${changes.new}${changes.more ? "+" : ""}`;
      note.replaceChildren(`${count} new since this page was loaded · `, el("a", { href: section.dataset.newestHref }, "show the newest"));
    }
  }

  // The threads page (its first page): when traces arrived since it was drawn, the page is
  // fetched again and its listing swapped in (rendered by the server with autoescaping;
  // parsed, never run). Threads not shown before flash.
  async function checkThreads() {
    const section = $("#threads-listing");
    if (!section || !section.dataset.liveSrc) return;
    const url = new URL(section.dataset.liveSrc, location.href);
    url.searchParams.set("after", section.dataset.renderedAt || "");
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const changes = await response.json();
    if (!changes.new) return;
    const page = await fetch(location.href, { headers: { accept: "text/html" }, credentials: "same-origin" });
    if (!page.ok) return; // keep what is shown; the next tick asks again
    const doc = new DOMParser().parseFromString(await page.text(), "text/html");
    const fresh = doc.getElementById("threads-listing");
    if (!fresh) return;
    const before = new Set($$("tr[data-href]", section).map((r) => r.dataset.href));
    const current = $("tr.current", section);
    for (const row of $$("tr[data-href]", fresh)) {
      if (!before.has(row.dataset.href)) row.classList.add("fresh");
      if (current && row.dataset.href === current.dataset.href) row.classList.add("current");
    }
    section.replaceWith(document.adoptNode(fresh));
    syncLive();
  }

  // -- trace view: virtualised tree + waterfall ------------------------------------------------
  const ROW = 24;
  const COLLAPSE_DEPTH = 3; // deeper levels start collapsed
  const DEEP = 8; // levels indented in full; deeper rows show their depth
  let trace = null;

  class TraceView {
    constructor(root) {
      this.root = root;
      this.scroll = $("#tree-scroll");
      this.spacer = $("#tree-spacer");
      this.rowsNode = $("#tree-rows");
      this.detail = $("#detail");
      this.selected = -1;
      this.visible = [];
      this.rendered = "";
    }

    async fetchRows() {
      const response = await fetch(`/ui/api/traces/${this.root.dataset.traceId}`, { credentials: "same-origin" });
      if (!response.ok) { this.rowsNode.replaceChildren(banner(await errorText(response))); return false; }
      const data = await response.json();
      const cols = Object.fromEntries(data.columns.map((c, i) => [c, i]));
      this.rows = data.rows;
      this.c = cols;
      this.duration = Math.max(data.duration_ms || 0, 0.001);
      const n = this.rows.length;
      this.end = new Int32Array(n);
      for (let i = n - 1; i >= 0; i--) {
        if (this.end[i] < i + 1) this.end[i] = i + 1;
        const p = this.rows[i][cols.parent];
        if (p >= 0 && this.end[p] < this.end[i]) this.end[p] = this.end[i];
      }
      this.index = new Map(this.rows.map((r, i) => [r[cols.id], i]));
      // the same three figures the live check answers: rows drawn (a placeholder for a root
      // that never arrived included), those pending, and whether the root itself is stored
      this.stamp = {
        runs: n,
        pending: this.rows.filter((r) => r[cols.status] === "pending").length,
        root: !data.placeholder,
      };
      const stored = n - (data.placeholder ? 1 : 0);
      $("#tree-count").textContent = `${stored.toLocaleString()} run${stored === 1 ? "" : "s"}` +
        (data.placeholder ? " (root not arrived)" : "");
      return true;
    }

    async load() {
      if (!(await this.fetchRows())) return;
      const n = this.rows.length, cols = this.c;
      const depthLimit = n > 2000 ? 2 : COLLAPSE_DEPTH;
      this.open = new Uint8Array(n);
      for (let i = 0; i < n; i++) this.open[i] = this.rows[i][cols.depth] < depthLimit ? 1 : 0;
      const wanted = this.index.get(this.root.dataset.selected);
      this.rebuild();
      this.scroll.addEventListener("scroll", () => this.paint());
      window.addEventListener("resize", () => { this.rendered = ""; this.paint(); });
      this.rowsNode.addEventListener("click", (event) => this.onClick(event));
      this.select(wanted === undefined ? 0 : wanted, true);
      this.root.dataset.ready = "true";
      startLive(() => this.check());
    }

    // Live: ask how many runs the trace has and how many are pending; redraw when that moved.
    async check() {
      const response = await fetch(`/ui/api/traces/${this.root.dataset.traceId}/changes`, { credentials: "same-origin" });
      if (!response.ok) return;
      const now = await response.json();
      if (now.runs === this.stamp.runs && now.pending === this.stamp.pending && now.root === this.stamp.root) return;
      await this.reload();
      this.stamp = now; // what the server said, even if the tree shows a different count
    }

    async reload() {
      const c = this.c;
      const known = new Map(this.rows.map((r, i) => [r[c.id], this.open[i]]));
      const selectedId = this.selected >= 0 ? this.rows[this.selected][c.id] : null;
      if (!(await this.fetchRows())) return;
      const n = this.rows.length;
      const depthLimit = n > 2000 ? 2 : COLLAPSE_DEPTH;
      this.open = new Uint8Array(n);
      this.fresh = new Set();
      for (let i = 0; i < n; i++) {
        const id = this.rows[i][c.id];
        if (known.has(id)) this.open[i] = known.get(id);
        else { this.open[i] = this.rows[i][c.depth] < depthLimit ? 1 : 0; this.fresh.add(id); }
      }
      const kept = selectedId === null ? undefined : this.index.get(selectedId);
      this.selected = kept === undefined ? 0 : kept;
      this.rebuild();
      this.root.dataset.version = String(Number(this.root.dataset.version || 0) + 1);
    }

    rebuild() {
      const vis = [];
      const n = this.rows.length;
      for (let i = 0; i < n;) {
        vis.push(i);
        i = this.open[i] ? i + 1 : this.end[i];
      }
      this.visible = vis;
      this.position = new Map(vis.map((row, pos) => [row, pos]));
      this.spacer.style.height = `${vis.length * ROW}px`;
      this.rendered = "";
      this.paint();
    }

    paint() {
      const top = this.scroll.scrollTop;
      const height = this.scroll.clientHeight || 600;
      const first = Math.max(0, Math.floor(top / ROW) - 10);
      const last = Math.min(this.visible.length, Math.ceil((top + height) / ROW) + 10);
      const key = `${first}:${last}:${this.selected}`;
      if (key === this.rendered) return;
      this.rendered = key;
      const nodes = [];
      for (let pos = first; pos < last; pos++) nodes.push(this.rowNode(this.visible[pos], pos));
      this.rowsNode.replaceChildren(...nodes);
    }

    rowNode(i, pos) {
      const r = this.rows[i], c = this.c;
      const hasKids = r[c.children] > 0;
      const toggle = el("span", { class: "toggle", "data-toggle": hasKids ? "1" : null },
        hasKids ? (this.open[i] ? "▾" : "▸") : "");
      const depth = r[c.depth];
      const name = el("span", { class: "tree-cell" },
        depth > DEEP ? el("span", { class: "depth", title: `depth ${depth}` }, String(depth)) : null,
        toggle,
        el("span", { class: `type type-${r[c.run_type]}` }, r[c.run_type]),
        " ",
        el("span", { class: "name" }, r[c.name]),
        r[c.repair] ? el("span", { class: "repair", title: r[c.repair] }, " ⚠ repaired") : null,
        hasKids && !this.open[i] ? el("span", { class: "muted small" }, ` +${(this.end[i] - i - 1).toLocaleString()}`) : null);
      // 14 px a level down to DEEP, then 3 px a level, and never more than 40% of the cell:
      // a 60-level trace keeps its names in view (deeper rows say their depth)
      const indent = Math.min(depth, DEEP) * 14 + Math.max(0, depth - DEEP) * 3;
      name.style.paddingLeft = `min(${indent}px, 40%)`;
      const start = r[c.start_ms] || 0;
      const end = r[c.end_ms] === null ? this.duration : r[c.end_ms];
      const bar = el("span", { class: `bar type-${r[c.run_type]}${r[c.status] === "error" ? " bar-error" : ""}${r[c.end_ms] === null ? " bar-running" : ""}` });
      bar.style.left = `${(100 * start) / this.duration}%`;
      bar.style.width = `${Math.max(0.2, (100 * (end - start)) / this.duration)}%`;
      const lane = el("span", { class: "lane" }, bar);
      if (r[c.first_token_ms] !== null && r[c.first_token_ms] !== undefined) {
        const mark = el("span", { class: "first-token", title: "first token" });
        mark.style.left = `${(100 * r[c.first_token_ms]) / this.duration}%`;
        lane.append(mark);
      }
      const latency = r[c.end_ms] === null ? "running" : fmtSeconds((end - start) / 1000);
      const row = el("div", {
        class: `tree-row${i === this.selected ? " selected" : ""}${r[c.status] === "error" ? " status-error" : ""}${this.fresh && this.fresh.has(r[c.id]) ? " fresh" : ""}`,
        role: "treeitem",
        "aria-expanded": hasKids ? String(!!this.open[i]) : null,
        "aria-selected": String(i === this.selected),
        "data-index": i,
        "data-run-id": r[c.id],
      }, name, lane, el("span", { class: "lat num" }, latency));
      row.style.top = `${pos * ROW}px`;
      return row;
    }

    onClick(event) {
      const row = event.target.closest(".tree-row");
      if (!row) return;
      const i = Number(row.dataset.index);
      if (event.target.closest("[data-toggle]")) { this.toggle(i); return; }
      this.select(i, false);
      // in a narrow window the detail is stacked under the tree, out of view: a click (not
      // j/k, which keep the reader in the tree) brings it up
      const below = this.detail.getBoundingClientRect().top;
      if (below >= this.scroll.getBoundingClientRect().bottom && below > window.innerHeight / 2) {
        this.detail.addEventListener("partial-loaded", () => this.detail.scrollIntoView({ block: "start" }), { once: true });
      }
    }

    toggle(i, value) {
      if (this.rows[i][this.c.children] === 0) return;
      this.open[i] = value === undefined ? (this.open[i] ? 0 : 1) : value;
      this.rebuild();
    }

    setAll(value) {
      for (let i = 0; i < this.open.length; i++) this.open[i] = value || this.rows[i][this.c.depth] === 0 ? 1 : 0;
      this.rebuild();
    }

    reveal(i) {
      let changed = false;
      for (let p = this.rows[i][this.c.parent]; p >= 0; p = this.rows[p][this.c.parent]) {
        if (!this.open[p]) { this.open[p] = 1; changed = true; }
      }
      if (changed) this.rebuild();
    }

    select(i, scroll) {
      if (i < 0 || i >= this.rows.length) return;
      this.reveal(i);
      this.selected = i;
      this.rendered = "";
      const pos = this.position.get(i);
      if (scroll || pos * ROW < this.scroll.scrollTop || (pos + 1) * ROW > this.scroll.scrollTop + this.scroll.clientHeight) {
        this.scroll.scrollTop = Math.max(0, pos * ROW - this.scroll.clientHeight / 3);
      }
      this.paint();
      const id = this.rows[i][this.c.id];
      const url = new URL(location.href);
      url.searchParams.set("run", id);
      history.replaceState(null, "", url);
      clearTimeout(this.pending);
      this.pending = setTimeout(() => loadPartial(this.detail, `/ui/partials/runs/${id}`), 60);
    }

    closeDetail() {
      this.detail.replaceChildren(el("p", { class: "muted" }, "Select a run to see its inputs, outputs and feedback."));
    }

    onKey(event) {
      if (this.selected < 0) return false;
      const pos = this.position.get(this.selected);
      const i = this.selected;
      switch (event.key) {
        case "j": case "ArrowDown":
          if (pos + 1 < this.visible.length) this.select(this.visible[pos + 1]);
          return true;
        case "k": case "ArrowUp":
          if (pos > 0) this.select(this.visible[pos - 1]);
          return true;
        case "Enter":
          this.toggle(i);
          return true;
        case "ArrowRight": case "l":
          this.toggle(i, 1);
          return true;
        case "ArrowLeft": case "h":
          if (this.open[i] && this.rows[i][this.c.children]) this.toggle(i, 0);
          else if (this.rows[i][this.c.parent] >= 0) this.select(this.rows[i][this.c.parent]);
          return true;
        case "Escape":
          this.closeDetail();
          return true;
        default:
          return false;
      }
    }
  }

  // -- dashboard: charts drawn here from JSON (uPlot) -----------------------------------------
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948"];

  function chart(container, title, times, series, opts) {
    const box = el("figure", { class: "chart" }, el("figcaption", {}, title));
    container.append(box);
    const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null && v !== undefined).length, 0);
    box.dataset.points = String(points);
    if (!points) { box.append(el("p", { class: "muted small" }, "no data in this window")); return; }
    const style = getComputedStyle(document.body);
    const fg = style.getPropertyValue("--muted").trim() || "#888";
    const grid = style.getPropertyValue("--line").trim() || "#ddd";
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const width = Math.max(300, box.clientWidth - 8);
    const plot = new window.uPlot({
      width,
      height: 150,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: opts && opts.range ? { y: { range: opts.range } } : undefined,
      hooks: { draw: [(u) => { box.dataset.yMax = String(u.scales.y.max); }] },
      axes: [axis, Object.assign({ values: opts && opts.format ? (u, ticks) => {
        const labels = ticks.map(opts.format);
        box.dataset.yLabels = labels.join("|"); // the axis as read (it is drawn on a canvas)
        return labels;
      } : undefined, size: 70 }, axis)],
      series: [{}].concat(series.map((s, k) => ({
        label: s.label,
        stroke: s.color || PALETTE[k % PALETTE.length],
        width: 1.5,
        fill: opts && opts.fill ? (s.color || PALETTE[k % PALETTE.length]) + "22" : undefined,
        value: opts && opts.format ? (u, v) => (v === null || v === undefined ? "–" : opts.format(v)) : undefined,
        spanGaps: false,
        points: { show: true, size: 4 },
      }))),
    }, [times].concat(series.map((s) => s.values)), box);
    return plot;
  }

  async function fetchPart(node, part) {
    const url = new URL(node.dataset.src, location.href);
    url.searchParams.set("part", part);
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(await errorText(response));
    return response.json();
  }

  async function initDashboard(node) {
    // The overall series first (one query); breakdowns and feedback follow without holding it up.
    const later = [fetchPart(node, "breakdowns"), fetchPart(node, "feedback")];
    let data;
    try { data = await fetchPart(node, "series"); } catch (e) { node.replaceChildren(banner(e.message)); return; }
    node.replaceChildren();
    if (!window.uPlot) { node.append(banner("the chart library did not load")); return; }
    const t = data.times;
    const o = data.overall || { runs: [], errors: [], error_rate: [], latency_p50: [], latency_p99: [], tokens: [], cost: [] };
    // zero reads "0%" and "$0" beside "20%" and "$0.0010" (not "0.0%", "$0.0")
    const pct = (v) => (v === 0 ? "0%" : (v * 100).toFixed(v < 0.1 ? 1 : 0) + "%");
    chart(node, "Traces", t, [{ label: "traces", values: o.runs }, { label: "errors", values: o.errors, color: "#e15759" }], { fill: true });
    // a fraction: 0 to 100 % (uPlot's own axis for all-zero values would read up to 10000 %)
    const rateRange = (u, min, max) => [0, max > 0 ? Math.min(1, max * 1.1) : 1];
    chart(node, "Error rate", t, [{ label: "error rate", values: o.error_rate, color: "#e15759" }], { format: pct, range: rateRange });
    chart(node, "Latency", t, [{ label: "p50", values: o.latency_p50 }, { label: "p99", values: o.latency_p99 }], { format: fmtSeconds });
    chart(node, "Tokens", t, [{ label: "tokens", values: o.tokens }], { fill: true });
    chart(node, "Cost (USD)", t, [{ label: "cost", values: o.cost }], { format: (v) => (v === 0 ? "$0" : "$" + (v < 1 ? v.toPrecision(2) : v.toFixed(2))) });
    const titles = { run_type: "Runs by run type", name: "Traces by name (top 5)", model: "Runs by model (top 5)", tag: "Traces by tag (top 5)" };
    const slots = {};
    for (const key of ["run_type", "name", "model", "tag", "feedback"]) {
      slots[key] = el("div", { class: "chart-slot" }, el("figure", { class: "chart" }, el("figcaption", {}, titles[key] || "Feedback average"), el("p", { class: "muted small" }, "loading…")));
      node.append(slots[key]);
    }
    const [breakdowns, feedback] = await Promise.allSettled(later);
    if (breakdowns.status === "fulfilled") {
      for (const [key, groups] of Object.entries(breakdowns.value.breakdowns)) {
        slots[key].replaceChildren();
        chart(slots[key], titles[key] || key, breakdowns.value.times, groups.map((g) => ({ label: String(g.group), values: g.runs })));
      }
    } else {
      for (const key of ["run_type", "name", "model", "tag"]) slots[key].replaceChildren(banner(breakdowns.reason.message));
    }
    slots.feedback.replaceChildren();
    if (feedback.status === "fulfilled") {
      const f = feedback.value;
      chart(slots.feedback, "Feedback average", f.times, f.feedback.map((x) => ({ label: x.key, values: x.avg })), { format: (v) => v.toFixed(2) });
    } else {
      slots.feedback.append(banner(feedback.reason.message));
    }
    node.dataset.ready = "true";
  }

  // -- pinned run for "compare with…" ------------------------------------------------------
  function initCompareLinks() {
    document.addEventListener("partial-loaded", () => {
      const detail = $(".run-detail");
      if (!detail) return;
      const pinned = sessionStorage.getItem("localtrace-pinned");
      const link = detail.querySelector("a[href^='/ui/compare?a=']");
      if (!link) return;
      if (pinned && pinned !== detail.dataset.runId) {
        link.textContent = "Compare with the pinned run";
        link.href = `/ui/compare?a=${encodeURIComponent(pinned)}&b=${encodeURIComponent(detail.dataset.runId)}`;
      } else {
        link.textContent = "Pin this run to compare it with another";
        link.addEventListener("click", (event) => {
          event.preventDefault();
          sessionStorage.setItem("localtrace-pinned", detail.dataset.runId);
          link.textContent = "Pinned: open another run and choose Compare";
        });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    initPartials();
    const listing = $("#listing[data-rows-src]");
    if (listing) loadListing(listing, false);
    updateCompare();
    initCompareLinks();
    if ($("#listing[data-live-src]")) startLive(checkRuns);
    if ($("#threads-listing[data-live-src]")) startLive(checkThreads);
    const traceRoot = $("#trace");
    if (traceRoot) {
      trace = new TraceView(traceRoot);
      trace.load();
      document.addEventListener("click", (event) => {
        const button = event.target.closest("[data-action]");
        if (!button) return;
        if (button.dataset.action === "expand-all") trace.setAll(1);
        if (button.dataset.action === "collapse-all") trace.setAll(0);
      });
    }
    const dash = $("#dashboard");
    if (dash) initDashboard(dash);
    const since = $("#since-select");
    if (since) since.addEventListener("change", () => since.form.requestSubmit());
  });
})();
