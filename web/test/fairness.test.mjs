import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fairness, shares, present, sessionFull, fullNotice, PARTICIPANTS_MAX } from "../lib/fairness.js";
import { LANGUAGES, Catalog } from "../lib/i18n.js";

const who = (modality) => ({ name: "x", affiliation: "", modality, head_count: 1 });

test("shares are percentages of the total, zero when nothing counted", () => {
  assert.deepEqual(shares({ onsite: 3, online: 1, hub: 0 }), { total: 4, pct: { onsite: 75, online: 25, hub: 0 } });
  assert.deepEqual(shares({}), { total: 0, pct: { onsite: 0, online: 0, hub: 0 } });
});

test("the panel counts the running turn and the current waits", () => {
  const view = {
    fairness: {
      onsite: { requests: 3, turns: 2, waited_ms: 60_000, spoken_ms: 300_000 },
      online: { requests: 3, turns: 0, waited_ms: 0, spoken_ms: 0 },
      hub: { requests: 0, turns: 0, waited_ms: 0, spoken_ms: 0 },
    },
    floor: { who: who("online"), granted_at: 1_000_000, paused_at: null, paused_ms: 0 },
    queue: [{ request: 7 }, { request: 8 }],
    requests: { 7: { who: who("online"), queued_at: 900_000 }, 8: { who: who("onsite"), queued_at: 1_050_000 } },
  };
  const f = fairness(view, 1_100_000);
  assert.deepEqual(f.requests.pct, { onsite: 50, online: 50, hub: 0 });
  assert.deepEqual(f.turns.pct, { onsite: 100, online: 0, hub: 0 });
  // 300 s in the room against the online speaker's 100 s so far.
  assert.deepEqual(f.speaking.pct, { onsite: 75, online: 25, hub: 0 });
  assert.deepEqual(f.waits.online, { count: 1, longest_ms: 200_000, average_ms: null });
  assert.deepEqual(f.waits.onsite, { count: 1, longest_ms: 50_000, average_ms: 30_000 });
});

test("the session is full when the tallies' participants reach the cap", () => {
  const tally = (participants) => ({ requests: 0, turns: 0, waited_ms: 0, spoken_ms: 0, participants });
  const view = (a, b, c) => ({ fairness: { onsite: tally(a), online: tally(b), hub: tally(c) } });
  assert.equal(present(view(1, 2, 3)), 6);
  assert.equal(sessionFull(view(1, PARTICIPANTS_MAX - 2, 0)), false);
  assert.equal(sessionFull(view(1, PARTICIPANTS_MAX - 2, 1)), true);
  // A public view has no tallies: never "full" there.
  assert.equal(present({}), null);
  assert.equal(sessionFull({}), false);
});

test("a full session's notice says so plainly in every language, and not after the end", () => {
  const tally = (participants) => ({ requests: 0, turns: 0, waited_ms: 0, spoken_ms: 0, participants });
  const view = (n, ended = false) => ({ session: { controls: { ended } }, fairness: { onsite: tally(1), online: tally(n - 1), hub: tally(0) } });
  const load = (lang) => JSON.parse(readFileSync(new URL(`../i18n/${lang}.json`, import.meta.url), "utf8"));
  const en = load("en");
  const english = new Catalog("en", en, en);
  assert.equal(fullNotice(view(PARTICIPANTS_MAX), english),
    "The session is full (20,000 people): new joins are refused. Remove silent joiners to make room.");
  assert.equal(fullNotice(view(PARTICIPANTS_MAX - 1), english), null);
  assert.equal(fullNotice(view(PARTICIPANTS_MAX, true), english), null);
  for (const lang of LANGUAGES) {
    const messages = load(lang);
    assert.ok(messages["alert.full"]?.includes("{max}"), `${lang} has the notice`);
    const text = fullNotice(view(PARTICIPANTS_MAX), new Catalog(lang, messages, en));
    assert.ok(!text.includes("{"), `${lang}: ${text}`);
  }
});
