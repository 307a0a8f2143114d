// The organizer's page and the room poster in a real Chromium (Debian's /usr/bin/chromium),
// through the real service: the admin token in the fragment (a wrong one is refused), a session
// created from the form and its links handed out, the list following the session live, the
// poster printed on one page, a person in the room joining with the typed room code, the session
// ended from the page. axe-core checks each page, the strict CSP must report nothing, and the
// pages are photographed at phone and projector sizes into target/screenshots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join as path, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = process.env.ROSTRUM_BIN ?? path(root, "target", "debug", "rostrum");
const shots = path(root, "target", "screenshots");
const ADMIN = "organizer-test-admin";
const AXE = readFileSync(path(dirname(fileURLToPath(import.meta.url)), "node_modules", "axe-core", "axe.min.js"), "utf8");
const SIZES = { phone: { width: 390, height: 844 }, laptop: { width: 1366, height: 768 }, projector: { width: 1920, height: 1080 } };

let server, base, browser;
const cspViolations = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  const data = mkdtempSync(path(tmpdir(), "rostrum-organize-"));
  server = spawn(binary, ["serve", "--bind", "127.0.0.1:0", "--log-format", "json", "--admin-token", ADMIN, "--data-dir", data], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout });
  base = await new Promise((resolve, reject) => {
    lines.on("line", (l) => {
      try {
        const v = JSON.parse(l);
        if (v.fields?.message === "rostrum serving") resolve(`http://${v.fields.addr}`);
      } catch {}
    });
    server.on("exit", (c) => reject(new Error(`server exited ${c}`)));
  });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

async function open(url, size, name) {
  const context = await browser.newContext({ viewport: SIZES[size], locale: "en-US", reducedMotion: "reduce" });
  const page = await context.newPage();
  watch(page, name);
  await page.goto(url);
  return { page, context, name };
}

function watch(page, name) {
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) cspViolations.push(`${name}: ${m.text()}`);
  });
  page.on("pageerror", (e) => cspViolations.push(`${name}: page error ${e.message}`));
}

async function axe(p) {
  await p.page.evaluate(AXE);
  const result = await p.page.evaluate(() => window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }));
  const found = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(found, [], `${p.name}: axe violations`);
}

