import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { applyPatch, applyOrder, Diverged, positionOf, myRequest, waitingBySide, nextUp } from "../lib/view.js";

const slot = (request, reason = "arrival") => ({ request, reason });
const req = (id, participant, modality = "online") => ({ id, participant, who: { name: `P${id}`, affiliation: "", modality, head_count: 1 }, state: "waiting" });
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
  assert.deepEqual(next.floor, { turn: 0, request: 1 });
  assert.deepEqual(next.queue.map((s) => s.request), [4, 2, 3]);
  assert.equal(next.queue[1].reason, "first_time");
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
  assert.equal(update.from, snapshot.seq + 1);
  const v = applyPatch(snapshot.view, update.patch);
  assert.deepEqual(v.queue.map((s) => s.request), [3, 4]);
  assert.equal(v.requests[4].who.name, "Bo");
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
