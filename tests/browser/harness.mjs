// What the browser tests share: the real binary on port 0 with a fresh data directory,
// Debian's Chromium, pages opened at a person's screen size, axe-core, screenshots.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join as path, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const root = path(here, "..", "..");
const binary = process.env.ROSTRUM_BIN ?? path(root, "target", "debug", "rostrum");
export const shots = path(root, "target", "screenshots");
export const ADMIN = "browser-test-admin";
const AXE = readFileSync(path(here, "node_modules", "axe-core", "axe.min.js"), "utf8");
export const SIZES = { phone: { width: 390, height: 844 }, laptop: { width: 1366, height: 768 }, projector: { width: 1920, height: 1080 } };

/** Start the server (with `args` for `serve`) and the browser (with `browserArgs`); `stop()` ends both. */
export async function start({ args = [], browserArgs = [] } = {}) {
  mkdirSync(shots, { recursive: true });
  const data = mkdtempSync(path(tmpdir(), "rostrum-browser-"));
  const server = spawn(binary, ["serve", "--bind", "127.0.0.1:0", "--log-format", "json", "--admin-token", ADMIN, "--data-dir", data, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout });
  const base = await new Promise((resolve, reject) => {
    lines.on("line", (l) => {
      try {
        const v = JSON.parse(l);
        if (v.fields?.message === "rostrum serving") resolve(`http://${v.fields.addr}`);
      } catch {}
    });
    server.on("exit", (c) => reject(new Error(`server exited ${c}`)));
  });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required", ...browserArgs],
  });
  const problems = [];
  const env = {
    base,
    browser,
    problems,
    async createSession(body) {
      const res = await fetch(`${base}/api/sessions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201);
      return res.json();
    },
    /**
     * Open `url` at `size`; waits for the first snapshot unless `live` is false. A page that
     * sends the browser on (a room's join link) names where it `lands`, and is read there.
     */
    async open(url, size, { lang = "en-US", name, live = true, lands } = {}) {
      const context = await browser.newContext({ viewport: SIZES[size], locale: lang, reducedMotion: "reduce" });
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy/i.test(m.text())) problems.push(`${name}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`${name}: page error ${e.message}`));
      await page.goto(url);
      if (lands) await page.waitForURL(lands);
      // Every page names its icon inline, so no browser asks for /favicon.ico (a 404).
      const icon = await page.evaluate(() => document.querySelector("link[rel=icon]")?.getAttribute("href") ?? "");
      if (!icon.startsWith("data:image/svg+xml")) problems.push(`${name}: no inline icon`);
      if (live) {
        await page.locator("#status[data-state=online]").waitFor();
        await page.locator("#floor[data-phase]:not(:empty)").waitFor();
      }
      return { page, context, name };
    },
    async stop() {
      await browser.close();
      server.kill("SIGTERM");
    },
  };
  return env;
}

/** axe-core's WCAG 2.1 A and AA rules find nothing. */
export async function axe(p) {
  await p.page.evaluate(AXE);
  const result = await p.page.evaluate(() => window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }));
  const found = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(found, [], `${p.name}: axe violations`);
}

/** A screenshot of what is on screen now, into target/screenshots/. */
export async function shoot(p, label) {
  await p.page.evaluate(() => document.activeElement?.blur());
  await p.page.screenshot({ path: path(shots, `${label}.png`), fullPage: false });
}

/** Whether the element is wholly inside the viewport (and not scrolled out of its column). */
export async function inView(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
    // Clipped by a scrolled ancestor?
    for (let a = el.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowY === "visible" && s.overflowX === "visible") continue;
      const b = a.getBoundingClientRect();
      if (r.top < b.top - 1 || r.bottom > b.bottom + 1) return false;
    }
    return true;
  });
}

/** Fill a participant page's join form. */
export async function join(p, name, affiliation) {
  await p.page.fill("#name", name);
  await p.page.fill("#affiliation", affiliation);
  await p.page.click("#join-form button[type=submit]");
  await p.page.locator("#me-section").waitFor();
}

/** Raise a hand of `kind` from a participant page. */
export async function raise(p, kind = "intervention") {
  await p.page.selectOption("#kind", kind);
  await p.page.click("#raise-form button[type=submit]");
  await p.page.locator("#my-status .big").waitFor();
}

export const queueNames = (p) => p.page.locator("#queue .entry .name").allTextContents();
