// What a link carries in its fragment, which browsers never send to the server: the capability
// token and, on a room's join link, the room code. `#t=TOKEN&room=CODE`, or a bare `#TOKEN`.

/** `{token, room}` from a fragment (`location.hash`, or a link's `new URL(link).hash`); each
 * null when absent. */
export function fromFragment(hash) {
  const raw = String(hash ?? "").replace(/^#/, "");
  if (!raw) return { token: null, room: null };
  if (!raw.includes("=")) {
    try {
      return { token: decodeURIComponent(raw), room: null };
    } catch {
      return { token: raw, room: null };
    }
  }
  const p = new URLSearchParams(raw);
  return { token: p.get("t") || null, room: p.get("room") || null };
}

/** The token alone; null when there is none. */
export function tokenFrom(hash) {
  return fromFragment(hash).token;
}
