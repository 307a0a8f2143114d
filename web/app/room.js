// A room's display: the one link on the room's projector for the whole event. It asks the
// server what is on in the room (`/api/rooms/{id}/now`, with the room's token from the URL
// fragment) and shows the session on now with its room code and join QR code, or the next
// session with its start, or that there is none. It asks again when the programme says the
// answer changes, and every few seconds besides, so a chair's "end" shows within seconds.
// Its words are the reader's language (picked once by whoever sets the projector up).

import { $ } from "/assets/app/dom.js";
import { startPage, apiErrorText, api } from "/assets/app/standalone.js";
import { tokenFrom } from "/assets/lib/link.js";
import { formats, splice } from "/assets/lib/i18n.js";

const POLL_MS = 3000;
const room = location.pathname.split("/").filter(Boolean)[1];
const token = tokenFrom(location.hash) ?? "";

/** What the page shows: the last answer of `/now`, the code on show, and its QR code. */
const shown = { now: null, code: null, qr: null };

function alertText(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

/** The sentence around the session's title and its room code, in the reader's word order. */
function codeSentence(ctx) {
  $("code-text").replaceChildren(...splice(ctx.t("room.join_code"), { title: $("code-title"), code: $("on-code") }));
}

function drawQr(ctx) {
  if (!shown.qr) return;
  const svg = new DOMParser().parseFromString(shown.qr, "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", ctx.t("room.qr_label", { title: shown.code.title }));
  $("on-qr").replaceChildren(document.importNode(svg, true));
}

async function showCode(ctx, on) {
  const res = await api(`/api/sessions/${on.session}/room`, tokenFrom(new URL(on.display).hash) ?? "");
  if (!res.ok) return;
  $("code-title").textContent = on.title;
  $("on-code").textContent = res.body.code;
  shown.code = { session: on.session, title: on.title, until: res.body.next_at };
  shown.qr = res.body.qr_svg;
  drawQr(ctx);
}

/** Draw the last answer (again after a change of language). */
function render(ctx) {
  const body = shown.now;
  if (!body) return;
  const { on, next } = body;
  const f = formats(ctx.lang);
  $("room-name").textContent = body.room.name;
  $("on").hidden = !on;
  $("none").hidden = Boolean(on);
  $("code").hidden = !(on ?? next?.display);
  $("next").hidden = !next;
  if (on) {
    $("on-title").textContent = on.title;
    $("on-times").textContent = f.range(on.start, on.end);
  }
  if (next) {
    $("next-title").textContent = next.title;
    $("next-times").textContent = f.dayTime(next.start);
  }
  document.body.dataset.state = on ? "on" : next ? "next" : "none";
  document.body.dataset.session = on?.session ?? "";
}

async function refresh(ctx) {
  const res = await api(`/api/rooms/${room}/now`, token);
  if (!res.ok) {
    alertText(apiErrorText(ctx, res.body, res.status));
    return POLL_MS;
  }
  alertText("");
  const { on, next, now, switch_at: switchAt } = res.body;
  // Nothing on and the next session soon: its room code, so people arriving early can join.
  const coded = on ?? (next?.display ? next : null);
  const skew = now - Date.now();
  shown.now = res.body;
  if (coded && (shown.code?.session !== coded.session || now >= shown.code.until)) await showCode(ctx, coded);
  render(ctx);
  // Ask again when the programme switches (by the server's clock), or in a few seconds.
  const untilSwitch = switchAt ? switchAt - (Date.now() + skew) + 100 : POLL_MS;
  return Math.max(200, Math.min(POLL_MS, untilSwitch));
}

async function loop(ctx) {
  let wait = POLL_MS;
  try {
    wait = await refresh(ctx);
  } catch {
    // The server out of reach: said in the reader's language, and asked again.
    alertText(ctx.t("alert.unreachable"));
  }
  setTimeout(() => loop(ctx), wait);
}

startPage((ctx) => {
  codeSentence(ctx);
  drawQr(ctx);
  render(ctx);
}).then(loop, (err) => alertText(String(err)));
