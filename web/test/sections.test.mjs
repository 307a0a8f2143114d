import { test } from "node:test";
import assert from "node:assert/strict";
import { SECTIONS, splitSections, joinSections } from "../lib/sections.js";

test("old takeaways without headings land in the summary", () => {
  const s = splitSections("Norms need capacity building.\nHubs asked for captioning.");
  assert.equal(s.summary, "Norms need capacity building.\nHubs asked for captioning.");
  for (const k of SECTIONS.map((x) => x.key).filter((k) => k !== "summary")) assert.equal(s[k], "");
});

test("takeaways written with headings split as the server splits them", () => {
  const s = splitSections("We talked about data.\n\n## Policy recommendations\nOpen it.\n# Other initiatives\nA fund.\n## Reflection on gender issues\nBalanced.\n### Notes\nkept in gender");
  assert.equal(s.summary, "We talked about data.");
  assert.equal(s.recommendations, "Open it.");
  assert.equal(s.initiatives, "A fund.");
  assert.equal(s.gender, "Balanced.\n### Notes\nkept in gender");
  assert.equal(s.progress, "");
});

test("the boxes join and split back unchanged, a heading-like line included", () => {
  const boxes = {
    questions: "Who pays?",
    summary: "Line one.\n\n## Making progress is hard\nstill the summary",
    recommendations: "",
    initiatives: "  ### Other initiatives elsewhere",
    progress: "Some.",
    gender: "Half.",
    outputs: "A paper.\n### Annex",
  };
  const text = joinSections(boxes);
  assert.match(text, /^## Key policy questions\n\nWho pays\?\n\n## Summary of issues discussed\n/);
  assert.doesNotMatch(text, /Policy recommendations/, "an empty section writes no heading");
  assert.match(text, /^\\## Making progress is hard$/m, "escaped so that it stays in its box");
  const back = splitSections(text);
  for (const [k, v] of Object.entries(boxes)) assert.equal(back[k], v.trim(), k);
  assert.equal(joinSections({}), "");
});
