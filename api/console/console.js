// console.js — the supplysec web console.
//
// Plain JavaScript, no framework, no build step. The page (index.html) has a
// header, a navigation bar, an alert region, a status region and <main>; this
// file fills them. Every API call goes through call() (Connect protocol, JSON,
// same origin); every failure is shown in the alert region as the API's own
// code and message. Navigation is by the URL's hash (#/o/fwd/documents ...),
// so the browser's back button works. The API key lives in sessionStorage
// only, and only for the tab's life; signing out removes it.
//
// Sections, in order:
//   1. DOM and formatting helpers
//   2. Session: the API key and who the caller is
//   3. API: call(), listAll()
//   4. Messages: the alert and status regions
//   5. Router and page frame (header, navigation)
//   6. Sign-in, home, validations (customs authorities)
//   7. Organization overview
//   8. Controlled documents: lists, one document, its revisions, its moves
//   9. Business partners
//  10. Declarations: requests in and out, our declarations, the form
//  11. Security assessments: heat map, ranked scenarios, countermeasures
//      (accept, decline)
//  12. Plans and their items (their status); incidents (close, reopen)
//  13. Readiness reports (printable)
//  14. Audit log
//  15. Start

"use strict";

// ---------------------------------------------------------------------------
// 1. DOM and formatting helpers
// ---------------------------------------------------------------------------

// el("p", {class: "x", attrs: {id: "y"}, on: {click: f}}, "text", child, ...)
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  const p = props || {};
  if (p.class) node.className = p.class;
  if (p.text !== undefined) node.textContent = p.text;
  for (const [k, v] of Object.entries(p.attrs || {})) {
    if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const [k, v] of Object.entries(p.on || {})) node.addEventListener(k, v);
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return node;
}

function link(href, text, cls) {
  return el("a", { attrs: { href }, class: cls, text });
}

function button(text, onClick, cls) {
  return el("button", { attrs: { type: "button" }, class: cls || "btn", text, on: { click: onClick } });
}

// A labelled form field: returns {wrap, input}.
let fieldSeq = 0;
function field(labelText, input, hint) {
  const id = input.id || "f" + ++fieldSeq;
  input.id = id;
  const hintNode = hint ? el("span", { class: "hint", attrs: { id: id + "-hint" }, text: hint }) : null;
  if (hintNode) input.setAttribute("aria-describedby", id + "-hint");
  const wrap = el("div", { class: "field" }, el("label", { attrs: { for: id }, text: labelText }), hintNode, input);
  return { wrap, input };
}

function textInput(attrs) {
  return el("input", { attrs: Object.assign({ type: "text", autocomplete: "off" }, attrs) });
}

function textArea(attrs) {
  return el("textarea", { attrs: Object.assign({ rows: 3 }, attrs) });
}

function select(options, attrs) {
  const s = el("select", { attrs });
  for (const o of options) s.appendChild(el("option", { attrs: { value: o.value }, text: o.label }));
  return s;
}

function section(title, ...children) {
  return el("section", { class: "panel" }, el("h2", { text: title }), children);
}

// A table row's heading with an id, for a row whose actions change it: the
// change names the id (act's focusId) and the focus comes back to the row
// once the page is drawn again. Focusable by script only.
function rowHead(id, text) {
  return el("span", { class: "row-head", attrs: { id, tabindex: "-1" }, text });
}

// A row's actions: a group named by the row's heading.
function rowActions(headId, ...children) {
  return el("div", { class: "row-actions", attrs: { role: "group", "aria-labelledby": headId } }, children);
}

// A table: columns are {label, cell(row) -> node or text, class}; the first
// column's cells are row headers. Rows for which rowClass(row) answers a
// class get it. The caption is for screen readers (the section's heading
// says it on screen) unless opts.showCaption.
function table(caption, columns, rows, opts) {
  const o = opts || {};
  if (!rows.length) return el("p", { class: "empty", text: o.empty || "None." });
  const head = el("tr", null, columns.map((c) => el("th", { attrs: { scope: "col" }, class: c.class, text: c.label })));
  const body = rows.map((r) => {
    const tr = el("tr", { class: o.rowClass ? o.rowClass(r) : undefined });
    columns.forEach((c, i) => {
      const v = c.cell(r);
      tr.appendChild(el(i === 0 ? "th" : "td", { attrs: i === 0 ? { scope: "row" } : {}, class: c.class }, v === undefined || v === "" ? "—" : v));
    });
    return tr;
  });
  return el("div", { class: "table-wrap" },
    el("table", { class: o.class || "data" },
      caption ? el("caption", { class: o.showCaption ? undefined : "visually-hidden", text: caption }) : null,
      el("thead", null, head), el("tbody", null, body)));
}

// <dl> from [[term, value], ...], skipping empty values.
function facts(pairs) {
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length)) continue;
    dl.appendChild(el("dt", { text: k }));
    dl.appendChild(el("dd", null, v));
  }
  return dl;
}

function badge(text, tone) {
  return el("span", { class: "badge badge-" + (tone || "plain"), text });
}

// Enum names as words: label("DOCUMENT_STATE_IN_REVIEW", "DOCUMENT_STATE_") -> "In review".
const WORDS = { AEO_S: "AEO-S", AEO_F: "AEO-F", AEO_C: "AEO-C", AEOC: "AEO-C", AEOS: "AEO-S", AEOF: "AEO-F",
  AEO: "AEO", CTPAT: "C-TPAT", ISO_28000: "ISO 28000", ISO_28001: "ISO 28001", ISO_20858: "ISO 20858", TAPA: "TAPA" };
function label(value, prefix) {
  if (!value) return "—";
  const rest = prefix && value.startsWith(prefix) ? value.slice(prefix.length) : value;
  if (WORDS[rest]) return WORDS[rest];
  const words = rest.toLowerCase().replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// "AEO_CRITERION_E_PREMISES" -> "E. Premises"
function aeoCriterion(value) {
  const m = /^AEO_CRITERION_([A-I])_(.*)$/.exec(value || "");
  return m ? m[1] + ". " + label(m[2]) : label(value);
}

const STATE_TONE = { DRAFT: "plain", IN_REVIEW: "warn", APPROVED: "good", SUPERSEDED: "muted" };
function docState(doc) {
  const s = (doc.state || "DOCUMENT_STATE_UNSPECIFIED").replace("DOCUMENT_STATE_", "");
  const b = badge(label(s), STATE_TONE[s]);
  b.setAttribute("data-state", s);
  return b;
}

const REQUEST_TONE = { REQUESTED: "warn", ANSWERED: "info", ACCEPTED: "good", REJECTED: "bad", EXPIRED: "bad", REVOKED: "bad" };
function requestState(r) {
  const s = (r.state || "").replace("DECLARATION_REQUEST_STATE_", "");
  const b = badge(label(s), REQUEST_TONE[s]);
  b.setAttribute("data-state", s);
  return b;
}

function fmtTime(ts) {
  return ts ? ts.slice(0, 10) + " " + ts.slice(11, 16) + " UTC" : "";
}

function fmtDate(ts) {
  return ts ? ts.slice(0, 10) : "";
}

function isPast(ts) {
  return !!ts && Date.parse(ts) < Date.now();
}

function lastSegment(name) {
  return (name || "").split("/").pop();
}

// "organizations/fwd/..." -> "fwd"
function orgIdOf(name) {
  const m = /^organizations\/([^/]+)/.exec(name || "");
  return m ? m[1] : "";
}

function num(x) {
  return x === undefined || x === null ? 0 : Number(x);
}

function score(x) {
  const n = num(x);
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

// ---------------------------------------------------------------------------
// 2. Session: the API key and who the caller is
// ---------------------------------------------------------------------------

const KEY_SLOT = "supplysec.console.apiKey";

const session = {
  key() {
    try { return sessionStorage.getItem(KEY_SLOT) || ""; } catch (e) { return ""; }
  },
  setKey(k) { sessionStorage.setItem(KEY_SLOT, k); },
  clear() {
    try { sessionStorage.removeItem(KEY_SLOT); } catch (e) { /* storage off: nothing kept */ }
    identity = null;
    orgCache.clear();
    people.clear();
    peopleLoaded.clear();
  },
};

// Who the caller is: ApiKeys.GetCaller names the key (its display name and
// role) and whom it acts for; an organization's key then reads its own
// organization, a platform administrator's lists every one.
// {key (the caller's ApiKey), orgs, home (the caller's organization, or
// null), authority (bool)}
let identity = null;
const orgCache = new Map();

async function loadIdentity() {
  if (identity) return identity;
  const me = await call("ApiKeys", "GetCaller", {});
  const key = me.apiKey || {};
  let home = null;
  let orgs;
  if (me.parent && me.parent !== "platform") {
    home = await call("Organizations", "GetOrganization", { name: me.parent });
    orgs = [home];
  } else {
    orgs = await listAll("Organizations", "ListOrganizations", {}, "organizations");
  }
  identity = { key, orgs, home, authority: !!home && home.kind === "ORGANIZATION_KIND_CUSTOMS_AUTHORITY" };
  for (const o of orgs) orgCache.set(o.name, o);
  return identity;
}

// The organization whose system a page shows (cached for the session), and
// the names of the people whose keys write in it (loadPeople).
async function subjectOrg(orgId) {
  const name = "organizations/" + orgId;
  if (!orgCache.has(name)) orgCache.set(name, await call("Organizations", "GetOrganization", { name }));
  await loadPeople(name);
  return orgCache.get(name);
}

// People are their keys' display names. An organization's ADMIN (and a
// platform administrator) may list its keys, so pages name who submitted,
// approved or wrote; anyone else sees key names, but for their own key.
const people = new Map(); // key name -> display name
const peopleLoaded = new Set(); // organizations whose keys were listed

async function loadPeople(orgName) {
  const key = identity ? identity.key : {};
  if (key.name && key.displayName) people.set(key.name, key.displayName);
  const mayList = key.role === "ROLE_PLATFORM_ADMIN" ||
    (key.role === "ROLE_ADMIN" && identity.home && identity.home.name === orgName);
  if (!mayList || peopleLoaded.has(orgName)) return;
  peopleLoaded.add(orgName);
  try {
    for (const k of await listAll("ApiKeys", "ListApiKeys", { parent: orgName }, "apiKeys")) {
      if (k.displayName) people.set(k.name, k.displayName);
    }
  } catch (e) {
    // names stay key names: nothing on the page depends on them
  }
}

// A principal (a key's name) as a person: the key's display name when known.
function personText(keyName) {
  return (keyName && people.get(keyName)) || keyName || "";
}

function person(keyName) {
  if (!keyName) return "";
  const known = people.get(keyName);
  return known ? el("span", { class: "person", attrs: { title: keyName } }, known) : keyName;
}

// A customs authority's member reading an operator's system: read only, and
// the authority's recognitions judge the partners' exemptions.
function viewingAsAuthority(orgName) {
  return !!identity && identity.authority && identity.home.name !== orgName;
}

function authorityFor(orgName) {
  return viewingAsAuthority(orgName) ? identity.home.name : "";
}

// ---------------------------------------------------------------------------
// 3. API: call(), listAll()
// ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// One call of supplysec.v1.<service>/<method> over Connect with JSON. Answers
// the response message; throws ApiError with the API's code and message.
async function call(service, method, request) {
  const headers = { "Content-Type": "application/json", "Connect-Protocol-Version": "1" };
  const key = session.key();
  if (key) headers.Authorization = "Bearer " + key;
  let resp;
  try {
    resp = await fetch("/supplysec.v1." + service + "/" + method, {
      method: "POST", headers, body: JSON.stringify(request || {}),
      credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
    });
  } catch (e) {
    throw new ApiError("unavailable", "The server cannot be reached (" + e.message + ").");
  }
  const text = await resp.text();
  let body = null;
  try { body = text ? JSON.parse(text) : {}; } catch (e) { body = null; }
  if (!resp.ok) {
    if (body && body.code) throw new ApiError(body.code, body.message || "");
    throw new ApiError("http_" + resp.status, text.trim() || resp.statusText);
  }
  if (body === null) throw new ApiError("internal", "The answer is not JSON.");
  return body;
}

// Every page of a List method (up to `max` items): the items of `field`.
async function listAll(service, method, request, field, max) {
  const limit = max || 2000;
  const out = [];
  let pageToken = "";
  do {
    const r = await call(service, method, Object.assign({}, request, { pageSize: 500, pageToken }));
    out.push(...(r[field] || []));
    pageToken = r.nextPageToken || "";
  } while (pageToken && out.length < limit);
  return out;
}

// A call whose failure is shown but does not stop the page: answers null.
async function attempt(promise) {
  try {
    return await promise;
  } catch (e) {
    showError(e);
    return null;
  }
}

// ---------------------------------------------------------------------------
// 4. Messages: the alert and status regions
// ---------------------------------------------------------------------------

function showError(err) {
  const region = document.getElementById("alert");
  const code = err instanceof ApiError ? err.code : "error";
  const p = el("p", { class: "alert-line" }, el("strong", { class: "alert-code", text: code }), " ",
    el("span", { class: "alert-message", text: err.message || String(err) }));
  region.appendChild(p);
}

function clearErrors() {
  document.getElementById("alert").replaceChildren();
}

let pendingStatus = "";
function showStatus(text) {
  document.getElementById("status").textContent = text;
}

// Run a change (a button's action); on success re-render the page with a
// status line, on failure show the API's error and leave the page as it is
// (the focus back on the button). A change made in a table's row names the
// row's heading (focusId): the focus goes back there once the page is drawn
// again, instead of to the page's h1.
async function act(btn, fn, done, focusId) {
  clearErrors();
  showStatus("");
  if (btn) btn.disabled = true;
  try {
    await fn();
  } catch (e) {
    showError(e);
    if (btn) {
      btn.disabled = false;
      btn.focus();
    }
    return;
  }
  pendingStatus = done;
  await render({ keepMessages: true, focusId });
}

// A change that needs a reason (Decline…, Reopen…): a button that opens a
// box with the reason's field and the button that makes the change, run(reason).
// Escape in the box closes it and gives the focus back to the opener.
// o: {open, label, submit, submitClass, run, done, focusId}. Answers [opener, box].
let boxSeq = 0;
function reasonBox(o) {
  const id = "reason-box-" + ++boxSeq;
  const reason = textArea({ maxlength: 2000, rows: 2 });
  const f = field(o.label, reason);
  const box = el("div", { class: "reason-box", attrs: { hidden: true, id } }, f.wrap,
    button(o.submit, (ev) => act(ev.currentTarget, () => o.run(reason.value), o.done, o.focusId), "btn btn-small " + (o.submitClass || "btn-danger")));
  const opener = button(o.open, () => {
    box.hidden = !box.hidden;
    opener.setAttribute("aria-expanded", String(!box.hidden));
    if (!box.hidden) reason.focus();
  }, "btn btn-small");
  opener.setAttribute("aria-expanded", "false");
  opener.setAttribute("aria-controls", id);
  box.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    box.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    opener.focus();
  });
  return [opener, box];
}