async function shoot(p, label) {
  await p.page.evaluate(() => {
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  await p.page.screenshot({ path: path(shots, `${label}.png`), fullPage: false });
}

const card = (p, title) => p.page.locator("rostrum-session", { has: p.page.locator("h3", { hasText: title }) });

test("the organizer creates a session, hands out its links, watches it live, prints the poster and ends it", async () => {
  // A wrong token is refused and the page asks for the right one; the token never leaves the fragment.
  const requests = [];
  const org = await open(`${base}/organize#t=wrong`, "projector", "organizer");
  org.page.on("request", (r) => requests.push(r.url()));
  await org.page.locator("#token-section:not([hidden])").waitFor();
  await org.page.locator("#error", { hasText: "This admin token is not valid." }).waitFor();
  await org.page.fill("#token", ADMIN);
  await org.page.click("#token-form button[type=submit]");
  await org.page.locator("body[data-ready=true]").waitFor();
  await org.page.locator("#sessions .empty", { hasText: "No sessions yet" }).waitFor();

  // A title is needed before anything is sent.
  await org.page.click("#create-form button[type=submit]");
  await org.page.locator("#create-error", { hasText: "Give the session a title." }).waitFor();
  assert.equal(await org.page.getAttribute("#title", "aria-invalid"), "true");

  const title = "Workshop 12: AI governance in the Global South";
  await org.page.fill("#title", title);
  await org.page.selectOption("#policy", "alternate11");
  await org.page.fill("#minutes", "2");
  await org.page.fill("#agenda", "Opening remarks\nQuestions from the room and online");
  await org.page.click("#create-form button[type=submit]");
  const ws12 = card(org, title);
  await ws12.locator(".session-links:not([hidden]) input").first().waitFor();
  await org.page.locator("#announce", { hasText: `Session “${title}” created.` }).waitFor();
  const links = Object.fromEntries(await Promise.all(["chair", "online_moderator", "participant", "display", "public"].map(async (role) => [role, await ws12.locator(`input[id$="-${role}"]`).inputValue()])));
  assert.match(links.participant, new RegExp(`^${base}/s/[0-9a-f]{32}/join#t=v1\\.`));
  assert.match(links.chair, /\/chair#t=v1\./);
  const id = links.public.split("/s/")[1];
  // The form's settings reached the session.
  const info = await (await fetch(`${base}/api/sessions/${id}`)).json();
  assert.deepEqual(info.policy, { order: "alternate", room: 1, remote: 1, starvation_ms: 900000 });
  await ws12.locator("[data-copy=participant]").click();
  await org.page.locator("#announce", { hasText: "Copied." }).waitFor();
  await ws12.locator("[data-copy=participant]", { hasText: "Copied." }).waitFor(); // seen, not only heard
  // The short address to type instead of scanning sits with the links.
  const shortUrl = await ws12.locator('input[id$="-short"]').inputValue();
  assert.match(shortUrl, new RegExp(`^${base}/j/[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`));

  // A second session made elsewhere appears with the next poll.
  await fetch(`${base}/api/sessions`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" }, body: JSON.stringify({ title: "Day 0: youth IGF" }) });
  await card(org, "Day 0: youth IGF").waitFor({ timeout: 15000 });

  // The session comes alive: a participant in the room joins by typing the display's code, and
  // the chair gives her the floor. The organizer's card follows.
  const chair = await open(links.chair, "laptop", "chair");
  await chair.page.locator("#status[data-state=online]").waitFor();
  const room = await (await fetch(`${base}/api/sessions/${id}/room`, { headers: { Authorization: `Bearer ${new URL(links.display).hash.slice(3)}` } })).json();
  const ana = await open(links.participant, "phone", "ana");
  await ana.page.locator("#status[data-state=online]").waitFor();
  await ana.page.fill("#name", "Ana Lima");
  await ana.page.fill("#affiliation", "Brazil IGF");
  await ana.page.check("#remote-choice input[value=onsite]");
  await ana.page.locator("#room-code-input").waitFor();
  await ana.page.fill("#room-code-input", `${room.code.slice(0, 3)} ${room.code.slice(3)}`);
  await ana.page.click("#join-form button[type=submit]");
  await ana.page.locator("#me-section").waitFor();
  await ana.page.click("#raise-form button[type=submit]");
  await chair.page.locator("#queue .entry .badge-onsite", { hasText: "In the room" }).waitFor();
  await ws12.locator(".figures", { hasText: "Waiting1" }).waitFor({ timeout: 15000 });
  await chair.page.keyboard.press("n");
  await ws12.locator(".figures", { hasText: "Ana Lima (Brazil IGF) · In the room" }).waitFor({ timeout: 15000 });
  await ws12.locator(".badge-live", { hasText: "Live" }).waitFor();
  assert.equal(await ws12.locator("dd").first().textContent(), "2", "two connections: the chair and Ana");

  await axe(org);
  await shoot(org, "organizer-1080p");

  // The poster opens in a new tab with the token in its fragment, and prints on one page.
  const [poster] = await Promise.all([org.context.waitForEvent("page"), ws12.locator("a", { hasText: "Poster" }).click()]);
  watch(poster, "poster");
  await poster.locator("body[data-ready=true]").waitFor();
  assert.equal(new URL(poster.url()).search, "", "no token in the query string");
  assert.equal(await poster.textContent("#poster-title"), title);
  assert.equal(await poster.getAttribute("#poster-qr svg", "role"), "img");
  await poster.locator(".poster-steps li", { hasText: "type the room code shown on the screen" }).waitFor();
  // Under the QR code, in large type, the short address for people who cannot scan; typed (in
  // capitals, without the hyphen) it leads to the join page of this session.
  assert.equal(await poster.textContent("#poster-short"), shortUrl.replace(/^https:\/\//, ""));
  const shortPx = await poster.locator("#poster-short").evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(shortPx >= 32, `the short address is large (${shortPx} px)`);
  assert.ok((await poster.locator("#poster-short").boundingBox()).y > (await poster.locator("#poster-qr").boundingBox()).y, "under the QR code");
  const typed = await open(`${base}/j/${shortUrl.split("/j/")[1].replace("-", "").toUpperCase()}`, "phone", "typed");
  await typed.page.locator("#join-form").waitFor();
  assert.equal(new URL(typed.page.url()).pathname, `/s/${id}/join`);
  await typed.context.close();
  const posterPage = { page: poster, context: org.context, name: "poster" };
  await axe(posterPage);
  await shoot(posterPage, "poster-1080p");
  const pdf = (await poster.pdf({ format: "A4" })).toString("latin1");
  assert.equal(pdf.match(/\/Type\s*\/Page[^s]/g)?.length, 1, "the poster prints on one A4 page");
  await poster.setViewportSize(SIZES.phone);
  await shoot(posterPage, "poster-phone");
  await poster.close();

  // The organizer on a phone: the sessions first, the form folded one tap away; accessible.
  const phone = await open(`${base}/organize#t=${ADMIN}`, "phone", "organizer-phone");
  await phone.page.locator("body[data-ready=true]").waitFor();
  assert.equal(await phone.page.locator("#create-form").isVisible(), false);
  await card(phone, title).locator(".badge-live").waitFor();
  await axe(phone);
  await shoot(phone, "organizer-phone");
  await phone.page.click("#create-section summary");
  await phone.page.locator("#title").waitFor();
  await axe(phone);
  await phone.context.close();

  // Ending from the page: confirmed, then every console sees it and the card says so.
  await ws12.locator("button", { hasText: "End session" }).click();
  await org.page.locator("dialog.ask", { hasText: `End “${title}”?` }).waitFor();
  await org.page.click("dialog.ask button[value=ok]");
  await ws12.locator(".badge-ended", { hasText: "Ended" }).waitFor();
  assert.equal(await ws12.locator("button", { hasText: "End session" }).isHidden(), true);
  await ana.page.locator("#session-note:not([hidden])", { hasText: "This session has ended." }).waitFor();
  await org.page.uncheck("#show-ended");
  await ws12.waitFor({ state: "detached" });
  await org.page.fill("#find", "youth");
  assert.deepEqual(await org.page.locator("rostrum-session h3").allTextContents(), ["Day 0: youth IGF"]);

  assert.ok(requests.every((u) => !u.includes(ADMIN)), "the admin token is never in a URL sent to the server");
  assert.deepEqual(cspViolations, [], "the strict CSP blocks nothing the pages need");
  for (const p of [org, chair, ana]) await p.context.close();
});
