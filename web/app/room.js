// A room's display: the one link on the room's projector for the whole event. It asks the
// server what is on in the room (`/api/rooms/{id}/now`, with the room's token from the URL
// fragment) and shows the session on now with its room code and join QR code, or the next
// session with its start, or that there is none. It asks again when the programme says the
// answer changes, and every few seconds besides, so a chair's "end" shows within seconds.

import { $ } from "/assets/app/dom.js";
import { tokenFrom } from "/assets/lib/link.js";
import { api } from "/assets/lib/api.js";

const POLL_MS = 3000;
const room = location.pathname.split("/").filter(Boolean)[1];
const token = tokenFrom(location.hash) ?? "";

const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const day = (ms) => new Date(ms).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });

function alertText(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

let shownCode = null;

async function showCode(on) {
  const res = await api(`/api/sessions/${on.session}/room`, tokenFrom(new URL(on.display).hash) ?? "");
  if (!res.ok) return;
  $("code-title").textContent = on.title;
  $("on-code").textContent = res.body.code;
  const svg = new DOMParser().parseFromString(res.body.qr_svg, "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Join link");
  $("on-qr").replaceChildren(document.importNode(svg, true));
  shownCode = { session: on.session, until: res.body.next_at };
}

async function refresh() {
  const res = await api(`/api/rooms/${room}/now`, token);
  if (!res.ok) {
    alertText(res.body?.message ?? `error ${res.status}`);
    return POLL_MS;
  }
  alertText("");
  const { on, next, now, switch_at: switchAt } = res.body;
  // Nothing on and the next session soon: its room code, so people arriving early can join.
  const coded = on ?? (next?.display ? next : null);
  const skew = now - Date.now();
  $("room-name").textContent = res.body.room.name;
  $("on").hidden = !on;
  $("none").hidden = Boolean(on);
  $("code").hidden = !coded;
  if (coded && (shownCode?.session !== coded.session || now >= shownCode.until)) await showCode(coded);
  $("next").hidden = !next;
  if (on) {
    $("on-title").textContent = on.title;
    $("on-times").textContent = `${clock(on.start)} – ${clock(on.end)}`;
  }
  if (next) {
    $("next-title").textContent = next.title;
    $("next-times").textContent = `${day(next.start)}, ${clock(next.start)}`;
  }
  document.body.dataset.state = on ? "on" : next ? "next" : "none";
  document.body.dataset.session = on?.session ?? "";
  // Ask again when the programme switches (by the server's clock), or in a few seconds.
  const untilSwitch = switchAt ? switchAt - (Date.now() + skew) + 100 : POLL_MS;
  return Math.max(200, Math.min(POLL_MS, untilSwitch));
}

async function loop() {
  let wait = POLL_MS;
  try {
    wait = await refresh();
  } catch (err) {
    alertText(String(err));
  }
  setTimeout(loop, wait);
}

loop();
