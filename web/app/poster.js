// The room's join poster, to print: the session's title, a large QR code of its participant link
// and the steps to join. A paper poster cannot carry the display's rotating room code, so the
// steps send people in the room to type that code: presence is still proven by the room display.
// Under the QR code, the short address (`/j/{code}`) for people who cannot scan it.
// Fetched with the admin token (or the chair's link) from the URL fragment.

import { $ } from "/assets/app/dom.js";
import { startPage, apiErrorText, alertText, api } from "/assets/app/standalone.js";
import { tokenFrom } from "/assets/lib/link.js";

function drawQr(ctx, svgText) {
  const svg = new DOMParser().parseFromString(svgText, "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", ctx.t("poster.qr_label"));
  $("poster-qr").replaceChildren(document.importNode(svg, true));
}

let handout = null;

startPage((ctx) => {
  if (handout) drawQr(ctx, handout.participant_qr_svg);
}).then(async (ctx) => {
  $("print").addEventListener("click", () => print());
  const session = location.pathname.split("/").filter(Boolean)[1];
  const res = await api(`/api/sessions/${session}/links`, tokenFrom(location.hash) ?? "");
  if (!res.ok) {
    alertText(apiErrorText(ctx, res.body, res.status), 0);
    return;
  }
  handout = res.body;
  $("poster-title").textContent = handout.title;
  // Typed by people who cannot scan: without the scheme when it is https (browsers assume it).
  // It may wrap before `/j/`, never inside the code.
  const shown = handout.short_url.replace(/^https:\/\//, "");
  const cut = shown.lastIndexOf("/j/");
  $("poster-short").replaceChildren(
    Object.assign(document.createElement("span"), { textContent: shown.slice(0, cut) }),
    document.createElement("wbr"),
    Object.assign(document.createElement("span"), { textContent: shown.slice(cut) }));
  drawQr(ctx, handout.participant_qr_svg);
  document.body.dataset.ready = "true";
}, (err) => alertText(String(err), 0));
