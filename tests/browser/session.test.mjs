// A whole session in a real Chromium (Debian's /usr/bin/chromium, never a downloaded browser),
// through the real service: a chair, an online moderator, two online participants, one onsite
// participant who joins with the display's code, one person added by proxy; grants, a relayed text
// question, a ready check, a reconnect, a switch to Arabic. axe-core checks every page, the strict
// CSP must report nothing, and every page is photographed at phone, laptop and projector sizes
// into target/screenshots/.

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
const ADMIN = "browser-test-admin";
const AXE = readFileSync(path(dirname(fileURLToPath(import.meta.url)), "node_modules", "axe-core", "axe.min.js"), "utf8");
const SIZES = { phone: { width: 390, height: 844 }, laptop: { width: 1366, height: 768 }, projector: { width: 1920, height: 1080 }, projector720: { width: 1280, height: 720 } };

let server, base, browser;
const cspViolations = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  const data = mkdtempSync(path(tmpdir(), "rostrum-browser-"));
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
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

async function createSession(title) {
  const res = await fetch(`${base}/api/sessions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ title, agenda: [{ title: "Cybersecurity norms: how to make them work?" }, { title: "Capacity building" }] }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

async function open(url, size, { lang = "en-US", name, live = true } = {}) {
  const context = await browser.newContext({ viewport: SIZES[size], locale: lang, reducedMotion: "reduce" });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) cspViolations.push(`${name}: ${m.text()}`);
  });
  page.on("pageerror", (e) => cspViolations.push(`${name}: page error ${e.message}`));
  await page.goto(url);
  if (!live) return { page, context, name };
  await page.locator("#status[data-state=online]").waitFor();
  await page.locator("#floor[data-phase]:not(:empty)").waitFor(); // the first snapshot is rendered
  return { page, context, name };
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

/** Fill the join form of a participant page. */
async function join(p, name, affiliation) {
  await p.page.fill("#name", name);
  await p.page.fill("#affiliation", affiliation);
  await p.page.click("#join-form button[type=submit]");
  await p.page.locator("#me-section").waitFor();
}

async function raise(p, kind = "intervention") {
  await p.page.selectOption("#kind", kind);
  await p.page.click("#raise-form button[type=submit]");
  await p.page.locator("#my-status .big").waitFor();
}

const queueNames = (p) => p.page.locator("#queue .entry .name").allTextContents();

test("a whole hybrid session, in every console", async () => {
  const s = await createSession("NRIs collaborative session on cybersecurity");
  const chair = await open(s.links.chair, "laptop", { name: "chair" });
  const om = await open(s.links.online_moderator, "laptop", { name: "moderator" });
  const display = await open(s.links.display, "projector", { name: "display" });
  const pub = await open(s.links.public, "phone", { name: "public" });
  const ana = await open(s.links.participant, "phone", { name: "ana" });
  const bo = await open(s.links.participant, "phone", { name: "bo" });

  // The onsite participant joins with the code the display shows.
  await display.page.locator("#room-code").filter({ hasText: /\d{3} \d{3}/ }).waitFor();
  const code = (await display.page.textContent("#room-code")).replace(/\s/g, "");
  assert.match(code, /^\d{6}$/);
  await display.page.locator("#qr svg").waitFor();
  const token = new URL(s.links.participant).hash.slice(1);
  const chen = await open(`${base}/s/${s.id}/join#${token}&room=${code}`, "phone", { name: "chen" });
  await chen.page.locator("#onsite-note").waitFor(); // rendered once the snapshot is in

  await join(ana, "Ana Lima", "Brazil IGF");
  await join(bo, "Bo Kim", "Korea IGF");
  await join(chen, "Chen Wei", "Vanuatu IGF");
  await raise(ana, "question");
  await raise(chen);
  await raise(bo);

  // The chair adds someone in the room with no device; the online moderator relays a question.
  await chair.page.fill("#proxy-name", "Walk-in delegate");
  await chair.page.fill("#proxy-aff", "Chad IGF");
  await chair.page.click("#proxy-form button[type=submit]");
  await om.page.fill("#relay-name", "Remote from chat");
  await om.page.fill("#relay-text", "What about small CERTs with no budget?");
  await om.page.click("#relay-form button[type=submit]");

  const expected = ["Ana Lima", "Chen Wei", "Bo Kim", "Walk-in delegate", "Remote from chat"];
  for (const p of [chair, om, pub]) {
    await p.page.waitForFunction((n) => document.querySelectorAll("#queue .entry").length === n, expected.length);
    assert.deepEqual(await queueNames(p), expected, `${p.name} sees the one queue`);
  }
  assert.equal(await om.page.locator("#queue .entry .note").first().textContent(), "What about small CERTs with no budget?");
  assert.equal(await pub.page.locator("#queue .entry .note").count(), 0, "the public sees no notes");
  await chen.page.locator("#my-status", { hasText: "number 2" }).waitFor();
  await ana.page.locator("#my-status", { hasText: "You're next" }).waitFor();

  // Ready check: Ana is remote and not ready; the chair's "next" asks first.
  await chair.page.keyboard.press("n");
  await chair.page.locator("dialog.ask").waitFor();
  await chair.page.click("dialog.ask button[value=cancel]");
  await om.page.click(`#queue [data-request] >> nth=0 >> [data-action=ready]`);
  await chair.page.locator("#queue .entry-ready").first().waitFor();
  await chair.page.keyboard.press("n");
  await ana.page.locator("#my-status", { hasText: "You have the floor" }).waitFor();
  await display.page.locator("#floor .floor-name", { hasText: "Ana Lima" }).waitFor();
  const countdowns = await Promise.all([chair, display, ana].map((p) => p.page.textContent("#floor .countdown")));
  const seconds = countdowns.map((t) => { const [m, s] = t.split(":").map(Number); return m * 60 + s; });
  assert.ok(Math.max(...seconds) - Math.min(...seconds) <= 1, `countdowns agree: ${countdowns}`);
  await chen.page.locator("#my-status", { hasText: "You're next" }).waitFor();
  // Waiting, Chen may ask to be notified of her turn; Ana, speaking, is not asked.
  assert.equal(await chen.page.locator("#notify").isVisible(), true, "notify offered while waiting");
  assert.equal(await ana.page.locator("#notify").isVisible(), false, "no 'notify me' while speaking");
  await ana.page.click("#my-actions button");
  await display.page.locator("#floor .floor-empty").waitFor();

  // A reconnect: Bo goes offline and comes back; nothing is lost or doubled.
  await bo.context.setOffline(true);
  await bo.page.locator("#status[data-state=offline]").waitFor();
  await chair.page.keyboard.press("n"); // Chen, in the room: no ready check
  await display.page.locator("#floor .floor-name", { hasText: "Chen Wei" }).waitFor();
  // The fairness panel: one turn each side so far, in words as well as in bars.
  await chair.page.locator("#fairness-bars", { hasText: "Turns: In the room 50% · Online 50%" }).waitFor();
  await om.page.locator("#fairness-waits li", { hasText: /^Online: \d+ waiting, longest \d+:\d\d; average wait \d+:\d\d$/ }).waitFor();
  await bo.context.setOffline(false);
  await bo.page.locator("#status[data-state=online]").waitFor({ timeout: 20000 });
  await bo.page.locator("#floor .floor-name", { hasText: "Chen Wei" }).waitFor();
  assert.deepEqual(await queueNames(bo), await queueNames(chair), "Bo resumed to the same queue");

  // The chair moves the relayed question up, with a reason everyone sees.
  await chair.page.click(`#queue [data-request]:has-text("Remote from chat") [data-action=menu]`);
  await chair.page.click(`#queue [data-request]:has-text("Remote from chat") [data-action=move]`);
  await chair.page.fill("#ask-position", "1");
  await chair.page.fill("#ask-input", "the panel asked for it");
  await chair.page.click("dialog.ask button[value=ok]");
  for (const p of [pub, bo]) {
    await p.page.locator("#queue .entry >> nth=0", { hasText: "Remote from chat" }).waitFor();
    assert.equal(await p.page.textContent("#queue .entry >> nth=0 >> .reason"), "Moved by a moderator: the panel asked for it");
  }
  // The public view and the phones get no events (protocol v2): they announce from the patch.
  for (const p of [pub, bo]) await p.page.locator("#announce", { hasText: "Remote from chat moved to position 1" }).waitFor();
  // Focus stays where the chair left it while the queue changes, and the change is announced.
  const boGrant = chair.page.locator(`#queue [data-request]:has-text("Bo Kim") [data-action=grant]`);
  await boGrant.focus();
  await raise(ana, "question");
  await chair.page.locator("#announce", { hasText: "Ana Lima joined the queue" }).waitFor();
  await pub.page.locator("#announce", { hasText: "Ana Lima joined the queue" }).waitFor();
  assert.equal(await chair.page.evaluate(() => document.activeElement?.closest("[data-request]")?.textContent.includes("Bo Kim") && document.activeElement.dataset.action), "grant");

  // And edits the agenda.
  await chair.page.fill("#agenda-items", "Norms\nCapacity building\nThe way forward");
  await chair.page.click("#agenda-form button[type=submit]");
  await chair.page.locator("#agenda-current", { hasText: "Item 1 of 3: Norms" }).waitFor();

  // Screenshots while the clock runs, at every size.
  for (const [p, label] of [[chair, "chair-laptop"], [om, "moderator-laptop"], [display, "display-1080p"], [pub, "public-phone"], [bo, "participant-phone"], [chen, "participant-speaking-phone"]]) await shoot(p, label);
  await display.page.setViewportSize(SIZES.projector720);
  await shoot(display, "display-720p");
  await chair.page.setViewportSize(SIZES.phone);
  await shoot(chair, "chair-phone");
  await chair.page.setViewportSize(SIZES.laptop);

  // Accessibility, on every page.
  for (const p of [chair, om, display, pub, ana, bo, chen]) await axe(p);

  // Arabic: right to left, translated, and still accessible.
  await bo.page.selectOption("#lang", "ar");
  await bo.page.waitForFunction(() => document.documentElement.dir === "rtl" && document.documentElement.lang === "ar");
  assert.notEqual(await bo.page.textContent("#floor-h"), "The floor");
  await axe(bo);
  await shoot(bo, "participant-arabic-phone");

  assert.deepEqual(cspViolations, [], "the strict CSP blocks nothing the pages need");
  for (const p of [chair, om, display, pub, ana, bo, chen]) await p.context.close();
});

