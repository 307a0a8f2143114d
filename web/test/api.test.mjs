import { test } from "node:test";
import assert from "node:assert/strict";
import { api, getJson } from "../lib/api.js";

test("the API is called with the bearer token, uncached, and its JSON or its refusal comes back", async () => {
  const seen = [];
  globalThis.fetch = async (path, init) => {
    seen.push({ path, init });
    if (path === "/ok") return new Response(JSON.stringify({ a: 1 }), { status: 200 });
    if (path === "/text") return new Response("not json", { status: 502 });
    return new Response(JSON.stringify({ code: "forbidden", message: "not this link" }), { status: 403 });
  };
  assert.deepEqual(await api("/ok", "tok"), { ok: true, status: 200, body: { a: 1 } });
  assert.equal(seen[0].init.headers.Authorization, "Bearer tok");
  assert.equal(seen[0].init.cache, "no-store");
  assert.equal(seen[0].init.method, "GET");
  assert.equal(seen[0].init.body, undefined);
  await api("/ok", "tok", { method: "PUT", body: { b: 2 } });
  assert.equal(seen[1].init.body, '{"b":2}');
  assert.equal(seen[1].init.headers["Content-Type"], "application/json");
  assert.deepEqual(await api("/text", "tok"), { ok: false, status: 502, body: null });
  assert.deepEqual(await getJson("/ok", "tok"), { a: 1 });
  await assert.rejects(getJson("/no", "tok"), /not this link/);
  await assert.rejects(getJson("/text", "tok"), /error 502/);
});
