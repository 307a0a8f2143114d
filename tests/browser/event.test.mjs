// Deleting from the organizer's event view in a real Chromium (Debian's /usr/bin/chromium),
// through the real service: an entry on now and a room with sessions are refused with the
// server's reason said in the page; a cancelled confirmation deletes nothing; a later entry
// and an empty room are deleted after the confirmation, and the view follows. axe-core checks
// the page with the confirmation open; the strict CSP must report nothing.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, axe, ADMIN } from "./harness.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

async function api(method, route, body, type = "application/json") {
  const res = await fetch(`${env.base}${route}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": type },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
  return JSON.parse(text || "null");
}

test("the organizer deletes a later entry and an empty room from the event view, after a confirmation", async () => {
  await api("PUT", "/api/rooms", { rooms: [{ name: "Room A", capacity: 100 }, { name: "Spare room", capacity: 10 }] });
  const at = (min) => new Date(Date.now() + min * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
  const csv = ["id,title,room,start,end",
    `NOW-1,On right now,Room A,${at(-10)},${at(50)}`,
    `LATER-2,Later in the day,Room A,${at(60)},${at(120)}`].join("\n");
  const plan = await fetch(`${env.base}/api/programme/import`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "text/csv" }, body: csv }).then((r) => r.json());
  assert.equal(plan.applied, true, JSON.stringify(plan));

  const { page, context } = await env.open(`${env.base}/event#t=${ADMIN}`, "laptop", { name: "event", live: false });
  await page.locator("body[data-ready=true]").waitFor();
  const entry = (id) => page.locator(`[data-delete-entry="${id}"]`);
  const ok = () => page.click("dialog.ask button[value=ok]");

  // On now: refused, and the page says why.
  await entry("NOW-1").click();
  await page.locator("dialog.ask", { hasText: "On right now" }).waitFor();
  await axe({ page, name: "event-confirm" });
  await ok();
  await page.locator("#error:not([hidden])", { hasText: "This session is on now" }).waitFor();
  // Cancelled: nothing changes.
  await entry("LATER-2").click();
  await page.click("dialog.ask button[value=cancel]");
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await entry("LATER-2").count(), 1);
  // Confirmed: gone from the view and from the programme; its session stays.
  await entry("LATER-2").click();
  await ok();
  await entry("LATER-2").waitFor({ state: "detached", timeout: 3000 });
  const programme = await api("GET", "/api/programme");
  assert.deepEqual(programme.sessions.map((s) => s.external_id), ["NOW-1"]);

  // Rooms: the one with a session is refused, the empty one is deleted.
  const rooms = await api("GET", "/api/rooms");
  const [roomA, spare] = rooms.rooms;
  await page.locator(`[data-room="${roomA.id}"]`, { hasText: "1 session" }).waitFor();
  await page.click(`[data-delete-room="${roomA.id}"]`);
  await page.locator("dialog.ask", { hasText: "Room A" }).waitFor();
  await ok();
  await page.locator("#error:not([hidden])", { hasText: "still has sessions" }).waitFor();
  await page.click(`[data-delete-room="${spare.id}"]`);
  await ok();
  await page.locator(`[data-room="${spare.id}"]`).waitFor({ state: "detached", timeout: 3000 });
  assert.deepEqual((await api("GET", "/api/rooms")).rooms.map((r) => r.name), ["Room A"]);
  const display = await fetch(`${env.base}/api/rooms/${spare.id}/now`, { headers: { Authorization: `Bearer ${new URL(spare.display).hash.slice(3)}` } });
  assert.equal(display.status, 404, "the deleted room's display link opens nothing");
  await axe({ page, name: "event" });

  assert.deepEqual(env.problems, [], "no CSP report or page error");
  await context.close();
});
