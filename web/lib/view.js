// The view a console holds, and the patches that move it along: a direct port of the server's
// `View::apply` (src/protocol/view.rs), so pages never run the queue's rules themselves.

/** The view no longer matches the server's: ask for a fresh snapshot. */
export class Diverged extends Error {}

/** A person as the pages read them: `head_count` is left out at 1 on the wire. */
const withWho = (x) => (x?.who && x.who.head_count == null ? { ...x, who: { ...x.who, head_count: 1 } } : x);

/** The floor as the pages read it: the clock's fields are left out at 0 / null on the wire. */
export function fullFloor(floor) {
  return floor ? withWho({ extended_ms: 0, paused_at: null, paused_ms: 0, ...floor }) : floor;
}

/** A snapshot's view as the pages read it (the wire's defaults filled in). */
export function fullView(view) {
  const requests = {};
  for (const [id, r] of Object.entries(view.requests ?? {})) requests[id] = withWho(r);
  return { ...view, requests, floor: fullFloor(view.floor) };
}

/**
 * Apply the patch of an update sent at `serverTime`; returns a new view and leaves the input
 * untouched.
 */
export function applyPatch(view, patch, serverTime) {
  const next = { ...view, requests: { ...view.requests } };
  if (patch.session) next.session = patch.session;
  for (const id of patch.closed ?? []) delete next.requests[id];
  for (const r of patch.requests ?? []) next.requests[r.id] = withWho(applyRequest(next.requests[r.id], r, next.session?.item ?? null, serverTime));
  let queue = view.queue;
  if ("floor" in patch) {
    next.floor = fullFloor(patch.floor);
    // The floor's request is speaking, out of the queue: the patch does not say so.
    const id = patch.floor?.request;
    if (id != null) {
      if (next.requests[id]) next.requests[id] = { ...next.requests[id], state: "speaking" };
      queue = queue.filter((s) => s.request !== id);
    }
  }
  if (patch.fairness) {
    // The tallies' fields that changed, by modality.
    next.fairness = { ...next.fairness };
    for (const [m, fields] of Object.entries(patch.fairness)) next.fairness[m] = { ...next.fairness[m], ...fields };
  }
  if (patch.remote) next.remote = { ...next.remote, ...patch.remote };
  next.queue = patch.order ? applyOrderPatch(queue, patch.order) : queue;
  return next;
}

/**
 * One request's patch (protocol version 2): a request the view holds takes the fields present;
 * a new one is whole but for the fields at their defaults (`origin` self, `state` waiting,
 * `requested_at` the update's time, `queued_at` = `requested_at`, `item` the session's current
 * item, no note, not parked).
 */
function applyRequest(held, r, item, serverTime) {
  if (held) return { ...held, ...r };
  if (r.participant == null || !r.who || !r.kind) throw new Diverged(`request ${r.id} is new to this view but not whole`);
  const requested_at = r.requested_at ?? serverTime;
  return { origin: "self", state: "waiting", queued_at: requested_at, item, ...r, requested_at };
}

function applyOrderPatch(queue, order) {
  const gone = new Set(order.remove ?? []);
  const out = queue.filter((s) => !gone.has(s.request));
  for (const [index, entry] of order.insert ?? []) {
    const slot = typeof entry === "number" ? { request: entry, reason: "arrival" } : entry;
    if (index > out.length) throw new Diverged(`insert at ${index} past the end (${out.length})`);
    out.splice(index, 0, slot);
  }
  for (const slot of order.reasons ?? []) {
    const at = out.findIndex((s) => s.request === slot.request);
    if (at < 0) throw new Diverged(`reason for unknown entry ${slot.request}`);
    out[at] = slot;
  }
  if (out.length !== order.len) throw new Diverged(`length ${out.length}, expected ${order.len}`);
  return out;
}

/** Replace the queue with an `order` frame's. */
export function applyOrder(view, queue) {
  return { ...view, queue };
}

/** One-based position of a request in the queue, or 0. */
export function positionOf(view, requestId) {
  return view.queue.findIndex((s) => s.request === requestId) + 1;
}

/** The open request of a participant, or null. */
export function myRequest(view, participantId) {
  return Object.values(view.requests).find((r) => r.participant === participantId) ?? null;
}

/** Waiting requests by side: onsite is the room; online and hubs are remote. */
export function waitingBySide(view) {
  const out = { room: 0, remote: 0 };
  for (const s of view.queue) {
    const r = view.requests[s.request];
    if (r) out[r.who.modality === "onsite" ? "room" : "remote"] += 1;
  }
  return out;
}

/** The first `n` slots with their requests. */
export function nextUp(view, n) {
  return view.queue.slice(0, n).map((slot) => ({ slot, request: view.requests[slot.request] }));
}
