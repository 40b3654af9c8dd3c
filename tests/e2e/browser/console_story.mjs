// console_story.mjs — the console's story in a real browser, through its
// pages only (typing and clicking; no API call of its own). The Python test
// (tests/e2e/test_console.py) seeds the data with gRPC and writes on standard
// input: {base, artifacts, userDataDir, keys: {...}, names..., expect: {...}}.
//
//   1. a wrong key: the API's own message in the alert region
//   2. the forwarder's security officer (EDITOR) may not approve: the API's message
//   3. the forwarder's security manager (ADMIN) approves the policy in review
//   4. the carrier writes a declaration, submits and approves it, and answers the request
//   5. the forwarder reads the answer and accepts it, reads the heat map before and
//      after countermeasures, and in the assessment's next draft accepts one proposed
//      countermeasure and declines another (by keyboard, an empty reason refused
//      first); moves the overdue plan item on (VERIFIED without evidence refused
//      first); closes an incident (one with a missing notification refused first)
//      and reopens a closed one; reads the audit log
//   6. the customs validator reads the forwarder's readiness report, and prints it;
//      none of the write actions of 5 is offered to it
//
// Each step saves a screenshot into `artifacts`. Prints one JSON line: what it saw.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { launch, readStdinJson, check } from "./browser.mjs";

const cfg = await readStdinJson();
const secrets = Object.values(cfg.keys).concat([cfg.wrongKey]);
const seen = { steps: [], requests: 0, consoleErrors: [] };

