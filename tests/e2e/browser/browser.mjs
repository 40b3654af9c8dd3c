// browser.mjs — what the browser tests share: puppeteer-core from the
// repository's .tools/node_modules (scripts/deps.sh), Debian's chromium
// launched headless with a fresh profile, and small waiting helpers.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const tools = path.resolve(here, "../../../.tools/node_modules");
const require = createRequire(path.join(tools, "noop.js"));
const puppeteer = require("puppeteer-core");

export const CHROMIUM = "/usr/bin/chromium";

// A headless chromium with its own profile directory (userDataDir).
export async function launch(userDataDir) {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

// Read the JSON the Python test writes on standard input.
export async function readStdinJson() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

export function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}
