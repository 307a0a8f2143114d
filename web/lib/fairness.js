// The live fairness panel's figures, from a moderator's view at a server time. No DOM: the
// consoles draw them, and `node --test` checks them.

export const MODALITIES = ["onsite", "online", "hub"];

/** The session cap: the core refuses joins past it with `session_full` (`PARTICIPANTS_MAX` in
 *  src/queue/mod.rs; a Rust test checks the two agree). */
export const PARTICIPANTS_MAX = 20000;

/** Participants in the session now (joined, not removed), from the moderators' tallies; `null`
 *  when the view has none (not a moderator's). */
export function present(view) {
  if (!view.fairness) return null;
  return MODALITIES.reduce((n, m) => n + (view.fairness[m]?.participants ?? 0), 0);
}

/** Whether the session is full: a join now would be refused. */
export function sessionFull(view) {
  const n = present(view);
  return n != null && n >= PARTICIPANTS_MAX;
}

/** The consoles' notice while the session is full (none after the end), in `catalog`'s language. */
export function fullNotice(view, catalog) {
  if (!sessionFull(view) || view.session?.controls?.ended) return null;
  return catalog.t("alert.full", { max: new Intl.NumberFormat(catalog.lang).format(PARTICIPANTS_MAX) });
}

/** Milliseconds the current speaker has spoken at `now` (pauses excluded). */
function spokenNow(floor, now) {
  if (!floor) return 0;
  const until = floor.paused_at ?? now;
  return Math.max(0, until - floor.granted_at - floor.paused_ms);
}

/** Percentages (rounded, summing to 100 when anything counted) of `values` by modality. */
export function shares(values) {
  const total = MODALITIES.reduce((s, m) => s + (values[m] ?? 0), 0);
  const out = {};
  for (const m of MODALITIES) out[m] = total ? Math.round(((values[m] ?? 0) * 100) / total) : 0;
  return { total, pct: out };
}

/**
 * Per modality: shares of requests, turns and speaking time (the running turn included), and
 * the waits (people waiting now, the longest current wait, the average wait of turns given).
 */
export function fairness(view, now) {
  const t = view.fairness ?? {};
  const pick = (f) => Object.fromEntries(MODALITIES.map((m) => [m, f(t[m] ?? { requests: 0, turns: 0, waited_ms: 0, spoken_ms: 0 }, m)]));
  const speakingMod = view.floor?.who?.modality;
  const waiting = Object.fromEntries(MODALITIES.map((m) => [m, { count: 0, longest_ms: 0 }]));
  for (const slot of view.queue) {
    const r = view.requests[slot.request];
    if (!r) continue;
    const w = waiting[r.who.modality];
    w.count += 1;
    w.longest_ms = Math.max(w.longest_ms, now - r.queued_at);
  }
  return {
    requests: shares(pick((x) => x.requests)),
    turns: shares(pick((x) => x.turns)),
    speaking: shares(pick((x, m) => x.spoken_ms + (m === speakingMod ? spokenNow(view.floor, now) : 0))),
    waits: pick((x, m) => ({ ...waiting[m], average_ms: x.turns ? Math.floor(x.waited_ms / x.turns) : null })),
  };
}