const browser = await launch(cfg.userDataDir);
let shotNo = 0;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.setViewport({ width: 1280, height: 900 });
  page.on("pageerror", (e) => seen.consoleErrors.push("pageerror: " + e.message));
  page.on("console", (m) => {
    // the API's refusals are HTTP errors the browser logs as "Failed to load resource"
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) seen.consoleErrors.push(m.text());
  });
  // no key in any URL the page asks for
  page.on("request", (r) => {
    seen.requests += 1;
    for (const s of secrets) check(!r.url().includes(s), "a key in a request URL: " + r.url().slice(0, 80));
  });

  // -- helpers ------------------------------------------------------------

  const rendered = () => page.$eval("#main", (m) => Number(m.getAttribute("data-rendered") || 0));

  // Wait for a page drawn after `before`, whose h1 is `h1` (when given).
  async function settled(before, h1) {
    await page.waitForFunction((b, t) => {
      const m = document.getElementById("main");
      if (m.getAttribute("aria-busy") !== "false" || Number(m.getAttribute("data-rendered") || 0) <= b) return false;
      const h = m.querySelector("h1");
      return !t || (h && h.textContent.trim() === t);
    }, {}, before, h1 || "");
  }

  // The element matching `selector` whose text is `text` (trimmed), waited for.
  async function byText(selector, text) {
    const h = await page.waitForFunction((sel, t) => [...document.querySelectorAll(sel)]
      .find((e) => e.textContent.trim() === t && e.offsetParent !== null), {}, selector, text);
    return h.asElement();
  }

  // Click a link or button and wait for the page it draws.
  async function go(selector, text, h1) {
    const before = await rendered();
    await (await byText(selector, text)).click();
    await settled(before, h1);
  }

  const text = (selector) => page.$eval(selector, (e) => e.textContent.replace(/\s+/g, " ").trim());

  // In table `tableSel`, the row whose heading reads `head`: the visible element
  // in it matching `selector` (whose text is `text`, when given), waited for.
  async function inRow(tableSel, head, selector, text) {
    const h = await page.waitForFunction((tsel, hd, sel, t) => {
      const row = [...document.querySelectorAll(tsel + " tbody tr")]
        .find((r) => r.querySelector("th") && r.querySelector("th").textContent.trim() === hd);
      return (row && [...row.querySelectorAll(sel)]
        .find((e) => (t === "" || e.textContent.trim() === t) && e.offsetParent !== null)) || null;
    }, {}, tableSel, head, selector, text || "");
    return h.asElement();
  }

  // The text of that row ("" when there is none).
  const rowText = (tableSel, head) => page.$$eval(tableSel + " tbody tr", (rows, hd) => {
    const row = rows.find((r) => r.querySelector("th") && r.querySelector("th").textContent.trim() === hd);
    return row ? row.textContent.replace(/\s+/g, " ").trim() : "";
  }, head);

  // Where the focus is: the element's tag, id, text, and the heading of its table row.
  const focus = () => page.evaluate(() => {
    const e = document.activeElement;
    const row = e && e.closest("tr");
    return { tag: e.tagName, id: e.id, text: e.textContent.trim(), row: row && row.querySelector("th") ? row.querySelector("th").textContent.trim() : "" };
  });
  const h1 = () => text("#main h1");
  const alertText = () => text("#alert");
  const waitAlert = () => page.waitForFunction(() => document.getElementById("alert").textContent.trim() !== "");
  const waitStatus = (t) => page.waitForFunction((x) => document.getElementById("status").textContent.includes(x), {}, t);

  async function shot(name) {
    shotNo += 1;
    const file = path.join(cfg.artifacts, String(shotNo).padStart(2, "0") + "-" + name + ".png");
    await page.screenshot({ path: file, fullPage: true });
    seen.steps.push(name);
  }

  // The key is in this tab's sessionStorage only: not in the URL, localStorage or a cookie.
  async function checkKeyKept(secret) {
    const where = await page.evaluate(() => ({
      url: location.href, local: JSON.stringify(Object.assign({}, localStorage)),
      session: JSON.stringify(Object.assign({}, sessionStorage)), cookie: document.cookie,
    }));
    check(!where.url.includes(secret), "the key in the URL");
    check(!where.local.includes(secret), "the key in localStorage");
    check(!where.cookie.includes(secret), "the key in a cookie");
    check(where.session.includes(secret), "the key not in sessionStorage");
    const cookies = typeof browser.cookies === "function" ? await browser.cookies() : await page.cookies();
    check(!JSON.stringify(cookies).includes(secret), "the key in the browser's cookies");
  }

  async function signIn(secret, expectH1) {
    await page.waitForSelector("#main form.signin input[type=password]");
    const before = await rendered();
    await page.type("#main form.signin input[type=password]", secret);
    await page.keyboard.press("Enter");
    await settled(before, expectH1);
    await checkKeyKept(secret);
  }

  async function signOut() {
    const before = await rendered();
    await (await byText("#who button", "Sign out")).click();
    await settled(before, "Sign in");
    const stored = await page.evaluate(() => sessionStorage.length + localStorage.length);
    check(stored === 0, "storage not empty after signing out: " + stored);
    check((await text("#status")).includes("signed out"), "no signed-out status");
  }

  // -- 1. a wrong key -----------------------------------------------------

  await page.goto(cfg.base + "/console/");
  await settled(0, "Sign in");
  check(page.url().endsWith("#/signin"), "the sign-in page's URL: " + page.url());
  const navHidden = await page.$eval("#nav", (n) => n.hidden);
  check(navHidden, "navigation shown before signing in");
  await page.type("#main form.signin input[type=password]", cfg.wrongKey);
  await page.keyboard.press("Enter");
  await waitAlert();
  const wrong = await alertText();
  check(wrong.includes("unauthenticated") && wrong.includes(cfg.expect.wrongKeyMessage), "wrong key alert: " + wrong);
  check(await page.evaluate(() => sessionStorage.length === 0), "a wrong key kept in sessionStorage");
  check((await h1()) === "Sign in", "still on the sign-in page");
  await shot("wrong-key");

  // -- 2. the security officer (EDITOR) may not approve ---------------------

  await signIn(cfg.keys.fwdEditor, cfg.fwdLegalName);
  // the header names the person (the key's display name, from ApiKeys.GetCaller), the role and the organization
  const whoLine = await text("#who .who-name");
  check(whoLine.includes("security officer (Editor)") && whoLine.includes(cfg.fwdLegalName), "the header's sign-in line: " + whoLine);
  // by keyboard: from the page's heading back to the navigation's "Documents", with a visible focus
  check(await page.evaluate(() => document.activeElement.tagName === "H1"), "focus on the page's heading");
  let focused = "";
  for (let i = 0; i < 20 && focused !== "Documents"; i++) {
    await page.keyboard.down("Shift");
    await page.keyboard.press("Tab");
    await page.keyboard.up("Shift");
    focused = await page.evaluate(() => document.activeElement.textContent.trim());
  }
  const ring = await page.evaluate(() => {
    const e = document.activeElement;
    return { tag: e.tagName, visible: e.matches(":focus-visible"), outline: getComputedStyle(e).outlineStyle };
  });
  check(focused === "Documents" && ring.tag === "A" && ring.visible && ring.outline !== "none", "keyboard focus " + JSON.stringify(ring));
  const beforeKey = await rendered();
  await page.keyboard.press("Enter");
  await settled(beforeKey, "Controlled documents");
  await go("#main a", cfg.expect.policyTitle, cfg.expect.policyTitle);
  check((await text("#main .doc-meta")).includes("In review"), "policy not in review");
  await (await byText("#main .doc-actions button", "Approve")).click();
  await waitAlert();
  const denied = await alertText();
  check(denied.includes("permission_denied") && denied.includes(cfg.expect.editorApproveMessage), "editor's approve: " + denied);
  check((await text("#main .doc-meta")).includes("In review"), "the policy changed state");
  await shot("editor-may-not-approve");
  // the browser's back button: the page before, drawn again
  const beforeBack = await rendered();
  await page.goBack();
  await settled(beforeBack, "Controlled documents");
  check(page.url().endsWith("#/o/" + cfg.fwdId + "/documents"), "back to " + page.url());
  await signOut();

  // -- 3. the security manager approves the policy ------------------------

  await signIn(cfg.keys.fwdAdmin, cfg.fwdLegalName);
  check((await text("#main")).includes("Waiting for a decision"), "overview");
  await go("#main a", cfg.expect.policyTitle, cfg.expect.policyTitle);
  check(page.url().includes("#/o/" + cfg.fwdId + "/documents/securityPolicies/"), "policy URL " + page.url());
  const beforeApprove = await rendered();
  await (await byText("#main .doc-actions button", "Approve")).click();
  await settled(beforeApprove, cfg.expect.policyTitle);
  await waitStatus("Approved");
  check((await text("#main .doc-meta")).includes("Approved"), "policy not approved on the page");
  const history = await page.$$eval("#main table.revisions tbody tr", (rows) => rows.map((r) => r.textContent.replace(/\s+/g, " ").trim()));
  check(history.length === 2 && history[0].includes("Revision 1") && history[0].includes("Superseded") &&
    history[1].includes("Revision 2") && history[1].includes("Approved"), "revision history: " + JSON.stringify(history));
  // people by name: the manager lists its organization's keys, so the approver is a display name
  check(history[1].includes("security manager"), "the approver by name: " + JSON.stringify(history));
  const control = await text("#main");
  check(control.includes("security manager, 20"), "the submitter and approver by name, with the time");
  check(!(await alertText()), "an alert after approving");
  await shot("manager-approved-policy");
  await signOut();

  // -- 4. the carrier answers the request --------------------------------

  await signIn(cfg.keys.carrierAdmin, cfg.carrierLegalName);
  await go("#nav a", "Declarations", "Declarations of security");
  let inbox = await text("#inbox");
  check(inbox.includes(cfg.fwdId) && inbox.includes("Requested") && inbox.includes(cfg.expect.requestMessage), "carrier's inbox: " + inbox);
  check(inbox.includes("No approved declaration yet"), "inbox offers an answer without a declaration");
  await shot("carrier-inbox");
  await go("#main a", "Write a declaration of security", "Write a declaration of security");
  const fill = async (labelText, value) => {
    const id = await page.evaluate((t) => [...document.querySelectorAll("label")].find((l) => l.textContent.trim() === t).htmlFor, labelText);
    await page.click("#" + id, { clickCount: 3 });
    await page.type("#" + id, value);
  };
  await fill("Title", cfg.expect.declarationTitle);
  await fill("C. Cargo security (required)", "Containers sealed with ISO 17712 seals, checked at each handover");
  await fill("D. Conveyance security", "Trucks locked and tracked by GPS");
  await fill("E. Premises security (required)", "Fenced depot, CCTV, gate log");
  await fill("F. Personnel security (required)", "Background checks for drivers");
  await fill("G. Trading partner security (required)", "Subcontractors bound by the same measures");
  await fill("Signatory's name", "J. Kowalski");
  await fill("Signatory's position", "Managing Director");
  await shot("carrier-writes-declaration");
  let before = await rendered();
  await (await byText("#main form button[type=submit]", "Save as draft")).click();
  await settled(before, cfg.expect.declarationTitle);
  check((await text("#main .doc-meta")).includes("Draft"), "declaration not a draft");
  before = await rendered();
  await (await byText("#main .doc-actions button", "Submit for review")).click();
  await settled(before, cfg.expect.declarationTitle);
  check((await text("#main .doc-meta")).includes("In review"), "declaration not in review");
  before = await rendered();
  await (await byText("#main .doc-actions button", "Approve")).click();
  await settled(before, cfg.expect.declarationTitle);
  check((await text("#main .doc-meta")).includes("Approved"), "declaration not approved");
  seen.declarationUrl = page.url();
  await shot("carrier-approved-declaration");
  await go("#nav a", "Declarations", "Declarations of security");
  const choice = await page.$eval("#inbox select", (s) => ({ id: s.id, options: [...s.options].map((o) => o.textContent) }));
  check(choice.options.length === 1 && choice.options[0].includes(cfg.expect.declarationTitle), "answer choices " + JSON.stringify(choice));
  const labelOk = await page.$eval(`label[for="${choice.id}"]`, (l) => l.textContent.trim());
  check(labelOk === "Declaration to answer with", "the select's label");
  before = await rendered();
  await (await byText("#inbox button", "Answer")).click();
  await settled(before, "Declarations of security");
  await waitStatus("Answered");
  inbox = await text("#inbox");
  check(inbox.includes("Answered") && inbox.includes("revision 1"), "inbox after answering: " + inbox);
  await shot("carrier-answered");
  await signOut();

  // -- 5. the forwarder: the answer, the heat map, plans, incidents, log ----

  await signIn(cfg.keys.fwdAdmin, cfg.fwdLegalName);
  await go("#nav a", "Declarations", "Declarations of security");
  let outbox = await text("#outbox");
  check(outbox.includes("Answered"), "outbox: " + outbox);
  await (await byText("#outbox button", "Read revision 1")).click();
  await page.waitForFunction(() => { const a = document.querySelector("#outbox .attached"); return a && !a.hidden; });
  check((await text("#outbox .attached")).includes("Trucks locked and tracked by GPS"), "the attached declaration");
  await shot("forwarder-reads-answer");
  before = await rendered();
  await (await byText("#outbox button", "Accept")).click();
  await settled(before, "Declarations of security");
  outbox = await text("#outbox");
  check(outbox.includes("Accepted"), "outbox after accepting: " + outbox);

  await go("#nav a", "Assessments", "Security assessments");
  await go("#main a", cfg.expect.assessmentTitle, cfg.expect.assessmentTitle);
  const grid = await page.$$eval("#main figure.heatmap", (figs) => Object.fromEntries(figs.map((f) => [
    f.getAttribute("data-which"),
    [...f.querySelectorAll("td.cell")].filter((c) => Number(c.getAttribute("data-count")) > 0)
      .map((c) => [Number(c.getAttribute("data-consequence")), Number(c.getAttribute("data-likelihood")), Number(c.getAttribute("data-count")), c.querySelector(".count").textContent])
      .sort(),
  ])));
  seen.heatMap = grid;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  check(same(grid.before, cfg.expect.before), "before: " + JSON.stringify(grid.before));
  check(same(grid.after, cfg.expect.after), "after: " + JSON.stringify(grid.after));
  const cellCount = await page.$$eval("#main figure.heatmap[data-which=before] td.cell", (c) => c.length);
  check(cellCount === 25, "a 5 x 5 grid: " + cellCount);
  const summaries = await page.$$eval("#main .heat-summary", (s) => s.map((x) => x.textContent));
  check(same(summaries, cfg.expect.heatSummaries), "heat summaries " + JSON.stringify(summaries));
  const ranked = await page.$$eval("#main table.ranked tbody tr th", (t) => t.map((x) => x.textContent));
  check(same(ranked, cfg.expect.ranked), "ranked " + JSON.stringify(ranked));
  await shot("forwarder-heat-map");

  // the assessment's next revision is a draft: the manager decides the proposed countermeasures
  check((await text("#main .doc-meta")).includes("Revision 2") && (await text("#main .doc-meta")).includes("Draft"), "the assessment's draft");
  const cms = "#main table.countermeasures";
  check((await text("#countermeasures")).includes("2 proposed"), "proposed countermeasures: " + (await text("#countermeasures")));
  // the ones accepted in revision 1 are not for deciding again here
  const fence = await rowText(cms, cfg.expect.overdueItem);
  check(fence.includes("Accepted") && !fence.includes("Decline"), "a decision offered on an accepted countermeasure: " + fence);
  before = await rendered();
  await (await inRow(cms, cfg.expect.acceptCountermeasure, "button", "Accept")).click();
  await settled(before, cfg.expect.assessmentTitle);
  await waitStatus("Accepted");
  check(!(await alertText()), "an alert after accepting: " + (await alertText()));
  let row = await rowText(cms, cfg.expect.acceptCountermeasure);
  check(row.includes("Accepted") && row.includes("by security manager") && !row.includes("Decline"), "the accepted countermeasure: " + row);
  let focused5 = await focus();
  check(focused5.row === cfg.expect.acceptCountermeasure && focused5.id.startsWith("cm-phishing-"), "focus after accepting: " + JSON.stringify(focused5));
  // the scenario is scored again: the heat map after countermeasures moved
  const after2 = await page.$$eval("#main figure.heatmap[data-which=after] td.cell", (cs) => cs
    .filter((c) => Number(c.getAttribute("data-count")) > 0)
    .map((c) => [Number(c.getAttribute("data-consequence")), Number(c.getAttribute("data-likelihood")), Number(c.getAttribute("data-count")), c.querySelector(".count").textContent])
    .sort());
  check(same(after2, cfg.expect.afterAccepted), "after accepting: " + JSON.stringify(after2));
  check((await text("#countermeasures")).includes("1 proposed"), "one left to decide");
  await shot("manager-accepts-countermeasure");

  // decline the other, by keyboard: the box opens on the reason, Escape closes it
  const decline = await inRow(cms, cfg.expect.declineCountermeasure, "button", "Decline…");
  await decline.focus();
  await page.keyboard.press("Enter");
  let f = await focus();
  check(f.tag === "TEXTAREA" && f.row === cfg.expect.declineCountermeasure, "focus in the reason: " + JSON.stringify(f));
  check(await decline.evaluate((b) => b.getAttribute("aria-expanded") === "true"), "Decline… not expanded");
  const reasonLabel = await page.evaluate(() => document.querySelector(`label[for="${document.activeElement.id}"]`).textContent.trim());
  check(reasonLabel === "Reason for declining", "the reason's label: " + reasonLabel);
  await page.keyboard.press("Escape");
  f = await focus();
  check(f.text === "Decline…" && f.row === cfg.expect.declineCountermeasure, "focus back on Decline…: " + JSON.stringify(f));
  check(await decline.evaluate((b) => b.getAttribute("aria-expanded") === "false"), "Decline… still expanded");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab"); // to the Decline button, the reason left empty
  f = await focus();
  check(f.text === "Decline", "Tab to Decline: " + JSON.stringify(f));
  await page.keyboard.press("Enter");
  await waitAlert();
  const emptyReason = await alertText();
  check(emptyReason.includes("invalid_argument") && emptyReason.includes(cfg.expect.declineEmptyMessage), "an empty reason: " + emptyReason);
  check((await focus()).text === "Decline", "focus kept on Decline after the refusal");
  check((await rowText(cms, cfg.expect.declineCountermeasure)).includes("Proposed"), "declined without a reason");
  await shot("manager-decline-needs-reason");
  await page.keyboard.down("Shift");
  await page.keyboard.press("Tab");
  await page.keyboard.up("Shift");
  await page.keyboard.type(cfg.expect.declineReason);
  await page.keyboard.press("Tab");
  before = await rendered();
  await page.keyboard.press("Enter");
  await settled(before, cfg.expect.assessmentTitle);
  await waitStatus("Declined");
  check(!(await alertText()), "an alert after declining: " + (await alertText()));
  row = await rowText(cms, cfg.expect.declineCountermeasure);
  check(row.includes("Declined") && row.includes("Reason: " + cfg.expect.declineReason), "the declined countermeasure: " + row);
  f = await focus();
  check(f.row === cfg.expect.declineCountermeasure && f.id.startsWith("cm-smuggling-"), "focus after declining: " + JSON.stringify(f));
  check((await text("#countermeasures")).includes("none proposed"), "none left to decide");
  await shot("manager-declines-countermeasure");

  await go("#nav a", "Plans", "Security plans");
  const overdue = await page.$$eval("#main tr.row-overdue th", (t) => t.map((x) => x.textContent));
  check(same(overdue, [cfg.expect.overdueItem]), "overdue items " + JSON.stringify(overdue));
  check((await text("#main")).includes("1 overdue"), "the overdue count");
  await shot("forwarder-plan-items");

  // the overdue item moves on: VERIFIED without evidence is refused, IMPLEMENTED is not overdue
  const items = "#main table.items";
  const statusChoice = await inRow(items, cfg.expect.overdueItem, "select");
  const statusLabel = await statusChoice.evaluate((s) => document.querySelector(`label[for="${s.id}"]`).textContent.trim());
  check(statusLabel === "New status", "the status select's label: " + statusLabel);
  const options = await statusChoice.evaluate((s) => [...s.options].map((o) => o.textContent));
  check(same(options, ["Planned", "In progress", "Implemented", "Verified"]), "status options " + JSON.stringify(options));
  await statusChoice.select("PLAN_ITEM_STATUS_VERIFIED");
  await (await inRow(items, cfg.expect.overdueItem, "button", "Set status")).click();
  await waitAlert();
  const noEvidence = await alertText();
  check(noEvidence.includes("invalid_argument") && noEvidence.includes(cfg.expect.verifyMessage), "VERIFIED without evidence: " + noEvidence);
  check((await rowText(items, cfg.expect.overdueItem)).includes("Planned"), "the item moved without evidence");
  await shot("manager-verify-needs-evidence");
  await statusChoice.select("PLAN_ITEM_STATUS_IMPLEMENTED");
  before = await rendered();
  await (await inRow(items, cfg.expect.overdueItem, "button", "Set status")).click();
  await settled(before, "Security plans");
  await waitStatus("Status set");
  check((await text("#status")).includes(cfg.expect.overdueItem) && (await text("#status")).includes("Implemented"), "the status line: " + (await text("#status")));
  check(!(await alertText()), "an alert after setting the status");
  row = await rowText(items, cfg.expect.overdueItem);
  check(row.includes("Implemented") && !row.includes("Overdue"), "the item after: " + row);
  check((await page.$$("#main tr.row-overdue")).length === 0 && (await text("#main")).includes("none overdue"), "still overdue");
  f = await focus();
  check(f.row === cfg.expect.overdueItem && f.id.startsWith("item-"), "focus after setting the status: " + JSON.stringify(f));
  await shot("manager-moves-plan-item");

  await go("#nav a", "Incidents", "Security incidents");
  const missing = await page.$$eval("#main tr.row-missing", (t) => t.map((x) => x.textContent.replace(/\s+/g, " ")));
  check(missing.length === 1 && missing[0].includes("Missing") && missing[0].includes("Customs: Hauptzollamt Hamburg"), "missing " + JSON.stringify(missing));
  await shot("forwarder-incidents");

  // closing the one whose notification is missing is refused, with the API's reason
  const incidents = "#main table.incidents";
  await (await inRow(incidents, cfg.expect.missingIncident, "button", "Close")).click();
  await waitAlert();
  const refused = await alertText();
  check(refused.includes("failed_precondition") && refused.includes(cfg.expect.closeRefusedMessage), "closing with a notification missing: " + refused);
  check((await rowText(incidents, cfg.expect.missingIncident)).includes("Open"), "closed with a notification missing");
  await shot("manager-close-refused");
  // the one whose notification is made and action done closes
  before = await rendered();
  await (await inRow(incidents, cfg.expect.closableIncident, "button", "Close")).click();
  await settled(before, "Security incidents");
  await waitStatus("Closed");
  check(!(await alertText()), "an alert after closing");
  row = await rowText(incidents, cfg.expect.closableIncident);
  check(row.includes("Closed") && row.includes("by security manager") && row.includes("Reopen…"), "the closed incident: " + row);
  f = await focus();
  check(f.row === cfg.expect.closableIncident && f.id === "incident-gate-damage", "focus after closing: " + JSON.stringify(f));
  await shot("manager-closes-incident");
  // and a closed one reopens, with a reason
  const reopen = await inRow(incidents, cfg.expect.closedIncident, "button", "Reopen…");
  await reopen.click();
  f = await focus();
  check(f.tag === "TEXTAREA" && f.row === cfg.expect.closedIncident, "focus in the reason to reopen: " + JSON.stringify(f));
  await page.keyboard.type(cfg.expect.reopenReason);
  await shot("manager-reopen-reason");
  before = await rendered();
  await (await inRow(incidents, cfg.expect.closedIncident, "button", "Reopen")).click();
  await settled(before, "Security incidents");
  await waitStatus("Reopened");
  row = await rowText(incidents, cfg.expect.closedIncident);
  check(row.includes("Open") && row.includes("Reopened: " + cfg.expect.reopenReason), "the reopened incident: " + row);
  await inRow(incidents, cfg.expect.closedIncident, "button", "Close"); // it may be closed again
  await shot("manager-reopens-incident");

  await go("#nav a", "Partners", "Business partners");
  const due = await page.$$eval("#main tr.row-due th", (t) => t.map((x) => x.textContent));
  check(due.includes("Elbe Haulage OHG"), "partners due " + JSON.stringify(due));

  await go("#nav a", "Audit log", "Audit log");
  check((await text("#main .verify h2")) === "Chain intact", "audit verification");
  const methods = await page.$$eval("#main table.audit tbody tr", (rows) => rows.map((r) => r.children[4].textContent));
  check(["ApproveSecurityPolicy", "AcceptDeclarationRequest", "AcceptCountermeasure", "DeclineCountermeasure", "UpdatePlanItem",
    "CloseSecurityIncident", "ReopenSecurityIncident"].every((m) => methods.includes(m)), "audit methods " + JSON.stringify(methods.slice(0, 12)));
  // newest first: the positions fall down the page
  const positions = await page.$$eval("#main table.audit tbody tr", (rows) => rows.map((r) => Number(r.children[0].textContent)));
  check(positions.length > 2 && positions.every((p, i) => i === 0 || p < positions[i - 1]), "the audit log newest first: " + positions.slice(0, 5));
  const whos = await page.$$eval("#main table.audit tbody tr", (rows) => rows.map((r) => r.children[2].textContent));
  check(whos.includes("security manager"), "the audit log's people by name: " + JSON.stringify(whos.slice(0, 5)));
  await shot("forwarder-audit-log");
  await signOut();

  // -- 6. the validator reads the readiness report, and prints it -----------

  await signIn(cfg.keys.validator, "Operators to validate");
  const validatorLine = await text("#who .who-name");
  check(validatorLine.includes("validator (Validator)") && validatorLine.includes(cfg.customsLegalName), "the validator's sign-in line: " + validatorLine);
  check((await text("#main")).includes("DE-AEO-2026-00417"), "the grant's application");
  await go("#main a", cfg.fwdLegalName, cfg.fwdLegalName);
  check((await text("#nav .context")).includes("read only"), "the read-only note");
  await go("#nav a", "Documents", "Controlled documents");
  await go("#main a", cfg.expect.policyTitle, cfg.expect.policyTitle);
  check((await page.$$("#main .doc-actions")).length === 0, "document actions offered to a validator");
  // nor the decisions on countermeasures, plan items and incidents
  await go("#nav a", "Assessments", "Security assessments");
  await go("#main a", cfg.expect.assessmentTitle, cfg.expect.assessmentTitle);
  check((await rowText("#main table.countermeasures", cfg.expect.acceptCountermeasure)).includes("Accepted"), "the validator reads the countermeasures");
  check((await page.$$("#countermeasures button, #countermeasures textarea")).length === 0, "countermeasure decisions offered to a validator");
  await go("#nav a", "Plans", "Security plans");
  check((await rowText("#main table.items", cfg.expect.overdueItem)).includes("Implemented"), "the validator reads the plan items");
  check((await page.$$("#main table.items select, #main table.items button")).length === 0, "plan item status offered to a validator");
  await go("#nav a", "Incidents", "Security incidents");
  check((await rowText("#main table.incidents", cfg.expect.closableIncident)).includes("Closed"), "the validator reads the incidents");
  check((await page.$$("#main table.incidents button, #main table.incidents textarea")).length === 0, "incident actions offered to a validator");
  await shot("validator-incidents-read-only");
  await go("#nav a", "Readiness", "Readiness");
  check((await text("#main")).includes("AEO-S"), "the authority's recognitions");
  await go("#main a", cfg.expect.frameworkTitle, "Readiness: " + cfg.expect.frameworkTitle);
  const report = await text("#main");
  check(report.includes(cfg.customs + "'s recognitions"), "judged by the authority");
  check(report.includes("Met: ") && report.includes("Missing: "), "the counts");
  const evidence = await page.$$eval("#main .evidence a", (a) => a.map((x) => x.getAttribute("href")));
  check(evidence.length > 0 && evidence.every((h) => h.startsWith("#/o/" + cfg.fwdId + "/")), "evidence links " + JSON.stringify(evidence));
  const reqs = await page.$$eval("#main article.requirement", (a) => a.map((x) => x.getAttribute("data-id")));
  check(same(reqs, ["A", "B", "C", "D", "E", "F", "G", "H", "I"]), "requirements " + JSON.stringify(reqs));
  await shot("validator-readiness");

  await page.emulateMediaType("print");
  const printed = await page.evaluate(() => {
    const shown = (e) => e && getComputedStyle(e).display !== "none" && e.offsetParent !== null;
    const sections = [...document.querySelectorAll("#main .report-section")];
    return {
      nav: getComputedStyle(document.getElementById("nav")).display,
      header: getComputedStyle(document.querySelector(".site-header")).display,
      buttonsShown: [...document.querySelectorAll("button")].filter(shown).length,
      formsShown: [...document.querySelectorAll("form")].filter(shown).length,
      body: [getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor],
      breaks: sections.map((s) => getComputedStyle(s).breakBefore),
      h1: document.querySelector("#main h1").textContent,
    };
  });
  seen.print = printed;
  check(printed.nav === "none" && printed.header === "none", "navigation printed: " + JSON.stringify(printed));
  check(printed.buttonsShown === 0 && printed.formsShown === 0, "buttons printed: " + JSON.stringify(printed));
  check(printed.body[0] === "rgb(0, 0, 0)" && printed.body[1] === "rgb(255, 255, 255)", "not black on white: " + printed.body);
  check(printed.breaks.length >= 2 && printed.breaks[0] !== "page" && printed.breaks.slice(1).every((b) => b === "page"),
    "page breaks between sections: " + JSON.stringify(printed.breaks));
  await shot("validator-readiness-print");
  await page.pdf({ path: path.join(cfg.artifacts, "readiness-report.pdf"), format: "A4", printBackground: false });
  await page.emulateMediaType(null);
  await signOut();

  check(seen.consoleErrors.length === 0, "errors in the page: " + JSON.stringify(seen.consoleErrors));
  seen.ok = true;
} catch (e) {
  seen.ok = false;
  seen.error = String(e && e.stack || e);
  try {
    const pages = await browser.pages();
    const p = pages[pages.length - 1];
    await p.screenshot({ path: path.join(cfg.artifacts, "failure.png"), fullPage: true });
    seen.failurePage = { url: p.url(), main: (await p.$eval("#main", (m) => m.innerText)).slice(0, 2000),
      alert: await p.$eval("#alert", (a) => a.innerText) };
  } catch (e2) { /* nothing more to show */ }
} finally {
  await browser.close();
}
writeFileSync(path.join(cfg.artifacts, "story.json"), JSON.stringify(seen, null, 1));
process.stdout.write(JSON.stringify(seen) + "\n");
process.exit(seen.ok ? 0 : 1);