test("a disrupted session: an official's name refused, a spammer removed, the room locked, every link renewed, the session ended", async () => {
  const s = await createSession("Open forum on platform governance");
  const chair = await open(s.links.chair, "laptop", { name: "chair" });
  const display = await open(s.links.display, "projector", { name: "display" });
  const ana = await open(s.links.participant, "phone", { name: "ana" });
  const spam = await open(s.links.participant, "phone", { name: "spam" });

  // Nobody may pass for an official.
  await spam.page.fill("#name", "Moderator");
  await spam.page.click("#join-form button[type=submit]");
  await spam.page.locator("#error:not([hidden])").waitFor();
  assert.equal(await spam.page.locator("#me-section").isHidden(), true);
  await join(spam, "Spam Bot", "Nowhere");
  await raise(spam);
  await join(ana, "Ana Lima", "Brazil IGF");
  await raise(ana, "question");
  await chair.page.waitForFunction(() => document.querySelectorAll("#queue .entry").length === 2);

  // The chair removes the spammer, with a reason: their page is cut off for good.
  await chair.page.click(`#queue [data-request]:has-text("Spam Bot") [data-action=menu]`);
  await chair.page.click(`#queue [data-request]:has-text("Spam Bot") [data-action=remove-person]`);
  await chair.page.fill("#ask-input", "spam");
  await chair.page.click("dialog.ask button[value=ok]");
  await spam.page.locator("#error[data-fatal=true]", { hasText: "This link no longer works" }).waitFor();
  await chair.page.waitForFunction(() => document.querySelectorAll("#queue .entry").length === 1);
  assert.deepEqual(await queueNames(chair), ["Ana Lima"]);

  // Locked: the display stops showing the room code, a new visitor cannot join, Ana stays.
  await chair.page.click("#lock-toggle");
  await chair.page.locator("#lock-toggle[aria-pressed=true]").waitFor();
  await display.page.locator("#join-closed:not([hidden])", { hasText: "not taking new participants" }).waitFor();
  assert.equal(await display.page.locator("#qr").isHidden(), true);
  const late = await open(s.links.participant, "phone", { name: "late" });
  await late.page.locator("#session-note:not([hidden])", { hasText: "not taking new participants" }).waitFor();
  assert.equal(await late.page.locator("#join-form").isHidden(), true);
  await chair.page.locator("#controls-state", { hasText: "Locked" }).waitFor();
  await shoot(chair, "chair-controls-laptop");
  await shoot(late, "participant-locked-phone");
  await shoot(display, "display-locked-1080p");
  for (const p of [chair, display, late]) await axe(p);

  // Every link renewed: the old ones stop at once; the chair gets the new ones to hand out.
  await chair.page.click("#rotate");
  await chair.page.click("dialog.ask button[value=ok]");
  await chair.page.locator("dialog.rotated-links").waitFor();
  assert.equal(await chair.page.locator("dialog.rotated-links input").count(), 5);
  const fresh = await chair.page.inputValue("#link-participant");
  assert.notEqual(fresh, s.links.participant);
  await ana.page.locator("#error[data-fatal=true]", { hasText: "This link no longer works" }).waitFor();
  await display.page.locator("#error[data-fatal=true]").waitFor();
  await axe(chair);
  await shoot(chair, "chair-new-links-laptop");
  await chair.page.click("dialog.rotated-links button[value=ok]");
  await chair.page.waitForFunction((old) => location.hash !== old, new URL(s.links.chair).hash);
  await chair.page.locator("#status[data-state=online]").waitFor();
  await chair.page.locator("#floor[data-phase]:not(:empty)").waitFor();

  // Ended: read-only for good, on every page that is still allowed in.
  const pub = await open(s.links.public, "phone", { name: "public" });
  await chair.page.click("#end-session");
  await chair.page.click("dialog.ask button[value=ok]");
  await chair.page.locator("#controls-state", { hasText: "This session has ended." }).waitFor();
  assert.equal(await chair.page.locator("#next").isDisabled(), true);
  assert.equal(await chair.page.locator("#lock-toggle").isDisabled(), true);
  assert.equal(await chair.page.locator("#rotate").isDisabled(), true);
  assert.equal(await chair.page.locator("#queue [data-action]").count(), 0, "no actions on a record");
  await pub.page.waitForFunction(() => document.querySelectorAll("#queue .entry").length === 1);
  await shoot(chair, "chair-ended-laptop");

  // The record stays open: the chair writes the takeaways after the end, downloads an export
  // and opens the printable report.
  await chair.page.fill("#takeaways-summary", "Platforms should publish appeal statistics.\nRemote hubs asked for captions.");
  await chair.page.click("#takeaways-form button[type=submit]");
  const download = chair.page.waitForEvent("download");
  await chair.page.click("[data-export='turns.csv']");
  assert.match((await download).suggestedFilename(), /turns\.csv$/);
  const report = await open(await chair.page.getAttribute("#report-page", "href").then((href) => new URL(href, base).href), "laptop", { name: "report", live: false });
  await report.page.locator("body[data-ready=true]").waitFor();
  assert.equal(await report.page.textContent("#report-title"), "Open forum on platform governance");
  await report.page.locator(".takeaways", { hasText: "Remote hubs asked for captions." }).waitFor();
  await report.page.locator("section", { hasText: "Moderator overrides" }).waitFor();
  await axe(report);
  await shoot(report, "report-laptop");

  assert.deepEqual(cspViolations, [], "the strict CSP blocks nothing the pages need");
  for (const p of [chair, display, ana, spam, late, pub, report]) await p.context.close();
});

