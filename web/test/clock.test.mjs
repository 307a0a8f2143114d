import { test } from "node:test";
import assert from "node:assert/strict";
import { Clock, remaining, phase, formatDuration } from "../lib/clock.js";

test("the offset is the largest recent sample (the fastest frame)", () => {
  const c = new Clock();
  assert.equal(c.now(1000), 1000, "no samples: the local clock");
  c.observe(10_000, 9_000); // offset 1000, delayed frame
  c.observe(10_500, 9_300); // offset 1200, the fastest
  c.observe(11_000, 9_900); // offset 1100
  assert.equal(c.now(20_000), 21_200);
  for (let i = 0; i < 20; i++) c.observe(100, 100); // old samples age out
  assert.equal(c.now(0), 0);
});

test("the countdown pauses, extends and goes into overtime", () => {
  const floor = { granted_at: 10_000, limit_ms: 60_000, extended_ms: 0, paused_at: null, paused_ms: 0 };
  assert.equal(remaining(floor, 40_000), 30_000);
  assert.equal(remaining({ ...floor, paused_at: 40_000 }, 99_000), 30_000, "frozen while paused");
  assert.equal(remaining({ ...floor, paused_ms: 20_000 }, 60_000), 30_000);
  assert.equal(remaining({ ...floor, extended_ms: 30_000 }, 60_000), 40_000);
  assert.equal(remaining(floor, 75_000), -5_000);
  assert.equal(phase(30_000, 30_000), "warning");
  assert.equal(phase(31_000, 30_000), "normal");
  assert.equal(phase(-1, 30_000), "overtime");
});

test("durations read m:ss, overtime with a plus", () => {
  assert.equal(formatDuration(125_000), "2:05");
  assert.equal(formatDuration(59_001), "1:00", "rounds up: never shows 0:00 with time left");
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(-5_000), "+0:05");
  assert.equal(formatDuration(-61_000), "+1:01");
});