// ---------------------------------------------------------------------------
// 5. Router and page frame
// ---------------------------------------------------------------------------

const ORG_SECTIONS = [
  ["", "Overview"], ["documents", "Documents"], ["partners", "Partners"], ["declarations", "Declarations"],
  ["assessments", "Assessments"], ["plans", "Plans"], ["incidents", "Incidents"],
  ["readiness", "Readiness"], ["audit", "Audit log"],
];

// [pattern, view]; a view is async (root, ...captures) and fills root.
const ROUTES = [
  [/^\/signin$/, viewSignIn],
  [/^\/$/, viewHome],
  [/^\/validations$/, viewValidations],
  [/^\/o\/([a-z0-9-]+)$/, viewOverview],
  [/^\/o\/([a-z0-9-]+)\/documents$/, viewDocuments],
  [/^\/o\/([a-z0-9-]+)\/documents\/([A-Za-z]+)\/([a-z0-9-]+(?:@[0-9]+)?)$/, viewDocument],
  [/^\/o\/([a-z0-9-]+)\/partners$/, viewPartners],
  [/^\/o\/([a-z0-9-]+)\/declarations$/, viewDeclarations],
  [/^\/o\/([a-z0-9-]+)\/declarations\/new$/, viewDeclarationForm],
  [/^\/o\/([a-z0-9-]+)\/declarations\/([a-z0-9-]+)\/edit$/, viewDeclarationForm],
  [/^\/o\/([a-z0-9-]+)\/assessments$/, viewAssessments],
  [/^\/o\/([a-z0-9-]+)\/assessments\/([a-z0-9-]+(?:@[0-9]+)?)$/, viewRisk],
  [/^\/o\/([a-z0-9-]+)\/plans$/, viewPlans],
  [/^\/o\/([a-z0-9-]+)\/incidents$/, viewIncidents],
  [/^\/o\/([a-z0-9-]+)\/readiness$/, viewReadinessIndex],
  [/^\/o\/([a-z0-9-]+)\/readiness\/([a-z0-9-]+)$/, viewReadinessReport],
  [/^\/o\/([a-z0-9-]+)\/readiness\/([a-z0-9-]+)\/by\/([a-z0-9-]+)$/, viewReadinessReport],
  [/^\/o\/([a-z0-9-]+)\/audit$/, viewAudit],
];

function currentPath() {
  const h = location.hash || "";
  return h.startsWith("#/") ? h.slice(1) : "/";
}

function navigate(path) {
  if (currentPath() === path) render();
  else location.hash = "#" + path;
}

let renderSeq = 0;

// Draw the page for the current hash. Each view fills a fresh <div>, which
// replaces <main>'s content when done (unless a later render started).
async function render(opts) {
  const o = opts || {};
  const seq = ++renderSeq;
  const main = document.getElementById("main");
  if (!o.keepMessages) {
    clearErrors();
    showStatus("");
  }
  let path = currentPath();
  if (!session.key() && path !== "/signin") {
    history.replaceState(null, "", "#/signin");
    path = "/signin";
  }
  main.setAttribute("aria-busy", "true");
  const root = el("div", { class: "view" });
  try {
    if (path !== "/signin") await loadIdentity();
    drawFrame(path);
    const route = ROUTES.find(([re]) => re.test(path));
    if (!route) {
      root.appendChild(el("h1", { text: "Page not found" }));
      root.appendChild(el("p", null, "There is no page at this address. ", link("#/", "Go to the start.")));
    } else {
      await route[1](root, ...route[0].exec(path).slice(1));
    }
  } catch (e) {
    if (seq !== renderSeq) return;
    showError(e);
    if (e instanceof ApiError && e.code === "unauthenticated" && path !== "/signin") {
      // the key is unknown or was revoked: back to the sign-in form
      session.clear();
      drawFrame("/signin");
      root.replaceChildren();
      await viewSignIn(root);
    } else if (!root.querySelector("h1")) {
      root.prepend(el("h1", { text: "This page could not be shown" }));
    }
  }
  if (seq !== renderSeq) return;
  main.replaceChildren(root);
  main.setAttribute("aria-busy", "false");
  main.setAttribute("data-rendered", String(seq)); // how many pages were drawn (tests wait on it)
  if (pendingStatus) {
    showStatus(pendingStatus);
    pendingStatus = "";
  }
  const h1 = root.querySelector("h1");
  if (h1) document.title = h1.textContent + " · supplysec console";
  // after a change in a row, the focus stays on that row (when it is still there)
  const spot = o.focusId ? document.getElementById(o.focusId) : null;
  if (spot) {
    spot.focus();
  } else if (h1 && !o.keepFocus) {
    h1.setAttribute("tabindex", "-1");
    h1.focus();
  }
}

// The header's sign-in line and the navigation for the current path.
function drawFrame(path) {
  const who = document.getElementById("who");
  const nav = document.getElementById("nav");
  who.replaceChildren();
  nav.replaceChildren();
  if (!session.key() || !identity) {
    nav.hidden = true;
    return;
  }
  const home = identity.home;
  const key = identity.key;
  const person = (key.displayName || key.name || "this key") + " (" + label(key.role, "ROLE_") + ")";
  who.appendChild(el("span", { class: "who-name", attrs: { title: key.name || "" } },
    home ? person + " · " + (home.legalName || home.name) : person + " · the platform"));
  who.appendChild(button("Sign out", signOut, "btn btn-quiet"));

  const items = [];
  if (!home) items.push(["/", "All organizations"]);
  if (identity.authority) items.push(["/validations", "Validations"]);
  const m = /^\/o\/([a-z0-9-]+)(?:\/([a-z]+))?/.exec(path);
  const orgId = m ? m[1] : home && !identity.authority ? orgIdOf(home.name) : "";
  if (orgId) {
    for (const [sec, text] of ORG_SECTIONS) items.push(["/o/" + orgId + (sec ? "/" + sec : ""), text]);
  }
  const ul = el("ul");
  for (const [p, text] of items) {
    const a = link("#" + p, text);
    const current = path === p || (p.split("/").length > 3 && path.startsWith(p + "/"));
    if (current) a.setAttribute("aria-current", "page");
    ul.appendChild(el("li", null, a));
  }
  nav.appendChild(ul);
  nav.hidden = false;
  if (orgId) {
    const name = "organizations/" + orgId;
    const known = orgCache.get(name);
    const ctx = el("p", { class: "context" }, "Organization: ", el("strong", { text: known ? known.legalName : name }), " (" + name + ")");
    if (viewingAsAuthority(name)) {
      ctx.appendChild(el("span", { class: "readonly-note" },
        " — read only, as a validator of " + (home.legalName || home.name) + "; each read is recorded in its audit log."));
    }
    nav.appendChild(ctx);
  }
}

function signOut() {
  session.clear();
  clearErrors();
  showStatus("You are signed out.");
  pendingStatus = "You are signed out.";
  navigate("/signin");
}

// ---------------------------------------------------------------------------
// 6. Sign-in, home, validations
// ---------------------------------------------------------------------------

