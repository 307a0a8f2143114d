import { test } from "node:test";
import assert from "node:assert/strict";
import { newSession, stateOf, arrange, totals, POLICIES } from "../lib/organize.js";

test("a new session's body is what the API takes, with the time in milliseconds", () => {
  const { body } = newSession({ title: "  NRIs collaborative session ", policy: "alternate21", minutes: "2.5", agenda: "Norms\n\n  Capacity building  \n" });
  assert.deepEqual(body, {
    title: "NRIs collaborative session",
    policy: { order: "alternate", room: 2, remote: 1, starvation_ms: 900_000 },
    limits: { default_ms: 150_000, per_kind: { point_of_order: 60_000, direct_reply: 60_000 }, warning_ms: 30_000 },
    agenda: [{ title: "Norms" }, { title: "Capacity building" }],
  });
  const short = newSession({ title: "Lightning talks", policy: "fifo", minutes: 0.5, agenda: "" }).body;
  assert.deepEqual(short.limits, { default_ms: 30_000, per_kind: { point_of_order: 30_000, direct_reply: 30_000 }, warning_ms: 7_500 }, "a short turn's kinds are no longer");
  assert.deepEqual(short.agenda, []);
  for (const p of Object.keys(POLICIES)) assert.ok(newSession({ title: "T", policy: p, minutes: 3 }).body, p);
});

test("wrong fields are named before anything is sent", () => {
  assert.deepEqual(newSession({ title: "  ", policy: "fifo", minutes: 3 }), { error: "org.need_title", field: "title" });
  assert.equal(newSession({ title: "x".repeat(201), policy: "fifo", minutes: 3 }).error, "org.title_too_long");
  assert.equal(newSession({ title: "T", policy: "loudest_first", minutes: 3 }).error, "org.bad_policy");
  for (const minutes of ["", "abc", 0.1, 61, -3]) assert.equal(newSession({ title: "T", policy: "fifo", minutes }).error, "org.bad_minutes", String(minutes));
  assert.equal(newSession({ title: "T", policy: "fifo", minutes: 3, agenda: Array.from({ length: 51 }, (_, i) => `Item ${i}`).join("\n") }).error, "org.too_many_items");
  assert.equal(newSession({ title: "T", policy: "fifo", minutes: 3, agenda: "y".repeat(201) }).error, "org.item_too_long");
});

const listed = [
  { id: "aa", created_at: 1000, state: "live", title: "Opening plenary", ended: false, connections: 40, participants: 12, queued: 3 },
  { id: "bb", created_at: 3000, state: "idle", title: "Day 0: youth", ended: true, connections: 0, participants: 5, queued: 0 },
  { id: "cc", created_at: 2000, state: "damaged", damaged: { seq: 4, reason: "checksum mismatch" } },
  { id: "dd", created_at: 3000, state: "idle", title: "Workshop 12", ended: false, connections: 0, participants: 0, queued: 0 },
];

test("sessions are shown newest first, filtered by title or id, ended ones on request", () => {
  assert.deepEqual(arrange(listed).map((s) => s.id), ["bb", "dd", "cc", "aa"]);
  assert.deepEqual(arrange(listed, { showEnded: false }).map((s) => s.id), ["dd", "cc", "aa"]);
  assert.deepEqual(arrange(listed, { query: "PLENARY" }).map((s) => s.id), ["aa"]);
  assert.deepEqual(arrange(listed, { query: "cc" }).map((s) => s.id), ["cc"], "by id too, and a damaged one has no title");
  assert.equal(listed[0].id, "aa", "the input is not reordered");
});

test("each session has one state word, and the totals add up", () => {
  assert.deepEqual(listed.map(stateOf), ["live", "ended", "damaged", "idle"]);
  assert.equal(stateOf({ state: "live", ended: false, connections: 0 }), "idle", "a new session nobody has opened is not live");
  assert.deepEqual(totals(listed), { sessions: 4, live: 1, connections: 40, participants: 17, queued: 3 });
});
