// The server's clock, as seen from here. Every frame carries the server's time; the offset to the
// local clock is estimated from those, so every console (and the projector) counts down to the
// same second whatever the devices' own clocks say.

const SAMPLES = 20;

export class Clock {
  #offsets = [];

  /**
   * Record a frame's server time and when it arrived. Network delay only ever makes
   * `serverTime - receivedAt` smaller than the true offset, so the largest recent sample is the
   * best estimate (the frame that travelled fastest).
   */
  observe(serverTimeMs, receivedAtMs) {
    this.#offsets.push(serverTimeMs - receivedAtMs);
    if (this.#offsets.length > SAMPLES) this.#offsets.shift();
  }

  /** The server's time now. */
  now(localNowMs = Date.now()) {
    return localNowMs + (this.#offsets.length ? Math.max(...this.#offsets) : 0);
  }
}

/** Milliseconds left on the floor's clock at server time `serverNowMs` (negative: overtime). */
export function remaining(floor, serverNowMs) {
  const now = floor.paused_at ?? serverNowMs;
  const spoken = Math.max(0, now - floor.granted_at - floor.paused_ms);
  return floor.limit_ms + floor.extended_ms - spoken;
}

/** "normal", "warning" (within `warningMs` of the end) or "overtime". */
export function phase(remainingMs, warningMs) {
  if (remainingMs < 0) return "overtime";
  return remainingMs <= warningMs ? "warning" : "normal";
}

/** "m:ss", or "+m:ss" for overtime. */
export function formatDuration(ms) {
  const over = ms < 0;
  const total = over ? Math.ceil(-ms / 1000) : Math.ceil(ms / 1000);
  const text = `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
  return over ? `+${text}` : text;
}
