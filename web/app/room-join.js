// A room's poster link: ask which session is on in the room now (or next) and go on to its
// join page, replacing this page in the history. Presence in the room is still proven there,
// by the code on the room's display.

import { $ } from "/assets/app/dom.js";
import { tokenFrom } from "/assets/lib/link.js";
import { api } from "/assets/lib/api.js";

const room = location.pathname.split("/").filter(Boolean)[1];
const token = tokenFrom(location.hash) ?? "";

const { ok, status, body } = await api(`/api/rooms/${room}/join`, token);
if (!ok) {
  $("title").textContent = "This poster's link does not work.";
  $("error").textContent = body?.message ?? `error ${status}`;
  $("error").hidden = false;
  document.body.dataset.state = "error";
} else if (!body.join) {
  $("title").textContent = `No session in ${body.room} now or later.`;
  document.body.dataset.state = "none";
} else {
  location.replace(body.join);
}