async function viewSignIn(root) {
  if (session.key()) {
    // already signed in: go on
    history.replaceState(null, "", "#/");
    return viewHome(root);
  }
  const key = el("input", { attrs: { type: "password", autocomplete: "off", spellcheck: "false", required: true } });
  const f = field("API key", key, "Your organization's key, ssk_…. It is kept in this browser tab only, until you sign out or close the tab.");
  const form = el("form", { class: "card signin", attrs: { "aria-labelledby": "signin-title" } },
    el("h1", { attrs: { id: "signin-title" }, text: "Sign in" }),
    el("p", { text: "The supplysec console: controlled documents, partners, declarations, risk, plans, incidents, readiness and the audit log of your organization." }),
    f.wrap,
    el("div", { class: "actions" }, el("button", { attrs: { type: "submit" }, class: "btn btn-primary", text: "Sign in" })));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const secret = key.value.trim();
    if (!secret) {
      showError(new ApiError("invalid_argument", "Enter your API key."));
      key.focus();
      return;
    }
    session.setKey(secret);
    key.value = "";
    identity = null;
    try {
      await loadIdentity();
    } catch (e) {
      session.clear();
      showError(e);
      key.focus();
      return;
    }
    navigate("/");
  });
  root.appendChild(form);
}

async function viewHome(root) {
  const id = await loadIdentity();
  if (id.home && id.authority) return redirect("/validations");
  if (id.home) return redirect("/o/" + orgIdOf(id.home.name));
  root.appendChild(el("h1", { text: "Organizations" }));
  root.appendChild(el("p", { text: "This key sees every organization on the platform: choose one." }));
  root.appendChild(table("Organizations on the platform", [
    { label: "Organization", cell: (o) => link("#/o/" + orgIdOf(o.name), o.legalName || o.name) },
    { label: "Name", cell: (o) => o.name },
    { label: "Kind", cell: (o) => label(o.kind, "ORGANIZATION_KIND_") },
    { label: "Country", cell: (o) => o.countryCode },
  ], id.orgs, { empty: "No organization is visible to this key." }));
}

function redirect(path) {
  history.replaceState(null, "", "#" + path);
  return render();
}

async function viewValidations(root) {
  const id = await loadIdentity();
  root.appendChild(el("h1", { text: "Operators to validate" }));
  if (!id.authority) {
    root.appendChild(el("p", { text: "Only a customs authority's keys have validations." }));
    return;
  }
  root.appendChild(el("p", { text: "The operators whose validation grants to " + (id.home.legalName || id.home.name) +
    " are in force now. Their systems are read only; each read is recorded in the operator's audit log." }));
  const [validated, recognitions] = await Promise.all([
    attempt(listAll("ValidationGrants", "ListValidatedOrganizations", { authority: id.home.name }, "validatedOrganizations")),
    attempt(listAll("Recognitions", "ListRecognitions", { parent: id.home.name }, "recognitions")),
  ]);
  root.appendChild(section("Grants in force", validated ? table("Operators that granted access", [
    { label: "Operator", cell: (v) => link("#/o/" + orgIdOf(v.organization), v.legalName || v.organization) },
    { label: "Application", cell: (v) => (v.grant || {}).applicationReference },
    { label: "From", cell: (v) => fmtDate((v.grant || {}).startTime) },
    { label: "Until", cell: (v) => fmtDate((v.grant || {}).endTime) },
    { label: "Scope", cell: (v) => (v.grant || {}).statementOfApplication || "Whole system" },
    { label: "Readiness", cell: (v) => link("#/o/" + orgIdOf(v.organization) + "/readiness", "Readiness reports") },
  ], validated, { empty: "No operator has a grant to this authority in force." }) : null));
  root.appendChild(section("Certificates this authority recognizes", recognitionsTable(recognitions)));
}

function recognitionsTable(recognitions) {
  if (!recognitions) return null;
  return table("Recognitions", [
    { label: "Certificate", cell: (r) => label(r.certificateType, "PARTNER_CERTIFICATE_TYPE_") },
    { label: "Issued in", cell: (r) => r.issuingCountry },
    { label: "Issuer", cell: (r) => r.issuer },
    { label: "Basis", cell: (r) => label(r.basis, "RECOGNITION_BASIS_") + (r.arrangement ? ": " + r.arrangement : "") },
  ], recognitions, { empty: "No recognitions published: every partner is judged as one without an exemption." });
}

// ---------------------------------------------------------------------------
// 7. Organization overview
// ---------------------------------------------------------------------------

async function viewOverview(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  root.appendChild(el("h1", { text: org.legalName || org.name }));
  const ids = org.identifiers || {};
  root.appendChild(section("The organization", facts([
    ["Name", org.name],
    ["Kind", label(org.kind, "ORGANIZATION_KIND_")],
    ["Country", org.countryCode],
    ["Supply-chain roles", (org.supplyChainRoles || []).map((r) => label(r, "SUPPLY_CHAIN_ROLE_")).join(", ")],
    ["EORI", ids.eori],
    ["AEO authorisation", ids.aeoAuthorisationNumber ? ids.aeoAuthorisationNumber + " (" + label(ids.aeoType, "AEO_TYPE_") + ")" : ""],
    ["C-TPAT account", ids.ctpatAccount],
    ["Certificates", (org.certificates || []).map((c) => label(c.type, "CERTIFICATE_TYPE_") + " " + (c.number || "") + (c.validUntil ? " until " + fmtDate(c.validUntil) : "")).join("; ")],
    ["Attested by customs", (org.attestedCertificates || []).map((c) => label(c.type, "CERTIFICATE_TYPE_") + " " + (c.number || "") + " by " + c.authority).join("; ")],
  ])));

  // what waits for someone: documents in review, requests to answer or decide
  const name = org.name;
  const docLists = await Promise.all(DOC_KINDS.map((k) => attempt(listAll(k.service, "List" + k.many, { parent: name }, k.field))));
  // (the requests addressed to an operator are other organizations' records:
  // not a validator's to read)
  const [incoming, outgoing] = await Promise.all([
    viewingAsAuthority(name) ? [] : attempt(listAll("DeclarationRequests", "ListIncomingDeclarationRequests", { parent: name }, "declarationRequests")),
    attempt(listAll("DeclarationRequests", "ListDeclarationRequests", { parent: name }, "declarationRequests")),
  ]);
  const waiting = [];
  DOC_KINDS.forEach((k, i) => {
    for (const d of docLists[i] || []) {
      if (d.state === "DOCUMENT_STATE_IN_REVIEW") {
        waiting.push(el("li", null, link(docHref(d.name), d.title || d.name), " — " + k.noun + ", revision " + d.revisionId + ", in review"));
      }
    }
  });
  for (const r of incoming || []) {
    if (r.state === "DECLARATION_REQUEST_STATE_REQUESTED") {
      waiting.push(el("li", null, link("#/o/" + orgId + "/declarations", "A declaration request from " + orgIdOf(r.name)), " waits for an answer"));
    }
  }
  for (const r of outgoing || []) {
    if (r.state === "DECLARATION_REQUEST_STATE_ANSWERED") {
      waiting.push(el("li", null, link("#/o/" + orgId + "/declarations", "The answer of " + lastSegment(r.businessPartner)), " waits for your decision"));
    }
  }
  root.appendChild(section("Waiting for a decision",
    waiting.length ? el("ul", { class: "plain-list" }, waiting) : el("p", { class: "empty", text: "Nothing waits for a decision." })));
}

// ---------------------------------------------------------------------------
// 8. Controlled documents
// ---------------------------------------------------------------------------

// The six kinds of controlled documents and their methods' names:
// List<many>, Get<one>, Submit<one>, Approve<one>, Reject<one>,
// Create<one>Revision, List<one>Revisions.
const DOC_KINDS = [
  { coll: "securityPolicies", service: "SecurityPolicies", one: "SecurityPolicy", many: "SecurityPolicies",
    field: "securityPolicies", title: "Security policies", noun: "security policy", content: policyContent },
  { coll: "statementsOfApplication", service: "StatementsOfApplication", one: "StatementOfApplication",
    many: "StatementsOfApplication", field: "statementsOfApplication", title: "Statements of application",
    noun: "statement of application", content: statementContent },
  { coll: "securityAssessments", service: "SecurityAssessments", one: "SecurityAssessment", many: "SecurityAssessments",
    field: "securityAssessments", title: "Security assessments", noun: "security assessment", content: assessmentContent },
  { coll: "securityPlans", service: "SecurityPlans", one: "SecurityPlan", many: "SecurityPlans",
    field: "securityPlans", title: "Security plans", noun: "security plan", content: planContent },
  { coll: "declarations", service: "Declarations", one: "Declaration", many: "Declarations",
    field: "declarations", title: "Declarations of security", noun: "declaration of security", content: declarationContent },
  { coll: "managementReviews", service: "ManagementReviews", one: "ManagementReview", many: "ManagementReviews",
    field: "managementReviews", title: "Management reviews", noun: "management review", content: reviewContent },
];

function kindOf(coll) {
  return DOC_KINDS.find((k) => k.coll === coll);
}

// "organizations/fwd/securityPolicies/p@2" -> "#/o/fwd/documents/securityPolicies/p@2"
function docHref(name) {
  const m = /^organizations\/([^/]+)\/([A-Za-z]+)\/([^/]+)$/.exec(name || "");
  return m && kindOf(m[2]) ? "#/o/" + m[1] + "/documents/" + m[2] + "/" + m[3] : null;
}

// A console page for a resource name, when there is one.
function hrefFor(name) {
  const doc = docHref(name);
  if (doc) return doc;
  const m = /^organizations\/([^/]+)\/([A-Za-z]+)\/([^/@]+)(@[0-9]+)?(\/.*)?$/.exec(name || "");
  if (!m) return null;
  const base = "#/o/" + m[1] + "/";
  switch (m[2]) {
    case "securityAssessments": return base + "assessments/" + m[3];
    case "securityPlans": return base + "plans";
    case "businessPartners": return base + "partners";
    case "declarationRequests": return base + "declarations";
    case "securityIncidents": return base + "incidents";
    default: return null;
  }
}

function resourceLink(name, text) {
  const href = hrefFor(name);
  return href ? link(href, text || name) : el("span", { class: "resource", text: text || name });
}

async function viewDocuments(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  root.appendChild(el("h1", { text: "Controlled documents" }));
  root.appendChild(el("p", { class: "lead", text: "The documents of ISO 28000 4.4.5: each is drafted, submitted for review and approved; an approved revision is kept, and the next one starts as a draft." }));
  const lists = await Promise.all(DOC_KINDS.map((k) => attempt(listAll(k.service, "List" + k.many, { parent: org.name }, k.field))));
  DOC_KINDS.forEach((k, i) => {
    const docs = lists[i];
    const extra = k.coll === "declarations" && !viewingAsAuthority(org.name)
      ? el("p", null, link("#/o/" + orgId + "/declarations/new", "Write a declaration of security", "btn btn-link")) : null;
    root.appendChild(section(k.title, docs ? docTable(k, docs) : null, extra));
  });
}

function docTable(kind, docs) {
  return table(kind.title, [
    { label: "Title", cell: (d) => link(docHref(d.name), d.title || lastSegment(d.name)) },
    { label: "State", cell: (d) => docState(d) },
    { label: "Revision", cell: (d) => d.revisionId },
    { label: "Last change", cell: (d) => fmtTime(d.updateTime) },
  ], docs, { empty: "No " + kind.noun + " yet." });
}

