// Two rostrum nodes on one NATS JetStream (Debian's nats-server), in a real Chromium: the room
// display served by node A shows what the chair does on node B; node A is killed with SIGKILL;
// the display, whose page came from A, reconnects to B (the welcome named it) and goes on
// showing the chair's changes. The strict CSP must allow that socket and report nothing else.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join as path, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = process.env.ROSTRUM_BIN ?? path(root, "target", "debug", "rostrum");
const shots = path(root, "target", "screenshots");
const ADMIN = "cluster-test-admin";
const SECRET = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

const procs = [];
let browser, nodeA, nodeB;
const cspViolations = [];

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(true)); // in use: the server listens
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function node(port, peer, nats) {
  const data = mkdtempSync(path(tmpdir(), "rostrum-cluster-"));
  const args = ["serve", "--bind", `127.0.0.1:${port}`, "--log-format", "json", "--data-dir", data,
    "--admin-token", ADMIN, "--secret", SECRET, "--store", nats, "--peer-url", `http://127.0.0.1:${peer}`];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "inherit"] });
  procs.push(child);
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    lines.on("line", (l) => {
      try {
        if (JSON.parse(l).fields?.message === "rostrum serving") resolve({ child, url: `http://127.0.0.1:${port}` });
      } catch {}
    });
    child.on("exit", (c) => reject(new Error(`node exited ${c}`)));
  });
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  const natsPort = await freePort();
  const nats = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(natsPort), "-sd", mkdtempSync(path(tmpdir(), "nats-"))], { stdio: "ignore" });
  procs.push(nats);
  await waitPort(natsPort);
  const [pa, pb] = [await freePort(), await freePort()];
  const url = `nats://127.0.0.1:${natsPort}`;
  [nodeA, nodeB] = await Promise.all([node(pa, pb, url), node(pb, pa, url)]);
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  for (const p of procs) p.kill("SIGKILL");
});

async function open(url, viewport, name) {
  const context = await browser.newContext({ viewport, locale: "en-US", reducedMotion: "reduce" });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) cspViolations.push(`${name}: ${m.text()}`);
  });
  page.on("pageerror", (e) => cspViolations.push(`${name}: page error ${e.message}`));
  await page.goto(url);
  await page.locator("#status[data-state=online]").waitFor();
  return page;
}

async function addWalkIn(chair, name) {
  await chair.fill("#proxy-name", name);
  await chair.click("#proxy-form button[type=submit]");
}

test("a display served by a node that dies reconnects to the other node and keeps up", async () => {
  const s = await (await fetch(`${nodeA.url}/api/sessions`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ title: "Main session: the future of the IGF" }),
  })).json();
  const display = await open(s.links.display, { width: 1920, height: 1080 }, "display on A");
  // The chair works on node B: the same link, the other node's address.
  const chair = await open(s.links.chair.replace(nodeA.url, nodeB.url), { width: 1366, height: 768 }, "chair on B");

  await addWalkIn(chair, "Amina Diallo");
  await display.locator("#next li", { hasText: "Amina Diallo" }).waitFor();

  // Record every state the status takes: "offline" may last only a few milliseconds (the first
  // retry waits a random 0-500 ms), too short for a locator's polling to see.
  await display.evaluate(() => {
    const status = document.querySelector("#status");
    window.states = [];
    new MutationObserver(() => window.states.push(status.dataset.state)).observe(status, { attributeFilter: ["data-state"] });
  });
  nodeA.child.kill("SIGKILL");
  await display.waitForFunction(() => window.states.includes("offline"));
  await display.waitForFunction(() => window.states.at(-1) === "online", null, { timeout: 20000 });
  const states = await display.evaluate(() => window.states);
  assert.ok(states.indexOf("offline") < states.lastIndexOf("online"), `offline, then online again: ${states}`);

  await addWalkIn(chair, "Kenji Sato");
  await display.locator("#next li", { hasText: "Kenji Sato" }).waitFor();
  assert.equal(await display.locator("#next li").count(), 2, "nothing lost, nothing doubled");
  await display.screenshot({ path: path(shots, "cluster-display-after-failover.png") });
  assert.deepEqual(cspViolations, []);
});
