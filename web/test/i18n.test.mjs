import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { LANGUAGES, RTL, pickLanguage, Catalog, reasonKey, errorKey, splice, formats } from "../lib/i18n.js";

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

const web = new URL("../", import.meta.url);
const read = (path) => readFileSync(new URL(path, web), "utf8");
const files = (dir, ext) => readdirSync(new URL(dir, web)).filter((f) => f.endsWith(ext)).map((f) => `${dir}${f}`);

test("every key a page or a script names is in the catalogue", () => {
  const en = load("en");
  const named = [];
  for (const f of [...files("pages/", ".html"), ...files("pages/parts/", ".html")]) {
    for (const m of read(f).matchAll(/data-(?:i18n|i18n-label|i18n-placeholder|title-key)="([^"]+)"/g)) named.push([f, m[1]]);
  }
  for (const f of [...files("app/", ".js"), ...files("lib/", ".js")]) {
    for (const m of read(f).matchAll(/\bt\(\s*"([a-z_]+\.[a-z0-9_.]+)"/g)) named.push([f, m[1]]);
  }
  assert.ok(named.length > 250, `${named.length} keys named`);
  assert.deepEqual(named.filter(([, k]) => !(k in en)).map(([f, k]) => `${f}: ${k}`), []);
  // The event's pages (issue 23) are among them.
  for (const k of ["room.join_code", "room.poster_scan", "room.seats", "event.totals", "event.waiting", "title.event"]) assert.ok(named.some(([, n]) => n === k), k);
});

// The event's pages: the room display, its poster, join and programme pages, the event view.
const EVENT_PAGES = ["room", "room-join", "room-poster", "room-programme", "event"];

test("the event's pages say nothing in English of their own", () => {
  // Two words with a space between (not a class list such as "badge badge-live"), or a word
  // with a capital ("Copy").
  const english = /(?<![-\w])[A-Za-z]{2,}[,.:;'’!?]?\s+[A-Za-z]{2,}\b(?![-_])|^[A-Z][a-z]{2,}$/;
  for (const page of EVENT_PAGES) {
    // The page: every text is a key's (`data-i18n`), but for the brand.
    const html = read(`pages/${page}.html`).split("\n").slice(1).join("\n");
    assert.match(html, /data-title-key="title\./, `${page}.html names its title's key`);
    assert.match(html, /<select id="lang">/, `${page}.html has the language picker`);
    const stripped = html.replace(/<(\w+)[^>]*data-i18n="[^"]+"[^>]*>[^<]*<\/\1>/g, "").replace(/<!--[\s\S]*?-->/g, "").replace(/<[^>]+>/g, " ");
    const words = stripped.split(/\s+/).filter((w) => w && w !== "rostrum");
    assert.deepEqual(words, [], `${page}.html: text outside the catalogue`);
    // The script: no sentence in a string; the day and time in the reader's language.
    const js = read(`app/${page}.js`).replace(/^\s*\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    for (const m of js.matchAll(/"([^"\n]*)"|`([^`\n]*)`/g)) {
      const text = (m[1] ?? m[2]).replace(/\$\{[^}]*\}/g, "");
      assert.doesNotMatch(text, english, `${page}.js: ${m[0]}`);
    }
    assert.doesNotMatch(js, /toLocale\w*String\(|aria-label", `/, `${page}.js formats by hand`);
  }
});

test("a message with elements keeps the translation's order", () => {
  const title = { node: "title" };
  const code = { node: "code" };
  assert.deepEqual(splice("To join {title} from this room: {code}", { title, code }), ["To join ", title, " from this room: ", code]);
  assert.deepEqual(splice("如要在本会场加入{title}，请输入会场代码：{code}", { title, code }), ["如要在本会场加入", title, "，请输入会场代码：", code]);
  assert.deepEqual(splice("{code} {other}", { code }), [code, " ", "{other}"], "an unknown name stays visible");
  // Every language keeps both elements of the room display's sentence.
  for (const lang of LANGUAGES) {
    const parts = splice(load(lang)["room.join_code"], { title, code });
    assert.ok(parts.includes(title) && parts.includes(code), lang);
  }
});

test("days, times and shares are written the language's way", () => {
  const start = Date.UTC(2026, 11, 1, 9, 0);
  const end = Date.UTC(2026, 11, 1, 10, 30);
  const tz = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  const f = (lang) => formats(lang);
  assert.match(f("en").day(start), /December/);
  assert.match(f("fr").day(start), /décembre/);
  assert.match(f("es").day(start), /diciembre/);
  assert.match(f("ru").day(start), /декабря/);
  assert.match(f("zh").day(start), /12月/);
  assert.match(f("ar").day(start), /ديسمبر/);
  for (const lang of LANGUAGES) {
    const range = f(lang).range(start, end);
    assert.equal(range, new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: tz }).formatRange(start, end), lang);
    assert.ok(f(lang).dayTime(start).includes(f(lang).day(start).split(/[ ,،]/)[0]), `${lang} names the day`);
  }
  assert.match(f("fr").percent(0.5), /^50\s%$/);
  assert.equal(f("en").percent(0.5), "50%");
});