async function viewDocument(root, orgId, coll, idWithRev) {
  const kind = kindOf(coll);
  if (!kind) throw new ApiError("not_found", "No kind of document is called " + coll + ".");
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const name = org.name + "/" + coll + "/" + idWithRev;
  const plainName = name.split("@")[0];
  const isRevision = idWithRev.includes("@");
  const doc = await call(kind.service, "Get" + kind.one, { name });
  root.appendChild(el("p", { class: "breadcrumb" }, link("#/o/" + orgId + "/documents", "Documents"), " › " + kind.title));
  root.appendChild(el("h1", { text: doc.title || lastSegment(name) }));
  root.appendChild(el("p", { class: "doc-meta" },
    label(kind.noun), " · revision " + (doc.revisionId || "?") + " · ", docState(doc),
    doc.revokeTime ? [" ", badge("Revoked " + fmtDate(doc.revokeTime), "bad")] : null));
  if (isRevision) {
    root.appendChild(el("p", { class: "note" }, "This is revision " + doc.revisionId + " as it was approved; it is read only. ",
      link(docHref(plainName), "The latest revision")));
  }
  if (!isRevision && !viewingAsAuthority(org.name)) root.appendChild(docActions(kind, doc, orgId));

  const c = doc.control || {};
  root.appendChild(section("Control", facts([
    ["Revision started", fmtTime(doc.revisionCreateTime)],
    ["Submitted", c.submitter ? personText(c.submitter) + ", " + fmtTime(c.submitTime) : ""],
    ["Approved", c.approver ? personText(c.approver) + ", " + fmtTime(c.approveTime) : ""],
    ["Sent back", c.rejecter ? personText(c.rejecter) + ", " + fmtTime(c.rejectTime) : ""],
    ["Reason sent back", c.rejectionReason],
    ["Superseded", fmtTime(c.supersedeTime)],
    ["Revoked", doc.revoker ? personText(doc.revoker) + ", " + fmtTime(doc.revokeTime) : ""],
  ])));
  root.appendChild(section("Content", kind.content(doc, orgId)));

  const revisions = await attempt(listAll(kind.service, "List" + kind.one + "Revisions", { name: plainName }, kind.field));
  root.appendChild(section("Revision history", revisions ? table("Approved revisions, oldest first", [
    { label: "Revision", cell: (r) => link(docHref(r.name), "Revision " + r.revisionId) },
    { label: "State", cell: (r) => docState(r) },
    { label: "Approved by", cell: (r) => person((r.control || {}).approver) },
    { label: "Approved", cell: (r) => fmtTime((r.control || {}).approveTime) },
    { label: "Superseded", cell: (r) => fmtTime((r.control || {}).supersedeTime) },
  ], revisions, { empty: "No revision approved yet.", class: "data revisions", showCaption: true }) : null));
}

// The moves the document's state allows; the API decides whether the caller's
// role may make them (its error is shown when not).
function docActions(kind, doc, orgId) {
  const box = el("div", { class: "actions doc-actions", attrs: { role: "group", "aria-label": "Document actions" } });
  const move = (method, words, extra) => (ev) => act(ev.currentTarget,
    () => call(kind.service, method, Object.assign({ name: doc.name, etag: doc.etag }, extra ? extra() : {})), words);
  const s = doc.state;
  if (s === "DOCUMENT_STATE_DRAFT") {
    box.appendChild(button("Submit for review", move("Submit" + kind.one, "Submitted for review."), "btn btn-primary"));
    if (kind.coll === "declarations") box.appendChild(link("#/o/" + orgId + "/declarations/" + lastSegment(doc.name) + "/edit", "Edit the draft", "btn"));
  }
  if (s === "DOCUMENT_STATE_IN_REVIEW") {
    box.appendChild(button("Approve", move("Approve" + kind.one, "Approved: revision " + doc.revisionId + " is in force."), "btn btn-primary"));
    const reason = textArea({ maxlength: 2000 });
    const f = field("Reason for sending it back", reason);
    const rejectBox = el("div", { class: "reject-box", attrs: { hidden: true, id: "reject-box" } }, f.wrap,
      button("Send back to draft", move("Reject" + kind.one, "Sent back to draft.", () => ({ reason: reason.value })), "btn btn-danger"));
    const opener = button("Reject…", () => {
      rejectBox.hidden = !rejectBox.hidden;
      opener.setAttribute("aria-expanded", String(!rejectBox.hidden));
      if (!rejectBox.hidden) reason.focus();
    }, "btn");
    opener.setAttribute("aria-expanded", "false");
    opener.setAttribute("aria-controls", "reject-box");
    box.appendChild(opener);
    box.appendChild(rejectBox);
  }
  if (s === "DOCUMENT_STATE_APPROVED") {
    box.appendChild(button("Start the next revision", move("Create" + kind.one + "Revision", "The next revision is a draft."), "btn"));
    if (kind.coll === "declarations" && !doc.revokeTime) {
      box.appendChild(button("Revoke", move("RevokeDeclaration", "Revoked: every request it answered reads REVOKED."), "btn btn-danger"));
    }
  }
  return box;
}

function longText(text) {
  return text ? el("div", { class: "long-text", text }) : "";
}

function policyContent(p) {
  const c = p.commitments || {};
  const commitments = [
    [c.legalCompliance, "Legal compliance"], [c.continualImprovement, "Continual improvement"],
    [c.protectionOfAssetsAndInformation, "Protection of assets and information"],
    [c.stakeholderEngagement, "Stakeholder engagement"], [c.iso28001BestPractices, "ISO 28001 best practices"],
  ].filter((x) => x[0]).map((x) => x[1]);
  const so = p.signOff || {};
  return facts([
    ["Text", longText(p.text)],
    ["Commitments", commitments.join(", ")],
    ["Best practices scope", c.bestPracticesScope],
    ["Statement of application", c.statementOfApplication ? resourceLink(c.statementOfApplication + (c.statementRevisionId ? "@" + c.statementRevisionId : "")) : ""],
    ["Signed off by", so.signatoryName ? so.signatoryName + (so.signatoryRole ? ", " + so.signatoryRole : "") + (so.signTime ? ", " + fmtDate(so.signTime) : "") : ""],
    ["Next review", fmtDate(p.nextReviewTime)],
  ]);
}

function statementContent(s) {
  const cp = s.coveredPortion || {};
  return [facts([
    ["Functions", (s.functions || []).map((f) => label(f, "SUPPLY_CHAIN_ROLE_")).join(", ")],
    ["Covered portion", cp.from || cp.to ? (cp.from || "?") + " → " + (cp.to || "?") : ""],
    ["Transport modes", (cp.transportModes || []).map((m) => label(m, "TRANSPORT_MODE_")).join(", ")],
    ["Goods", cp.goods],
    ["Crosses a border", cp.crossesBorder ? "Yes" : ""],
  ]),
  el("h3", { text: "Facilities" }),
  table("Facilities", [
    { label: "Facility", cell: (f) => f.name },
    { label: "Country", cell: (f) => f.countryCode },
    { label: "UN/LOCODE", cell: (f) => f.unLocode },
    { label: "Address", cell: (f) => f.address },
    { label: "Functions", cell: (f) => (f.functions || []).map((x) => label(x, "SUPPLY_CHAIN_ROLE_")).join(", ") },
  ], s.facilities || []),
  el("h3", { text: "Business partners in scope" }),
  table("Business partners", [
    { label: "Partner", cell: (b) => resourceLink(b.businessPartner) },
    { label: "Exemption basis", cell: (b) => b.exemptionBasis },
  ], s.businessPartners || [])];
}

function assessmentContent(a, orgId) {
  const scope = a.scope || {};
  return [facts([
    ["Risk", link("#/o/" + orgId + "/assessments/" + lastSegment(a.name), "Heat map and ranked scenarios")],
    ["Statement in scope", scope.statementOfApplication ? resourceLink(scope.statementOfApplication + (scope.statementRevisionId ? "@" + scope.statementRevisionId : "")) : ""],
    ["Method", longText(a.method)],
    ["Scoring", (a.scheme || {}).title ? a.scheme.title + " (" + label(a.scheme.combination, "SCORE_COMBINATION_") + ", acceptable up to " + score(a.scheme.acceptableLevel) + ")" : a.scoringScheme],
    ["Excluded portions", (scope.excludedPortions || []).map((x) => x.description + " (" + x.exemptionBasis + ")").join("; ")],
  ]),
  el("h3", { text: "Team" }),
  table("The assessment team", [
    { label: "Member", cell: (t) => t.name },
    { label: "Role", cell: (t) => t.role },
    { label: "Competences", cell: (t) => (t.competences || []).join(", ") },
  ], a.team || [])];
}

function planContent(p, orgId) {
  return [facts([
    ["Items and monitoring", link("#/o/" + orgId + "/plans", "Plan items and monitoring")],
    ["Assessment", p.securityAssessment ? resourceLink(p.securityAssessment + (p.assessmentRevisionId ? "@" + p.assessmentRevisionId : "")) : ""],
    ["In force since", fmtTime(p.inForceTime)],
    ["Training programme", longText(p.trainingProgramme)],
    ["Incident procedure", longText(p.incidentProcedure)],
    ["Guarding arrangements", longText(p.guardingArrangements)],
  ]),
  el("h3", { text: "Considered guidance" }),
  table("ISO 28001 guidance considered", [
    { label: "Reference", cell: (g) => label(g.annex, "GUIDANCE_ANNEX_") + " " + (g.reference || "") },
    { label: "Applied", cell: (g) => (g.applied ? "Yes" : "No") },
    { label: "Note", cell: (g) => g.note },
  ], p.consideredGuidance || [])];
}

function declarationContent(d) {
  const m = d.measures || {};
  const sg = d.signatory || {};
  return facts([
    ["B. Information protection", longText(m.informationProtection)],
    ["C. Cargo security", longText(m.cargoSecurity)],
    ["D. Conveyance security", longText(m.conveyanceSecurity)],
    ["E. Premises security", longText(m.premisesSecurity)],
    ["F. Personnel security", longText(m.personnelSecurity)],
    ["G. Trading partner security", longText(m.tradingPartnerSecurity)],
    ["Signatory", sg.name ? sg.name + (sg.position ? ", " + sg.position : "") : ""],
    ["Signed", fmtDate(d.signTime)],
    ["Valid until", fmtDate(d.validUntil)],
    ["Recorded for", d.recordedFor ? resourceLink(d.recordedFor) : ""],
    ["Paper reference", d.paperReference],
  ]);
}

