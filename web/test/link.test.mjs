import { test } from "node:test";
import assert from "node:assert/strict";
import { fromFragment, tokenFrom } from "../lib/link.js";

test("the token (and room code) is read from a link's fragment, one way for every page", () => {
  assert.equal(tokenFrom("#t=abc-123"), "abc-123");
  assert.equal(tokenFrom("#t=a%2Bb&x=1"), "a+b");
  assert.equal(tokenFrom("#bare"), "bare");
  assert.equal(tokenFrom("#v1.a%2Fb"), "v1.a/b");
  assert.equal(tokenFrom("#%E0%A4%A"), "%E0%A4%A", "a malformed escape is kept as it is");
  assert.equal(tokenFrom(""), null);
  assert.equal(tokenFrom("#"), null);
  assert.equal(tokenFrom(undefined), null);
  assert.equal(tokenFrom("#x=1"), null);
  assert.equal(tokenFrom("#t="), null);
  assert.deepEqual(fromFragment("#t=v1.xyz&room=123456"), { token: "v1.xyz", room: "123456" });
  assert.deepEqual(fromFragment("t=v1.xyz"), { token: "v1.xyz", room: null }, "with or without the #");
  assert.deepEqual(fromFragment(new URL("https://h/s/1/display#t=v1.d").hash), { token: "v1.d", room: null });
});
