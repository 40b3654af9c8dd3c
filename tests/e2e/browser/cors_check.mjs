// cors_check.mjs — pages of two other origins call supplysec's API from a real
// browser: the one whose origin is in --cors-origins gets the answer, the
// other is blocked by the browser (the server refuses its preflight).
// Standard input: {allowedPage, otherPage, base, key, userDataDir, artifacts}.
// Prints one JSON line: what each page reported.
import path from "node:path";
import { launch, readStdinJson } from "./browser.mjs";

const cfg = await readStdinJson();
const out = { ok: true };
const browser = await launch(cfg.userDataDir);
try {
  for (const [which, url] of [["allowed", cfg.allowedPage], ["other", cfg.otherPage]]) {
    const page = await browser.newPage();
    const messages = [];
    page.on("console", (m) => messages.push(m.text()));
    await page.goto(url);
    await page.waitForFunction(() => typeof window.callApi === "function");
    out[which] = await page.evaluate((b, k) => window.callApi(b, k), cfg.base, cfg.key);
    out[which + "Origin"] = await page.evaluate(() => location.origin);
    out[which + "Console"] = messages;
    await page.screenshot({ path: path.join(cfg.artifacts, "cors-" + which + ".png") });
    await page.close();
  }
} catch (e) {
  out.ok = false;
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(out.ok ? 0 : 1);
