// The organizer page's logic, with no DOM: the body of a new session, and which sessions to
// show, in what order, with what totals.

/** The policies the organizer can pick, as the API spells them (the starvation guard is added). */
export const POLICIES = {
  fifo: { order: "fifo" },
  alternate11: { order: "alternate", room: 1, remote: 1 },
  alternate21: { order: "alternate", room: 2, remote: 1 },
  first_time_first: { order: "first_time_first" },
};

/** Speaking time the form offers, in minutes (the core takes 10 s to 1 h). */
export const MINUTES = { min: 0.5, max: 60 };
/** Longest title and most agenda items the core accepts. */
export const TITLE_MAX = 200;
export const AGENDA_MAX = 50;

/**
 * The body of `POST /api/sessions` from the form's fields, or `{error}` with the message key of
 * the first field that is wrong (the server checks again; this only saves a round trip).
 */
export function newSession({ title, policy, minutes, agenda }) {
  const name = String(title ?? "").trim();
  if (!name) return { error: "org.need_title", field: "title" };
  if ([...name].length > TITLE_MAX) return { error: "org.title_too_long", field: "title" };
  const order = POLICIES[policy];
  if (!order) return { error: "org.bad_policy", field: "policy" };
  const m = Number(minutes);
  if (!Number.isFinite(m) || m < MINUTES.min || m > MINUTES.max) return { error: "org.bad_minutes", field: "minutes" };
  const items = String(agenda ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
  if (items.length > AGENDA_MAX) return { error: "org.too_many_items", field: "agenda" };
  if (items.some((i) => [...i].length > TITLE_MAX)) return { error: "org.item_too_long", field: "agenda" };
  const default_ms = Math.round(m * 60) * 1000;
  // Points of order and direct replies are shorter, never longer than an ordinary turn.
  const short = Math.min(60_000, default_ms);
  return {
    body: {
      title: name,
      policy: { ...order, starvation_ms: 15 * 60_000 },
      limits: { default_ms, per_kind: { point_of_order: short, direct_reply: short }, warning_ms: Math.min(30_000, Math.floor(default_ms / 4)) },
      agenda: items.map((t) => ({ title: t })),
    },
  };
}

/** One word for a listed session: `damaged`, `ended`, `live` or `idle`. */
export function stateOf(s) {
  if (s.state === "damaged") return "damaged";
  if (s.ended) return "ended";
  // "Live" is for people: a session whose actor runs but that nobody has open is idle.
  return s.state === "live" && s.connections > 0 ? "live" : "idle";
}

/**
 * The sessions to show: newest first (a stable order, so cards do not jump as sessions go live
 * or idle), those whose title or id contains `query` (any case), ended ones only if asked.
 */
export function arrange(sessions, { query = "", showEnded = true } = {}) {
  const q = query.trim().toLocaleLowerCase();
  return sessions
    .filter((s) => showEnded || stateOf(s) !== "ended")
    .filter((s) => !q || (s.title ?? "").toLocaleLowerCase().includes(q) || s.id.includes(q))
    .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Totals across every session, for the line above the list. */
export function totals(sessions) {
  const t = { sessions: sessions.length, live: 0, connections: 0, participants: 0, queued: 0 };
  for (const s of sessions) {
    if (stateOf(s) === "live") t.live += 1;
    t.connections += s.connections ?? 0;
    t.participants += s.participants ?? 0;
    t.queued += s.queued ?? 0;
  }
  return t;
}
