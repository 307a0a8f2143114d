import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { LANGUAGES, RTL, pickLanguage, Catalog, reasonKey, errorKey } from "../lib/i18n.js";

const dir = new URL("../i18n/", import.meta.url);
const load = (lang) => JSON.parse(readFileSync(new URL(`${lang}.json`, dir), "utf8"));

test("the language comes from the stored choice, then the browser, then English", () => {
  assert.equal(pickLanguage(["fr-CA", "en"], null), "fr");
  assert.equal(pickLanguage(["de-DE", "ar-EG"], null), "ar");
  assert.equal(pickLanguage(["de"], null), "en");
  assert.equal(pickLanguage(["fr"], "ru"), "ru");
  assert.equal(pickLanguage(["fr"], "xx"), "fr");
  assert.ok(RTL.has("ar") && !RTL.has("fr"));
});

test("messages fill placeholders and fall back to English, then to the key", () => {
  const c = new Catalog("fr", { hello: "Bonjour {name}" }, { hello: "Hello {name}", only: "English only" });
  assert.equal(c.t("hello", { name: "Ana" }), "Bonjour Ana");
  assert.equal(c.t("only"), "English only");
  assert.equal(c.t("missing.key"), "missing.key");
  assert.equal(c.t("hello"), "Bonjour {name}", "an absent parameter stays visible");
});

test("plurals follow each language's rules", () => {
  const ru = new Catalog("ru", { n: { one: "{count} человек", few: "{count} человека", many: "{count} человек", other: "{count} человека" } });
  assert.equal(ru.t("n", { count: 1 }), "1 человек");
  assert.equal(ru.t("n", { count: 3 }), "3 человека");
  assert.equal(ru.t("n", { count: 5 }), "5 человек");
  assert.equal(ru.t("n", { count: 1.5 }), "1.5 человека");
  const en = new Catalog("en", { n: { one: "{count} person", other: "{count} people" } });
  assert.equal(en.t("n", { count: 1 }), "1 person");
  assert.equal(en.t("n", { count: 0 }), "0 people");
});

test("every reason and error has a key, and every language has every English key", () => {
  const en = load("en");
  const slots = [
    { reason: "point_of_order" }, { reason: "direct_reply" }, { reason: "roster" }, { reason: "starved", waited_ms: 900_000 },
    { reason: "arrival" }, { reason: "first_time" }, { reason: "spoken_before" }, { reason: "alternating", after: "room" },
    { reason: "alternating", after: "remote" }, { reason: "moved", by: { role: "chair" }, note: "panel" }, { reason: "moved", by: { role: "chair" }, note: null },
  ];
  for (const s of slots) {
    const [key, params] = reasonKey(s);
    assert.ok(key in en, key);
    assert.doesNotMatch(new Catalog("en", en).t(key, params), /\{\w+\}/, key);
  }
  assert.equal(reasonKey(slots[3])[1].minutes, 15);
  assert.equal(errorKey("conflict"), "error.conflict");
  const files = readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
  assert.deepEqual(files, [...LANGUAGES].sort(), "a catalog per language");
  const placeholders = (m) => new Set((typeof m === "object" ? Object.values(m).join(" ") : m).match(/\{\w+\}/g) ?? []);
  for (const lang of LANGUAGES) {
    const cat = load(lang);
    assert.deepEqual(Object.keys(cat).sort(), Object.keys(en).sort(), `${lang} has exactly the English keys`);
    for (const [k, m] of Object.entries(en)) assert.deepEqual(placeholders(cat[k]), placeholders(m), `${lang} ${k} keeps its placeholders`);
  }
});

test("every error code the protocol page lists has a message", () => {
  const en = load("en");
  const page = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
  const table = page.split("## Errors")[1].split("\n## ")[0];
  const codes = new Set();
  for (const line of table.split("\n").filter((l) => l.startsWith("| `") || l.startsWith("| queue codes"))) {
    const cells = line.split("|");
    const listed = line.startsWith("| queue codes") ? cells[2] : cells[1];
    for (const m of listed.replace(/\([^)]*\)/g, "").matchAll(/`([a-z_]+)`/g)) codes.add(m[1]);
  }
  assert.ok(codes.size > 30 && codes.has("revoked") && codes.has("too_fast"), [...codes].join(" "));
  for (const code of codes) assert.ok(errorKey(code) in en, `error.${code}`);
});