function reviewContent(r) {
  const inputs = r.inputs || {};
  return [facts([
    ["Held", fmtTime(r.reviewTime)],
    ["Attendees", (r.attendees || []).join(", ")],
    ["Inputs compiled", fmtTime(inputs.compileTime)],
    ["Previous review", inputs.previousReview ? resourceLink(inputs.previousReview) : ""],
    ["Input counts", (inputs.counts || []).filter((c) => num(c.count)).map((c) => label(c.kind, "REVIEW_INPUT_KIND_") + ": " + c.count).join("; ")],
  ]),
  el("h3", { text: "Decisions" }),
  (r.decisions || []).length ? el("ol", null, r.decisions.map((d) => el("li", { text: d }))) : el("p", { class: "empty", text: "None." }),
  el("h3", { text: "Action items" }),
  table("Action items", [
    { label: "Action", cell: (a) => a.description },
    { label: "Owner", cell: (a) => a.owner },
    { label: "Due", cell: (a) => fmtDate(a.dueTime) },
    { label: "Status", cell: (a) => label(a.status, "ACTION_STATUS_") },
  ], r.actionItems || [])];
}

// ---------------------------------------------------------------------------
// 9. Business partners
// ---------------------------------------------------------------------------

async function viewPartners(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const authority = authorityFor(org.name);
  root.appendChild(el("h1", { text: "Business partners" }));
  root.appendChild(el("p", { class: "lead", text: authority
    ? "Exemptions as judged by the certificates " + authority + " recognizes."
    : "Exemptions by internationally accepted certificates (ISO 28001 4.4); the reviews due by risk tier." }));
  const partners = await listAll("BusinessPartners", "ListBusinessPartners", authority ? { parent: org.name, authority } : { parent: org.name }, "businessPartners");
  const due = partners.filter((p) => isPast(p.nextCredibilityReviewTime));
  root.appendChild(el("p", { class: "summary" }, partners.length + " partners; " +
    partners.filter((p) => !p.declarationRequired).length + " exempt; " + due.length + " with a credibility review due."));
  root.appendChild(table("Business partners", [
    { label: "Partner", cell: (p) => p.legalName || lastSegment(p.name) },
    { label: "Country", cell: (p) => p.countryCode },
    { label: "Roles", cell: (p) => (p.roles || []).map((r) => label(r, "SUPPLY_CHAIN_ROLE_")).join(", ") },
    { label: "Risk tier", cell: (p) => label(p.riskTier, "RISK_TIER_") },
    { label: "On the platform", cell: (p) => p.organization },
    { label: "Certificates", cell: (p) => certificateList(p.certificates || []) },
    { label: "Declaration", cell: (p) => (p.declarationRequired ? badge("Required", "warn") : [badge("Exempt", "good"), " ", p.exemptionBasis || ""]) },
    { label: "Next review", cell: (p) => (p.nextCredibilityReviewTime
      ? [fmtDate(p.nextCredibilityReviewTime), isPast(p.nextCredibilityReviewTime) ? [" ", badge("Review due", "bad")] : null] : "") },
    { label: "Last review", cell: (p) => fmtDate(p.lastCredibilityReviewTime) },
  ], partners, { rowClass: (p) => (isPast(p.nextCredibilityReviewTime) ? "row-due" : undefined), empty: "No business partners." }));
}

function certificateList(certs) {
  if (!certs.length) return "";
  return el("ul", { class: "plain-list" }, certs.map((c) => el("li", {
    text: label(c.type, "PARTNER_CERTIFICATE_TYPE_") + " " + (c.number || "") + (c.issuingCountry ? " (" + c.issuingCountry + ")" : "") +
      (c.validUntil ? ", until " + fmtDate(c.validUntil) : "") + (c.verifiedBy ? ", verified: " + label(c.verifiedBy, "CERTIFICATE_VERIFICATION_") : ", not verified"),
  })));
}

// ---------------------------------------------------------------------------
// 10. Declarations: requests in and out, our declarations, the form
// ---------------------------------------------------------------------------

async function viewDeclarations(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const readOnly = viewingAsAuthority(org.name);
  root.appendChild(el("h1", { text: "Declarations of security" }));
  root.appendChild(el("p", { class: "lead", text: "Declare once, address many: answer the requests addressed to you with one approved declaration; decide on the answers to yours." }));
  const [incoming, outgoing, declarations, partners] = await Promise.all([
    readOnly ? null : attempt(listAll("DeclarationRequests", "ListIncomingDeclarationRequests", { parent: org.name }, "declarationRequests")),
    attempt(listAll("DeclarationRequests", "ListDeclarationRequests", { parent: org.name }, "declarationRequests")),
    attempt(listAll("Declarations", "ListDeclarations", { parent: org.name }, "declarations")),
    attempt(listAll("BusinessPartners", "ListBusinessPartners",
      readOnly ? { parent: org.name, authority: authorityFor(org.name) } : { parent: org.name }, "businessPartners")),
  ]);
  const answerable = (declarations || []).filter((d) => d.state === "DOCUMENT_STATE_APPROVED" && !d.revokeTime && !d.recordedFor);
  const titles = new Map((declarations || []).map((d) => [d.name, d.title]));
  const partnerNames = new Map((partners || []).map((p) => [p.name, p.legalName]));

  // the inbox
  const inbox = section(readOnly ? "Requests addressed to the operator" : "Requests addressed to us");
  inbox.setAttribute("id", "inbox");
  if (incoming) {
    inbox.appendChild(table("Declaration requests from other organizations", [
      { label: "From", cell: (r) => orgIdOf(r.name) },
      { label: "Request", cell: (r) => lastSegment(r.name) },
      { label: "Message", cell: (r) => r.message },
      { label: "State", cell: (r) => requestState(r) },
      { label: "Answered with", cell: (r) => (r.declaration ? [resourceLink(r.declaration + "@" + r.declarationRevisionId,
        (titles.get(r.declaration) || lastSegment(r.declaration)) + ", revision " + r.declarationRevisionId), r.answerTime ? " (" + fmtTime(r.answerTime) + ")" : ""] : "") },
      { label: "Decision", cell: (r) => decisionText(r) },
      { label: "Answer", cell: (r) => (readOnly || r.state === "DECLARATION_REQUEST_STATE_ACCEPTED" ? "" : answerForm(r, answerable, orgId)) },
    ], incoming, { empty: "No request is addressed to this organization.", class: "data inbox" }));
  } else if (readOnly) {
    inbox.appendChild(el("p", { class: "empty", text: "The requests addressed to this operator are the requesting organizations' records, outside a validation." }));
  }
  root.appendChild(inbox);

  // our declarations
  const ours = section(readOnly ? "The operator's declarations" : "Our declarations");
  ours.setAttribute("id", "ours");
  if (declarations) ours.appendChild(docTable(kindOf("declarations"), declarations));
  if (!readOnly) ours.appendChild(el("p", null, link("#/o/" + orgId + "/declarations/new", "Write a declaration of security", "btn btn-link")));
  root.appendChild(ours);

  // the outbox
  const outbox = section(readOnly ? "Requests the operator sent" : "Requests we sent");
  outbox.setAttribute("id", "outbox");
  const reader = el("div", { class: "attached", attrs: { hidden: true, id: "attached", tabindex: "-1" } });
  if (outgoing) {
    outbox.appendChild(table("Our declaration requests", [
      { label: "Partner", cell: (r) => partnerNames.get(r.businessPartner) || lastSegment(r.businessPartner) },
      { label: "Partner's organization", cell: (r) => r.partnerOrganization || "Not on the platform" },
      { label: "Message", cell: (r) => r.message },
      { label: "State", cell: (r) => requestState(r) },
      { label: "Declaration", cell: (r) => (r.declaration ? attachedDeclaration(r, reader) : "") },
      { label: "Valid until", cell: (r) => fmtDate(r.declarationValidUntil) },
      { label: "Decision", cell: (r) => decisionText(r) },
      readOnly ? null : { label: "Decide", cell: (r) => (r.state === "DECLARATION_REQUEST_STATE_ANSWERED" ? decideForm(r) : "") },
    ].filter(Boolean), outgoing, { empty: "No declaration request sent.", class: "data outbox" }));
    outbox.appendChild(reader);
  }
  if (!readOnly && partners) outbox.appendChild(requestForm(org, partners));
  root.appendChild(outbox);
}

function decisionText(r) {
  if (!r.decider) return "";
  return [r.decider + ", " + fmtTime(r.decideTime), r.rejectionReason ? el("div", { class: "reason", text: "Reason: " + r.rejectionReason }) : null];
}

// Answer an incoming request with one of our approved declarations.
function answerForm(r, answerable, orgId) {
  if (!answerable.length) {
    return el("span", { class: "hint" }, "No approved declaration yet: ", link("#/o/" + orgId + "/declarations/new", "write one"), ".");
  }
  const choice = select(answerable.map((d) => ({ value: d.name, label: (d.title || lastSegment(d.name)) + " (revision " + d.revisionId + ")" })));
  const f = field("Declaration to answer with", choice);
  return el("div", { class: "inline-form" }, f.wrap,
    button("Answer", (ev) => act(ev.currentTarget, () => call("DeclarationRequests", "AnswerDeclarationRequest",
      { name: r.name, etag: r.etag, declaration: choice.value }), "Answered: the request names your declaration."), "btn btn-primary"));
}

// Accept or reject the answer to one of our requests.
function decideForm(r) {
  const reason = textInput({ maxlength: 2000 });
  const f = field("Reason, to reject", reason);
  return el("div", { class: "inline-form" },
    button("Accept", (ev) => act(ev.currentTarget, () => call("DeclarationRequests", "AcceptDeclarationRequest", { name: r.name, etag: r.etag }), "Accepted."), "btn btn-primary"),
    f.wrap,
    button("Reject", (ev) => act(ev.currentTarget, () => call("DeclarationRequests", "RejectDeclarationRequest", { name: r.name, etag: r.etag, reason: reason.value }), "Rejected."), "btn btn-danger"));
}

// The partner's declaration revision attached to our request, read on
// demand into the reader below the table.
function attachedDeclaration(r, reader) {
  const name = r.declaration + "@" + r.declarationRevisionId;
  const btn = button("Read revision " + r.declarationRevisionId, async () => {
    clearErrors();
    const d = await attempt(call("Declarations", "GetDeclaration", { name }));
    if (!d) return;
    reader.replaceChildren(
      el("h3", { text: (d.title || name) + ", revision " + d.revisionId }),
      el("p", { class: "resource", text: name }),
      declarationContent(d),
      button("Close", () => { reader.hidden = true; btn.focus(); }, "btn btn-small"));
    reader.hidden = false;
    reader.focus();
  }, "btn btn-small");
  return el("div", null, el("div", { class: "resource", text: lastSegment(r.declaration) + "@" + r.declarationRevisionId }), btn);
}

// Ask a business partner for its declaration.
function requestForm(org, partners) {
  if (!partners.length) return el("p", { class: "hint", text: "Add business partners to ask them for declarations." });
  const choice = select(partners.map((p) => ({ value: p.name, label: p.legalName || lastSegment(p.name) })));
  const message = textArea({ maxlength: 2000 });
  const form = el("form", { class: "card" },
    el("h3", { text: "Ask a partner for its declaration" }),
    field("Business partner", choice).wrap,
    field("Message", message).wrap,
    el("div", { class: "actions" }, el("button", { attrs: { type: "submit" }, class: "btn btn-primary", text: "Send request" })));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(form.querySelector("button"), () => call("DeclarationRequests", "CreateDeclarationRequest",
      { parent: org.name, declarationRequest: { businessPartner: choice.value, message: message.value } }), "Request sent.");
  });
  return form;
}

