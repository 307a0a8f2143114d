import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { applyPatch, applyOrder, Diverged, positionOf, myRequest, waitingBySide, nextUp } from "../lib/view.js";

const slot = (request, reason = "arrival") => ({ request, reason });
const req = (id, participant, modality = "online") => ({ id, participant, who: { name: `P${id}`, affiliation: "", modality, head_count: 1 }, kind: "question", state: "waiting" });
const base = () => ({ session: { title: "T" }, requests: { 1: req(1, 10), 2: req(2, 20, "onsite"), 3: req(3, 30, "hub") }, queue: [slot(1), slot(2), slot(3)], floor: null });

test("a patch applies in the documented order and leaves its input alone", () => {
  const v = base();
  const frozen = JSON.stringify(v);
  const next = applyPatch(v, {
    session: { title: "U" },
    closed: [1],
    requests: [req(4, 40)],
    floor: { turn: 0, request: 1 },
    order: { remove: [1, 3], insert: [[0, slot(4, "point_of_order")], [2, slot(3)]], reasons: [slot(2, "first_time")], len: 3 },
  });
  assert.equal(JSON.stringify(v), frozen, "the input is untouched");
  assert.equal(next.session.title, "U");
  assert.deepEqual(Object.keys(next.requests), ["2", "3", "4"]);
  assert.deepEqual(next.floor, { turn: 0, request: 1, extended_ms: 0, paused_at: null, paused_ms: 0 });
  assert.deepEqual(next.queue.map((s) => s.request), [4, 2, 3]);
  assert.equal(next.queue[1].reason, "first_time");
});

test("version 2: field-level requests, defaults for new ones, bare arrivals, what the floor implies", () => {
  const v = { ...base(), session: { title: "T", item: 2 }, fairness: { online: { requests: 1, turns: 0 } } };
  // An existing request: only the fields sent change.
  let next = applyPatch(v, { requests: [{ id: 1, kind: "direct_reply" }] }, 5000);
  assert.equal(next.requests[1].kind, "direct_reply");
  assert.equal(next.requests[1].who.name, "P1", "the rest is kept");
  // A new request: whole but for its defaults; its queue entry is a bare id (an arrival).
  next = applyPatch(v, { requests: [{ id: 9, participant: 90, who: { name: "Nine", modality: "hub" }, kind: "question" }], order: { insert: [[3, 9]], len: 4 } }, 5000);
  assert.deepEqual(
    { ...next.requests[9], who: undefined },
    { id: 9, participant: 90, who: undefined, kind: "question", origin: "self", state: "waiting", requested_at: 5000, queued_at: 5000, item: 2 },
  );
  assert.equal(next.requests[9].who.head_count, 1, "head_count defaults to 1");
  assert.deepEqual(next.queue[3], { request: 9, reason: "arrival" });
  // A new request that is not whole is divergence.
  assert.throws(() => applyPatch(v, { requests: [{ id: 10, kind: "question" }] }, 5000), Diverged);
  // A new floor: its request is speaking and out of the queue, unsaid.
  next = applyPatch(v, { floor: { turn: 7, request: 2, participant: 20, who: { name: "P2", modality: "onsite" }, kind: "question", granted_at: 5000, limit_ms: 1000 } }, 5000);
  assert.equal(next.requests[2].state, "speaking");
  assert.deepEqual(next.queue.map((s) => s.request), [1, 3]);
  assert.equal(next.floor.extended_ms, 0);
  assert.equal(next.floor.who.head_count, 1);
  // Fairness and remote counts: the fields that changed.
  next = applyPatch(v, { fairness: { online: { turns: 1 } }, remote: { asked: 2 } }, 5000);
  assert.deepEqual(next.fairness.online, { requests: 1, turns: 1 });
  assert.equal(next.remote.asked, 2);
});

test("absent keys change nothing; a null floor clears it", () => {
  const v = { ...base(), floor: { turn: 3 } };
  assert.deepEqual(applyPatch(v, {}).floor, { turn: 3 });
  assert.equal(applyPatch(v, { floor: null }).floor, null);
  assert.equal(applyPatch(v, {}).queue, v.queue);
});

test("inconsistent patches are divergence", () => {
  assert.throws(() => applyPatch(base(), { order: { insert: [[9, slot(9)]], len: 4 } }), Diverged);
  assert.throws(() => applyPatch(base(), { order: { reasons: [slot(9)], len: 3 } }), Diverged);
  assert.throws(() => applyPatch(base(), { order: { remove: [1], len: 3 } }), Diverged);
});

test("the protocol page's update applies to its snapshot", () => {
  const page = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
  const blocks = page.split("```json server\n").slice(1).map((b) => JSON.parse(b.split("\n```")[0]));
  const snapshot = blocks.find((b) => b.type === "snapshot");
  const update = blocks.find((b) => b.type === "update");
  assert.ok(update.from <= snapshot.seq + 1 && update.seq > snapshot.seq, "the seq rule");
  const v = applyPatch(snapshot.view, update.patch, update.server_time);
  assert.deepEqual(v.queue.map((s) => s.request), [3, 4]);
  assert.equal(v.requests[4].who.name, "Bo");
  assert.equal(v.requests[4].requested_at, update.server_time, "a new request's time is the update's");
});

test("helpers: position, my request, sides, next up, order frames", () => {
  const v = base();
  assert.equal(positionOf(v, 2), 2);
  assert.equal(positionOf(v, 9), 0);
  assert.equal(myRequest(v, 20).id, 2);
  assert.equal(myRequest(v, 99), null);
  assert.deepEqual(waitingBySide(v), { room: 1, remote: 2 });
  assert.deepEqual(nextUp(v, 2).map((e) => e.request.id), [1, 2]);
  assert.deepEqual(applyOrder(v, [slot(3)]).queue, [slot(3)]);
});
