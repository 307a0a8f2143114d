// The official report's text sections (the IGF template's), kept in the session's one
// "takeaways" text as Markdown headings, as the server's report reads them
// (src/programme/igf.rs, `sections`): a heading whose words name a section starts that
// section, any other line belongs to the section above it, and text before any heading is the
// summary of issues discussed (so takeaways written as one box before there were sections land
// there). The console edits each section in its own box and saves them joined again.

/** The sections in the template's order: key, heading written, words a heading is known by. */
export const SECTIONS = [
  { key: "questions", title: "Key policy questions", words: ["policy question", "key policy"] },
  { key: "summary", title: "Summary of issues discussed", words: ["summary", "issues discussed"] },
  { key: "recommendations", title: "Policy recommendations / way forward", words: ["recommendation", "way forward"] },
  { key: "initiatives", title: "Other initiatives", words: ["initiative"] },
  { key: "progress", title: "Making progress", words: ["progress"] },
  { key: "gender", title: "Reflection on gender issues", words: ["gender"] },
  { key: "outputs", title: "Session outputs", words: ["output"] },
];
const SUMMARY = 1;

/** The section a line starts, if it is a heading naming one (else -1). */
function sectionOf(line) {
  const t = line.trimStart();
  if (!t.startsWith("#")) return -1;
  const words = t.replace(/^[ #]+/, "").trim().toLowerCase();
  return SECTIONS.findIndex((s) => s.words.some((w) => words.includes(w)));
}

/** The takeaways split into the sections' texts, keyed by section. */
export function splitSections(text) {
  const out = SECTIONS.map(() => []);
  let at = SUMMARY;
  for (const line of (text ?? "").split(/\r\n|\n|\r/)) {
    const found = sectionOf(line);
    if (found >= 0) {
      at = found;
      continue;
    }
    // A line the console escaped so that it would not start a section (see `joinSections`).
    out[at].push(/^\s*\\#/.test(line) && sectionOf(line.replace("\\", "")) >= 0 ? line.replace("\\", "") : line);
  }
  return Object.fromEntries(SECTIONS.map((s, i) => [s.key, out[i].join("\n").trim()]));
}

/**
 * The sections' texts joined into one takeaways text, each non-empty one under its heading. A
 * line of a box that would read as a section's heading is escaped with a backslash (Markdown's
 * own escape), so it stays in its box.
 */
export function joinSections(texts) {
  return SECTIONS.map((s) => [s, (texts[s.key] ?? "").trim()])
    .filter(([, text]) => text)
    .map(([s, text]) => `## ${s.title}\n\n${text.split(/\r\n|\n|\r/).map((l) => (sectionOf(l) >= 0 ? l.replace("#", "\\#") : l)).join("\n")}`)
    .join("\n\n");
}