const MEASURES = [
  ["informationProtection", "B. Information protection"],
  ["cargoSecurity", "C. Cargo security (required)"],
  ["conveyanceSecurity", "D. Conveyance security"],
  ["premisesSecurity", "E. Premises security (required)"],
  ["personnelSecurity", "F. Personnel security (required)"],
  ["tradingPartnerSecurity", "G. Trading partner security (required)"],
];

function dateValue(ts) {
  return ts ? ts.slice(0, 10) : "";
}

function todayPlus(days) {
  return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

// Write a declaration (a draft), or edit a draft: #/o/<org>/declarations/new, …/<id>/edit.
async function viewDeclarationForm(root, orgId, declId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const existing = declId ? await call("Declarations", "GetDeclaration", { name: org.name + "/declarations/" + declId }) : null;
  root.appendChild(el("p", { class: "breadcrumb" }, link("#/o/" + orgId + "/declarations", "Declarations"), " › " + (existing ? "Edit" : "New")));
  root.appendChild(el("h1", { text: existing ? "Edit the declaration" : "Write a declaration of security" }));
  root.appendChild(el("p", { class: "lead", text: "Your security measures by AEO criterion. It is saved as a draft; submit it for review and approve it, then answer requests with it." }));
  const d = existing || {};
  const m = d.measures || {};
  const sg = d.signatory || {};
  const title = textInput({ required: true, maxlength: 200, value: d.title || "Declaration of security" });
  const inputs = {};
  const form = el("form", { class: "card declaration-form" }, field("Title", title).wrap);
  const fs = el("fieldset", null, el("legend", { text: "Security measures" }));
  for (const [key, text] of MEASURES) {
    inputs[key] = textArea({ maxlength: 5000 });
    inputs[key].value = m[key] || "";
    fs.appendChild(field(text, inputs[key]).wrap);
  }
  form.appendChild(fs);
  const signName = textInput({ value: sg.name || "" });
  const signPos = textInput({ value: sg.position || "" });
  const signDate = el("input", { attrs: { type: "date", value: dateValue(d.signTime) || todayPlus(0) } });
  const validDate = el("input", { attrs: { type: "date", value: dateValue(d.validUntil) || todayPlus(365) } });
  form.appendChild(el("fieldset", null, el("legend", { text: "Signature" }),
    field("Signatory's name", signName).wrap, field("Signatory's position", signPos).wrap,
    field("Signed on", signDate).wrap, field("Valid until", validDate).wrap));
  const submit = el("button", { attrs: { type: "submit" }, class: "btn btn-primary", text: existing ? "Save the draft" : "Save as draft" });
  form.appendChild(el("div", { class: "actions" }, submit, link("#/o/" + orgId + "/declarations", "Cancel", "btn")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const measures = {};
    for (const [key] of MEASURES) if (inputs[key].value.trim()) measures[key] = inputs[key].value.trim();
    const declaration = {
      title: title.value.trim(), measures, signatory: { name: signName.value.trim(), position: signPos.value.trim() },
    };
    if (signDate.value) declaration.signTime = signDate.value + "T00:00:00Z";
    if (validDate.value) declaration.validUntil = validDate.value + "T00:00:00Z";
    submit.disabled = true;
    try {
      let saved;
      if (existing) {
        declaration.name = existing.name;
        declaration.etag = existing.etag;
        saved = await call("Declarations", "UpdateDeclaration", { declaration, updateMask: "title,measures,signatory,signTime,validUntil" });
      } else {
        saved = await call("Declarations", "CreateDeclaration", { parent: org.name, declaration });
      }
      pendingStatus = "Saved: the declaration is a draft. Submit it for review.";
      navigate(docHref(saved.name).slice(1));
    } catch (e) {
      showError(e);
      submit.disabled = false;
    }
  });
  root.appendChild(form);
}

// ---------------------------------------------------------------------------
// 11. Security assessments: heat map and ranked scenarios
// ---------------------------------------------------------------------------

async function viewAssessments(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  root.appendChild(el("h1", { text: "Security assessments" }));
  const list = await listAll("SecurityAssessments", "ListSecurityAssessments", { parent: org.name }, "securityAssessments");
  root.appendChild(table("Security assessments", [
    { label: "Assessment", cell: (a) => link("#/o/" + orgId + "/assessments/" + lastSegment(a.name), a.title || lastSegment(a.name)) },
    { label: "State", cell: (a) => docState(a) },
    { label: "Revision", cell: (a) => a.revisionId },
    { label: "Scoring", cell: (a) => (a.scheme || {}).title },
    { label: "Document", cell: (a) => link(docHref(a.name), "Document and revisions") },
  ], list, { empty: "No security assessment yet." }));
}

async function viewRisk(root, orgId, idWithRev) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const name = org.name + "/securityAssessments/" + idWithRev;
  const [assessment, matrix, ranked, threatScenarios] = await Promise.all([
    call("SecurityAssessments", "GetSecurityAssessment", { name }),
    attempt(call("SecurityAssessments", "ComputeRiskMatrix", { name })),
    attempt(call("SecurityAssessments", "RankThreatScenarios", { name })),
    attempt(listAll("ThreatScenarios", "ListThreatScenarios", { parent: name }, "threatScenarios")),
  ]);
  root.appendChild(el("p", { class: "breadcrumb" }, link("#/o/" + orgId + "/assessments", "Assessments"), " › Risk"));
  root.appendChild(el("h1", { text: assessment.title || lastSegment(name) }));
  root.appendChild(el("p", { class: "doc-meta" }, "Revision " + assessment.revisionId + " · ", docState(assessment), " · ",
    link(docHref(assessment.name), "Document and revisions")));
  const titles = new Map(((ranked && ranked.scenarios) || []).map((s) => [s.threatScenario, s.title]));
  if (matrix) {
    root.appendChild(section("Risk heat map",
      el("p", { class: "lead", text: "Each cell counts the scenarios at that consequence and likelihood. Scores at or below " +
        score(matrix.acceptableLevel) + " are acceptable." }),
      el("div", { class: "heatmaps" },
        heatMap("Before countermeasures", "before", matrix, matrix.before || [], titles),
        heatMap("After countermeasures", "after", matrix, matrix.after || [], titles)),
      el("p", { class: "legend" }, el("span", { class: "swatch cell-ok" }), " acceptable  ",
        el("span", { class: "swatch cell-band-2" }), " over the acceptable level")));
  }
  if (ranked) {
    const scenarios = ranked.scenarios || [];
    root.appendChild(section("Ranked scenarios", table("Threat scenarios by incident score, highest first", [
      { label: "Scenario", cell: (s) => s.title || lastSegment(s.threatScenario) },
      { label: "Rank", cell: (s) => String(scenarios.indexOf(s) + 1) },
      { label: "Incident score", cell: (s) => score(s.incidentScore), class: "num" },
      { label: "Residual score", cell: (s) => score(s.residualScore), class: "num" },
      { label: "Over the acceptable level", cell: (s) => (s.overAcceptableLevel ? badge("Over", "warn") : badge("Within", "good")) },
      { label: "Treatment", cell: (s) => (s.untreated ? badge("Untreated", "bad") : s.overAcceptableLevel ? "Treated or accepted" : "Not needed") },
    ], scenarios, { empty: "No threat scenario yet.", class: "data ranked", showCaption: true })));
  }
  if (threatScenarios) {
    // decided in the latest revision while it is a draft (the API's rule), never by a validator
    const readOnly = viewingAsAuthority(org.name);
    const decide = !readOnly && !idWithRev.includes("@") && assessment.state === "DOCUMENT_STATE_DRAFT";
    root.appendChild(await countermeasuresSection(threatScenarios, decide, readOnly));
  }
}

// The countermeasures of every scenario, the highest incident score first;
// with `decide`, Accept and Decline… on each PROPOSED one.
async function countermeasuresSection(scenarios, decide, readOnly) {
  const ordered = scenarios.slice().sort((a, b) => num(b.incidentScore) - num(a.incidentScore) || (a.name < b.name ? -1 : 1));
  const lists = await Promise.all(ordered.map((s) => attempt(listAll("Countermeasures", "ListCountermeasures", { parent: s.name }, "countermeasures"))));
  const rows = [];
  ordered.forEach((s, i) => {
    for (const c of lists[i] || []) rows.push({ c, scenario: s, headId: "cm-" + lastSegment(s.name) + "-" + lastSegment(c.name) });
  });
  const proposed = rows.filter((r) => r.c.state === "COUNTERMEASURE_STATE_PROPOSED").length;
  const lead = decide && proposed
    ? "Accept or decline the proposed countermeasures: an accepted one scores its scenario again (the heat map after countermeasures)."
    : "The countermeasures as this revision has them." +
      (proposed && !readOnly ? " Proposed ones are accepted or declined while the assessment's latest revision is a draft." : "");
  const s = section("Countermeasures", el("p", { class: "lead", text: lead }),
    el("p", { class: "summary" }, rows.length + " countermeasures; ", proposed ? badge(proposed + " proposed", "info") : "none proposed", "."),
    table("Countermeasures by scenario", [
      { label: "Countermeasure", cell: (r) => rowHead(r.headId, r.c.description || lastSegment(r.c.name)) },
      { label: "Scenario", cell: (r) => r.scenario.title || lastSegment(r.scenario.name) },
      { label: "AEO criterion", cell: (r) => aeoCriterion(r.c.aeoCriterion) },
      { label: "Priority", cell: (r) => String(r.c.priority || ""), class: "num" },
      { label: "Brings it to", cell: (r) => "Consequence " + r.c.residualConsequenceLevel + ", likelihood " + r.c.residualLikelihoodLevel + " (score " + score(r.c.residualScore) + ")" },
      { label: "Owner", cell: (r) => r.c.owner },
      { label: "Due", cell: (r) => fmtDate(r.c.dueTime), class: "nowrap" },
      { label: "State", cell: (r) => countermeasureState(r.c) },
      decide && proposed ? { label: "Decide", cell: (r) => (r.c.state === "COUNTERMEASURE_STATE_PROPOSED" ? decideCountermeasure(r.c, r.headId) : "") } : null,
    ].filter(Boolean), rows, { empty: "No countermeasure proposed yet.", class: "data countermeasures" }));
  s.setAttribute("id", "countermeasures");
  return s;
}

const COUNTERMEASURE_TONE = { PROPOSED: "info", ACCEPTED: "good", DECLINED: "bad" };
function countermeasureState(c) {
  const st = (c.state || "").replace("COUNTERMEASURE_STATE_", "");
  const b = badge(label(st), COUNTERMEASURE_TONE[st]);
  b.setAttribute("data-state", st);
  return [b,
    c.decider ? el("div", { class: "hint" }, "by ", person(c.decider), ", " + fmtTime(c.decideTime)) : null,
    c.declineReason ? el("div", { class: "reason", text: "Reason: " + c.declineReason }) : null];
}