test("granting an entry out of order asks for the reason, which the report keeps", async () => {
  const s = await createSession("Grant this");
  const chair = await open(s.links.chair, "laptop", { name: "chair-grant" });
  for (const name of ["First in line", "Second in line"]) {
    await chair.page.fill("#proxy-name", name);
    await chair.page.selectOption("#proxy-modality", "onsite");
    await chair.page.click("#proxy-form button[type=submit]");
    await chair.page.locator("#queue .entry .name", { hasText: name }).waitFor();
  }
  // The second entry is not the head: granting it is an override, so the console asks why.
  await chair.page.click(`#queue [data-request]:has-text("Second in line") [data-action=grant]`);
  await chair.page.fill("#ask-input", "has a flight to catch");
  await chair.page.click("dialog.ask button[value=ok]");
  await chair.page.locator(".floor-name", { hasText: "Second in line" }).waitFor();
  // The head needs no reason: it is granted at once.
  await chair.page.click(`#queue [data-request]:has-text("First in line") [data-action=grant]`);
  await chair.page.locator(".floor-name", { hasText: "First in line" }).waitFor();
  assert.equal(await chair.page.locator("dialog.ask").count(), 0);

  const token = new URL(s.links.chair).hash.slice("#t=".length).split("&")[0];
  const report = await (await fetch(`${base}/api/sessions/${s.id}/report`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.deepEqual(
    report.overrides.map((o) => [o.action, o.reason]),
    [["granted_out_of_order", "has a flight to catch"]],
  );
  assert.deepEqual(cspViolations, []);
  await chair.context.close();
});
