// A room's poster link: ask which session is on in the room now (or next) and go on to its
// join page, replacing this page in the history. Presence in the room is still proven there,
// by the code on the room's display. The question goes out at once; the reader's language is
// needed only if there is nowhere to go.

import { $, h } from "/assets/app/dom.js";
import { startPage, apiErrorText, api } from "/assets/app/standalone.js";
import { tokenFrom } from "/assets/lib/link.js";
import { splice } from "/assets/lib/i18n.js";

const room = location.pathname.split("/").filter(Boolean)[1];
const token = tokenFrom(location.hash) ?? "";

// A server out of reach is said like a refusal (`unavailable`).
const { ok, status, body } = await api(`/api/rooms/${room}/join`, token).catch(() => ({ ok: false, status: 0, body: { code: "unavailable" } }));
if (ok && body.join) {
  location.replace(body.join);
} else {
  // Said again on a change of language: the title, and why the link led nowhere.
  await startPage((ctx) => {
    if (!ok) {
      $("title").textContent = ctx.t("room.link_broken");
      $("error").textContent = apiErrorText(ctx, body, status);
      $("error").hidden = false;
    } else {
      $("title").replaceChildren(...splice(ctx.t("room.nothing"), { room: h("bdi", {}, body.room) }));
    }
  });
  document.body.dataset.state = ok ? "none" : "error";
}