// Accept a proposed countermeasure, or decline it with a reason (ADMIN).
function decideCountermeasure(c, headId) {
  const what = "“" + (c.description || lastSegment(c.name)) + "”";
  const [opener, box] = reasonBox({
    open: "Decline…", label: "Reason for declining", submit: "Decline", focusId: headId,
    run: (reason) => call("Countermeasures", "DeclineCountermeasure", { name: c.name, etag: c.etag, reason }),
    done: "Declined: " + what + ".",
  });
  return rowActions(headId,
    button("Accept", (ev) => act(ev.currentTarget, () => call("Countermeasures", "AcceptCountermeasure", { name: c.name, etag: c.etag }),
      "Accepted: " + what + "; its scenario is scored again.", headId), "btn btn-primary btn-small"),
    opener, box);
}

// One consequence × likelihood grid as a table: likelihood from the highest
// level down (rows), consequence from the lowest up (columns).
function heatMap(title, which, matrix, cells, titles) {
  const cLevels = (matrix.consequence || {}).levels || [];
  const lLevels = ((matrix.likelihood || {}).levels || []).slice().reverse();
  const at = new Map(cells.map((c) => [c.consequenceLevel + ":" + c.likelihoodLevel, c]));
  const maxScore = Math.max(1, ...cells.map((c) => num(c.score)));
  const acceptable = num(matrix.acceptableLevel);
  const head = el("tr", null, el("td", { class: "corner", text: "Likelihood ↓ / Consequence →" }),
    cLevels.map((l) => el("th", { attrs: { scope: "col" } }, el("span", { class: "lvl", text: String(l.level) }), " " + l.label)));
  const rows = lLevels.map((ll) => {
    const tr = el("tr", null, el("th", { attrs: { scope: "row" } }, el("span", { class: "lvl", text: String(ll.level) }), " " + ll.label));
    for (const cl of cLevels) {
      const c = at.get(cl.level + ":" + ll.level) || { score: 0 };
      const count = num(c.count);
      const names = (c.threatScenarios || []).map((n) => titles.get(n) || lastSegment(n));
      const band = c.acceptable ? "cell-ok" : "cell-band-" + Math.min(4, 1 + Math.floor(3 * (num(c.score) - acceptable) / Math.max(1, maxScore - acceptable)));
      const td = el("td", {
        class: "cell " + band + (count ? " cell-has" : ""),
        attrs: { "data-consequence": cl.level, "data-likelihood": ll.level, "data-count": count,
          title: "Score " + score(c.score) + (c.acceptable ? ", acceptable" : ", over the acceptable level") + (names.length ? ": " + names.join(", ") : "") },
      }, el("span", { class: "count", text: count ? String(count) : "" }),
      el("span", { class: "visually-hidden", text: count ? (count === 1 ? " scenario: " : " scenarios: ") + names.join(", ") : "none" }),
      el("span", { class: "score", text: score(c.score) }));
      tr.appendChild(td);
    }
    return tr;
  });
  const total = cells.reduce((a, c) => a + num(c.count), 0);
  const over = cells.filter((c) => !c.acceptable).reduce((a, c) => a + num(c.count), 0);
  return el("figure", { class: "heatmap", attrs: { "data-which": which } },
    el("table", { class: "grid" }, el("caption", { text: title }), el("thead", null, head), el("tbody", null, rows)),
    el("figcaption", { class: "heat-summary", text: total + " scenarios, " + over + " over the acceptable level" }));
}

// ---------------------------------------------------------------------------
// 12. Plans and their items; incidents
// ---------------------------------------------------------------------------

async function viewPlans(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const readOnly = viewingAsAuthority(org.name);
  root.appendChild(el("h1", { text: "Security plans" }));
  const plans = await listAll("SecurityPlans", "ListSecurityPlans", { parent: org.name }, "securityPlans");
  if (!plans.length) root.appendChild(el("p", { class: "empty", text: "No security plan yet." }));
  const items = await Promise.all(plans.map((p) => attempt(listAll("PlanItems", "ListPlanItems", { parent: p.name }, "planItems"))));
  plans.forEach((p, i) => {
    const its = items[i] || [];
    const overdue = its.filter((x) => x.overdue).length;
    const s = el("section", { class: "panel plan" },
      el("h2", { text: p.title || lastSegment(p.name) }),
      el("p", { class: "doc-meta" }, "Revision " + p.revisionId + " · ", docState(p), " · ", link(docHref(p.name), "Document and revisions"),
        p.inForceTime ? " · in force since " + fmtDate(p.inForceTime) : " · not in force yet"),
      el("p", { class: "summary" }, its.length + " items; ", overdue ? badge(overdue + " overdue", "bad") : "none overdue", "."),
      el("h3", { text: "Items" }),
      items[i] ? table("The plan's items", [
        { label: "Item", cell: (x) => rowHead(itemHeadId(x), x.description || lastSegment(x.name)) },
        { label: "AEO criterion", cell: (x) => aeoCriterion(x.aeoCriterion) },
        { label: "Priority", cell: (x) => String(x.priority || "") },
        { label: "Owner", cell: (x) => x.owner },
        { label: "Due", cell: (x) => fmtDate(x.dueTime), class: "nowrap" },
        { label: "Status", cell: (x) => [el("span", { class: "item-status", attrs: { "data-status": (x.status || "").replace("PLAN_ITEM_STATUS_", "") }, text: label(x.status, "PLAN_ITEM_STATUS_") }),
          x.statusTime ? el("div", { class: "hint", text: "since " + fmtDate(x.statusTime) }) : null,
          x.verifier ? el("div", { class: "hint" }, "verified by ", person(x.verifier)) : null] },
        { label: "Overdue", cell: (x) => (x.overdue ? badge("Overdue", "bad") : "No") },
        { label: "Evidence", cell: (x) => (x.evidence || []).join("; ") },
        readOnly ? null : { label: "Change status", cell: (x) => itemStatusForm(x) },
      ].filter(Boolean), its, { rowClass: (x) => (x.overdue ? "row-overdue" : undefined), empty: "No items: the plan's assessment had no accepted countermeasure.", class: "data items" }) : null,
      el("h3", { text: "Monitoring" }),
      table("Monitoring activities", [
        { label: "Activity", cell: (a) => a.description || a.id },
        { label: "Every", cell: (a) => a.intervalDays + " days" },
        { label: "Owner", cell: (a) => a.owner },
        { label: "Last performed", cell: (a) => fmtDate(a.lastPerformTime) },
        { label: "Overdue", cell: (a) => (a.overdue ? badge("Overdue", "bad") : "No") },
      ], p.monitoringSchedule || [], { rowClass: (a) => (a.overdue ? "row-overdue" : undefined), empty: "No monitoring activity." }));
    root.appendChild(s);
  });
}

const PLAN_ITEM_STATUSES = ["PLAN_ITEM_STATUS_PLANNED", "PLAN_ITEM_STATUS_IN_PROGRESS", "PLAN_ITEM_STATUS_IMPLEMENTED", "PLAN_ITEM_STATUS_VERIFIED"];

function itemHeadId(x) {
  const m = /securityPlans\/([^/]+)\/items\/([^/]+)$/.exec(x.name || "");
  return "item-" + (m ? m[1] + "-" + m[2] : lastSegment(x.name));
}

// Move a plan item on (EDITOR): UpdatePlanItem of its status only, with its
// etag. VERIFIED needs evidence: the API says so when there is none.
function itemStatusForm(x) {
  const headId = itemHeadId(x);
  const what = "“" + (x.description || lastSegment(x.name)) + "”";
  const choice = select(PLAN_ITEM_STATUSES.map((v) => ({ value: v, label: label(v, "PLAN_ITEM_STATUS_") })));
  choice.value = x.status || PLAN_ITEM_STATUSES[0];
  const f = field("New status", choice);
  const set = button("Set status", (ev) => {
    const status = choice.value;
    if (status === x.status) {
      clearErrors();
      showStatus(what + " is " + label(status, "PLAN_ITEM_STATUS_") + " already.");
      return;
    }
    act(ev.currentTarget, () => call("PlanItems", "UpdatePlanItem",
      { planItem: { name: x.name, status, etag: x.etag }, updateMask: "status" }),
    "Status set: " + what + " is " + label(status, "PLAN_ITEM_STATUS_") + ".", headId);
  }, "btn btn-small");
  return rowActions(headId, el("div", { class: "inline-form" }, f.wrap, set));
}

async function viewIncidents(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const readOnly = viewingAsAuthority(org.name);
  root.appendChild(el("h1", { text: "Security incidents" }));
  const incidents = await listAll("SecurityIncidents", "ListSecurityIncidents", { parent: org.name }, "securityIncidents");
  const missing = incidents.filter((x) => x.notificationsMissing);
  root.appendChild(el("p", { class: "summary" }, incidents.length + " incidents; ",
    missing.length ? badge(missing.length + " with notifications missing", "bad") : "no notification missing", "."));
  root.appendChild(table("Security incidents", [
    { label: "Incident", cell: (x) => rowHead("incident-" + lastSegment(x.name), x.title || lastSegment(x.name)) },
    { label: "Occurred", cell: (x) => fmtTime(x.occurTime) },
    { label: "Severity", cell: (x) => label(x.severity, "INCIDENT_SEVERITY_") },
    { label: "State", cell: (x) => incidentState(x) },
    { label: "Where", cell: (x) => x.location || lastSegment(x.facility) },
    { label: "Notifications made", cell: (x) => (x.notifications || []).map((n) => label(n.kind, "AUTHORITY_KIND_") + ": " + n.authority + " (" + n.reference + ")").join("; ") },
    { label: "Missing notifications", cell: (x) => ((x.missingNotifications || []).length
      ? el("ul", { class: "plain-list" }, x.missingNotifications.map((n) => el("li", null, badge("Missing", "bad"), " " + label(n.kind, "AUTHORITY_KIND_") + ": " + n.authority + (n.dueTime ? ", due " + fmtTime(n.dueTime) : ""))))
      : "None") },
    { label: "Open actions", cell: (x) => String((x.actions || []).filter((a) => a.status === "ACTION_STATUS_OPEN").length) },
    readOnly ? null : { label: "Close or reopen", cell: (x) => incidentActions(x) },
  ].filter(Boolean), incidents, { rowClass: (x) => (x.notificationsMissing ? "row-missing" : undefined), empty: "No security incident recorded.", class: "data incidents" }));
}

const INCIDENT_TONE = { OPEN: "warn", CLOSED: "good" };
function incidentState(x) {
  const st = (x.state || "").replace("INCIDENT_STATE_", "");
  const b = badge(label(st), INCIDENT_TONE[st]);
  b.setAttribute("data-state", st);
  return [b,
    st === "CLOSED" && x.closer ? el("div", { class: "hint" }, "by ", person(x.closer), ", " + fmtTime(x.closeTime)) : null,
    st === "OPEN" && x.reopenReason ? el("div", { class: "reason", text: "Reopened: " + x.reopenReason }) : null];
}

