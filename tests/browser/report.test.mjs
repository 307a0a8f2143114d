// The official report's text sections in a real Chromium (Debian's /usr/bin/chromium), through
// the real service: the chair fills each section's box in the console, saves, and the server's
// IGF report (Markdown) has each text under its section; the boxes fill again from the session
// after a reload, the printable report shows the sections, a text over the core's limit is
// stopped in the page with a message, and axe-core finds nothing.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, axe, shoot } from "./harness.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

// A box each, in the template's order; a heading-like line and another script included.
const BOXES = {
  questions: "Who should audit platform algorithms?",
  summary: "Participants compared national data rules.\n## Making progress is a heading-like line\nIt stays in the summary.",
  recommendations: "Publish appeal statistics every quarter.",
  initiatives: "The regional hubs' captioning fund.",
  progress: "Two countries adopted the model law. 两个国家通过了示范法。",
  gender: "Half the speakers were women; the online queue was mostly men.",
  outputs: "A joint statement.\n### Annex\nThe list of hubs.",
};
const HEADINGS = {
  questions: "## 1. Key policy questions",
  summary: "## 2. Summary of issues discussed",
  recommendations: "## 3. Policy recommendations / way forward",
  initiatives: "## 4. Other initiatives",
  progress: "## 5. Making progress",
  gender: "## 7. Reflection on gender issues",
  outputs: "## 8. Session outputs",
};

/** The Markdown between a section's heading and the next numbered one. */
function sectionOf(md, heading) {
  const at = md.indexOf(`${heading}\n`);
  assert.ok(at >= 0, `no "${heading}" in\n${md}`);
  const rest = md.slice(at + heading.length);
  const next = rest.search(/^## \d\. /m);
  return next < 0 ? rest : rest.slice(0, next);
}

test("the chair writes the report's sections in separate boxes and the IGF Markdown has each", async () => {
  const s = await env.createSession({ title: "Workshop on data governance", agenda: [{ title: "Cross-border data" }] });
  const token = decodeURIComponent(new URL(s.links.chair).hash.replace(/^#t=/, ""));
  const igf = async () => {
    const res = await fetch(`${env.base}/api/sessions/${s.id}/report.igf.md`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return res.text();
  };
  const chair = await env.open(s.links.chair, "laptop", { name: "chair" });
  for (const [key, text] of Object.entries(BOXES)) await chair.page.fill(`#takeaways-${key}`, text);
  await chair.page.click("#takeaways-form button[type=submit]");

  let md = "";
  for (let i = 0; i < 50 && !md.includes("The list of hubs."); i++) {
    md = await igf();
    if (!md.includes("The list of hubs.")) await new Promise((r) => setTimeout(r, 100));
  }
  for (const [key, text] of Object.entries(BOXES)) {
    const body = sectionOf(md, HEADINGS[key]);
    for (const line of text.split("\n")) {
      // The heading-like line is escaped in the Markdown, so it stays text in its section.
      const want = line.startsWith("## Making progress") ? `\\${line}` : line;
      assert.ok(body.includes(want), `${key}: "${want}" not under ${HEADINGS[key]}:\n${body}`);
    }
  }
  assert.doesNotMatch(md, /_To be written by the rapporteur\._/, "every section written");

  // A reload fills each box again from the session.
  await chair.page.reload();
  await chair.page.locator("#status[data-state=online]").waitFor();
  await chair.page.waitForFunction(() => document.getElementById("takeaways-outputs").value !== "");
  for (const [key, text] of Object.entries(BOXES)) assert.equal(await chair.page.inputValue(`#takeaways-${key}`), text, key);
  await axe(chair);
  await chair.page.locator("#takeaways-form").scrollIntoViewIfNeeded();
  await shoot(chair, "chair-report-sections-laptop");

  // Over the core's limit all together: the page says so and sends nothing.
  await chair.page.fill("#takeaways-initiatives", "x".repeat(9990));
  const over = chair.page.locator("#takeaways-length");
  await over.waitFor();
  assert.match(await over.textContent(), /characters long; at most 10000 fit/);
  await chair.page.click("#takeaways-form button[type=submit]");
  await new Promise((r) => setTimeout(r, 300));
  assert.ok((await igf()).includes("The regional hubs' captioning fund."), "nothing sent over the limit");

  // The printable report shows the sections under their names.
  const report = await env.open(new URL(await chair.page.getAttribute("#report-page", "href"), env.base).href, "laptop", { name: "report", live: false });
  await report.page.locator("body[data-ready=true]").waitFor();
  for (const name of ["Key policy questions", "Policy recommendations / way forward", "Session outputs"]) await report.page.locator("h3", { hasText: name }).waitFor();
  await report.page.locator(".takeaways", { hasText: "Publish appeal statistics every quarter." }).waitFor();
  await axe(report);

  assert.deepEqual(env.problems, [], "no CSP report or page error");
  for (const p of [chair, report]) await p.context.close();
});