// Close an open incident (ADMIN; the API names the notifications and actions
// still missing), or reopen a closed one with a reason.
function incidentActions(x) {
  const headId = "incident-" + lastSegment(x.name);
  const what = "“" + (x.title || lastSegment(x.name)) + "”";
  if (x.state === "INCIDENT_STATE_OPEN") {
    return rowActions(headId, button("Close", (ev) => act(ev.currentTarget,
      () => call("SecurityIncidents", "CloseSecurityIncident", { name: x.name, etag: x.etag }), "Closed: " + what + ".", headId), "btn btn-primary btn-small"));
  }
  if (x.state === "INCIDENT_STATE_CLOSED") {
    return rowActions(headId, reasonBox({
      open: "Reopen…", label: "Reason for reopening", submit: "Reopen", submitClass: "btn-primary", focusId: headId,
      run: (reason) => call("SecurityIncidents", "ReopenSecurityIncident", { name: x.name, etag: x.etag, reason }),
      done: "Reopened: " + what + " is open again.",
    }));
  }
  return "";
}

// ---------------------------------------------------------------------------
// 13. Readiness reports (printable)
// ---------------------------------------------------------------------------

const STATUS_TONE = { MET: "good", PARTIAL: "warn", MISSING: "bad", NOT_APPLICABLE: "muted" };

async function viewReadinessIndex(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const authority = authorityFor(org.name);
  root.appendChild(el("h1", { text: "Readiness" }));
  root.appendChild(el("p", { class: "lead", text: "The organization's system judged against each framework, from its data as it is now." +
    (authority ? " Partners' exemptions are judged by the certificates " + authority + " recognizes." : "") }));
  const [frameworks, recognitions] = await Promise.all([
    call("Readiness", "ListReadinessFrameworks", {}),
    authority ? attempt(listAll("Recognitions", "ListRecognitions", { parent: authority }, "recognitions")) : null,
  ]);
  root.appendChild(table("Frameworks", [
    { label: "Framework", cell: (f) => link("#/o/" + orgId + "/readiness/" + f.id, f.title || f.id) },
    { label: "Requirements", cell: (f) => String((f.requirements || []).length) },
    { label: "Source", cell: (f) => f.source },
  ], frameworks.frameworks || [], { class: "data frameworks" }));
  if (authority) root.appendChild(section("Certificates your authority recognizes", recognitionsTable(recognitions)));
}

async function viewReadinessReport(root, orgId, framework, byAuthority) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  const authority = byAuthority ? "organizations/" + byAuthority : authorityFor(org.name);
  const report = await call("Readiness", "GetReadinessReport",
    Object.assign({ name: org.name + "/readinessReports/" + framework }, authority ? { authority } : {}));
  const reqs = report.requirements || [];
  root.classList.add("report");
  root.appendChild(el("p", { class: "breadcrumb" }, link("#/o/" + orgId + "/readiness", "Readiness"), " › " + framework));
  root.appendChild(el("h1", { text: "Readiness: " + (report.frameworkTitle || framework) }));
  root.appendChild(facts([
    ["Organization", (org.legalName || "") + " (" + org.name + ")"],
    ["Framework", report.frameworkTitle],
    ["Source", report.source],
    ["Computed", fmtTime(report.computeTime)],
    ["Exemptions judged by", report.authority ? report.authority + "'s recognitions" : "internationally accepted certificates"],
  ]));
  const tools = el("div", { class: "actions no-print" }, button("Print or save as PDF", () => window.print(), "btn btn-primary"));
  if (!viewingAsAuthority(org.name)) tools.appendChild(authorityPicker(orgId, framework, byAuthority));
  root.appendChild(tools);

  const counts = [["Met", report.metCount, "good"], ["Partial", report.partialCount, "warn"],
    ["Missing", report.missingCount, "bad"], ["Not applicable", report.notApplicableCount, "muted"]];
  const summary = el("section", { class: "panel report-section summary-section" }, el("h2", { text: "Summary" }),
    el("p", { class: "counts" }, counts.map(([t, n, tone]) => [badge(t + ": " + num(n), tone), " "])),
    statusBar(counts),
    table("Each requirement's status", [
      { label: "Requirement", cell: (r) => r.id + ". " + (r.title || "") },
      { label: "Group", cell: (r) => r.group },
      { label: "Status", cell: (r) => statusBadge(r.status) },
      { label: "Evidence", cell: (r) => String((r.evidence || []).length), class: "num" },
      { label: "Missing", cell: (r) => String((r.missing || []).length), class: "num" },
    ].filter((c) => c.label !== "Group" || reqs.some((r) => r.group)), reqs, { class: "data status-table" }));
  root.appendChild(summary);

  // requirements by group (C-TPAT has three focus areas; the others one list)
  const groups = [];
  for (const r of reqs) {
    const g = r.group || "Requirements";
    let entry = groups.find((x) => x.name === g);
    if (!entry) groups.push(entry = { name: g, reqs: [] });
    entry.reqs.push(r);
  }
  for (const g of groups) {
    root.appendChild(el("section", { class: "panel report-section" }, el("h2", { text: g.name }), g.reqs.map(requirementBlock)));
  }
  if ((report.outsideSystem || []).length) {
    root.appendChild(el("section", { class: "panel report-section" }, el("h2", { text: "Outside the system" }),
      el("p", { text: "What the framework asks that the system does not judge." }),
      table("Outside the system", [
        { label: "Requirement", cell: (o) => (o.title || o.id) + " (" + o.id + ")" },
        { label: "Note", cell: (o) => o.note },
      ], report.outsideSystem)));
  }
}

function statusBadge(status) {
  const s = (status || "").replace("REQUIREMENT_STATUS_", "");
  const b = badge(label(s), STATUS_TONE[s]);
  b.setAttribute("data-status", s);
  return b;
}

function requirementBlock(r) {
  return el("article", { class: "requirement", attrs: { "data-id": r.id } },
    el("h3", null, el("span", { class: "req-id", text: r.id }), " " + (r.title || ""), " ", statusBadge(r.status)),
    (r.clauses || []).length ? el("p", { class: "clauses", text: r.clauses.join(" · ") }) : null,
    (r.evidence || []).length ? [el("h4", { text: "Evidence" }), el("ul", { class: "evidence" },
      r.evidence.map((e) => el("li", null, resourceLink(e.resource), e.description ? " — " + e.description : "")))] : null,
    (r.missing || []).length ? [el("h4", { text: "Missing" }), el("ul", { class: "missing" }, r.missing.map((m) => el("li", { text: m })))] : null);
}

// A bar of the statuses' shares, drawn in SVG.
function statusBar(counts) {
  const total = counts.reduce((a, c) => a + num(c[1]), 0) || 1;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 100 4");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "status-bar");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", counts.map((c) => c[0] + " " + num(c[1])).join(", "));
  let x = 0;
  for (const [, n, tone] of counts) {
    const w = (100 * num(n)) / total;
    if (!w) continue;
    const rect = document.createElementNS(NS, "rect");
    rect.setAttribute("x", String(x));
    rect.setAttribute("y", "0");
    rect.setAttribute("width", String(w));
    rect.setAttribute("height", "4");
    rect.setAttribute("class", "bar-" + tone);
    svg.appendChild(rect);
    x += w;
  }
  return svg;
}

// An operator may judge its partners by one customs authority's recognitions.
function authorityPicker(orgId, framework, current) {
  const input = textInput({ value: current || "", placeholder: "e.g. hzahh", pattern: "[a-z][a-z0-9-]*" });
  const form = el("form", { class: "inline-form" },
    field("Judge exemptions by customs authority (its id)", input).wrap,
    el("button", { attrs: { type: "submit" }, class: "btn", text: "Judge" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = input.value.trim().replace(/^organizations\//, "");
    navigate("/o/" + orgId + "/readiness/" + framework + (id ? "/by/" + id : ""));
  });
  return form;
}

// ---------------------------------------------------------------------------
// 14. Audit log
// ---------------------------------------------------------------------------

async function viewAudit(root, orgId) {
  const org = await subjectOrg(orgId);
  drawFrame(currentPath());
  root.appendChild(el("h1", { text: "Audit log" }));
  root.appendChild(el("p", { class: "lead", text: "Every write, and every validator's read, in order; the events are hash-chained, and the chain is verified below." }));
  const verify = await attempt(call("AuditLog", "VerifyAuditLog", { parent: org.name }));
  if (verify) {
    const ok = !!verify.intact;
    root.appendChild(el("section", { class: "panel verify " + (ok ? "verify-ok" : "verify-broken"), attrs: { "aria-labelledby": "verify-title" } },
      el("h2", { attrs: { id: "verify-title" }, text: ok ? "Chain intact" : "Chain broken" }),
      facts([
        ["Events checked", String(num(verify.checkedCount))],
        ["Head", verify.headPosition ? "position " + verify.headPosition + ", hash " + (verify.headHash || "") : ""],
        ["Broken at", verify.brokenPosition ? "position " + verify.brokenPosition : ""],
        ["Problem", verify.problem],
        ["Verified", fmtTime(verify.verifyTime)],
      ])));
  }
  const filter = textInput({ placeholder: 'method = "ApproveSecurityPolicy"' });
  const order = select([{ value: "position desc", label: "Newest first" }, { value: "position", label: "Oldest first" }]);
  const list = el("div", { class: "audit-list" });
  const more = button("Show more", null, "btn");
  more.hidden = true;
  let token = "";
  let rows = [];
  const load = async (reset) => {
    clearErrors();
    if (reset) { token = ""; rows = []; }
    const r = await attempt(call("AuditLog", "ListAuditEvents", { parent: org.name, pageSize: 200, pageToken: token, filter: filter.value.trim(), orderBy: order.value }));
    if (!r) return;
    rows = rows.concat(r.auditEvents || []);
    token = r.nextPageToken || "";
    list.replaceChildren(auditTable(rows, order.value === "position desc"));
    more.hidden = !token;
  };
  more.addEventListener("click", () => load(false));
  const form = el("form", { class: "inline-form no-print" }, field("Filter (e.g. role = VALIDATOR)", filter).wrap,
    field("Order", order).wrap,
    el("button", { attrs: { type: "submit" }, class: "btn", text: "Apply" }));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(true); });
  order.addEventListener("change", () => load(true));
  root.appendChild(section("Events", form, list, more));
  await load(true);
}

function auditTable(events, newestFirst) {
  return table(newestFirst ? "Audit events, newest first" : "Audit events, oldest first", [
    { label: "Position", cell: (e) => String(e.position), class: "num" },
    { label: "Time", cell: (e) => fmtTime(e.eventTime), class: "nowrap" },
    { label: "Who", cell: (e) => person(e.principal), class: "name" },
    { label: "Role", cell: (e) => label(e.role, "ROLE_"), class: "nowrap" },
    { label: "Method", cell: (e) => lastSegment(e.method) },
    { label: "Resource", cell: (e) => e.resource, class: "name" },
  ], events, { empty: "No events.", class: "data audit", showCaption: true });
}

// ---------------------------------------------------------------------------
// 15. Start
// ---------------------------------------------------------------------------

function start() {
  const skip = document.getElementById("skip");
  if (skip) {
    skip.addEventListener("click", (ev) => {
      ev.preventDefault();
      const h1 = document.querySelector("#main h1");
      (h1 || document.getElementById("main")).focus();
    });
  }
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#/") || !location.hash) render();
  });
  render();
}

start();
