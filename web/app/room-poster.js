// A room's permanent poster, to print once for the whole event: the room's name and a large QR
// code of its join link, which leads to whichever session is on in the room. Fetched with the
// admin token from the URL fragment. Printed in the language picked on the page.

import { $ } from "/assets/app/dom.js";
import { startPage, apiErrorText, alertText, api } from "/assets/app/standalone.js";
import { tokenFrom } from "/assets/lib/link.js";

const room = location.pathname.split("/").filter(Boolean)[1];
const token = tokenFrom(location.hash) ?? "";
let poster = null;

function drawQr(ctx) {
  if (!poster) return;
  const svg = new DOMParser().parseFromString(poster.qr_svg, "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", ctx.t("room.poster_qr_label", { room: poster.room.name }));
  $("poster-qr").replaceChildren(document.importNode(svg, true));
}

startPage(drawQr).then(async (ctx) => {
  $("print").addEventListener("click", () => print());
  const { ok, status, body } = await api(`/api/rooms/${room}/poster`, token);
  if (!ok) {
    alertText(apiErrorText(ctx, body, status), 0);
    return;
  }
  poster = body;
  $("poster-title").textContent = body.room.name;
  drawQr(ctx);
  document.body.dataset.ready = "true";
}, (err) => alertText(String(err), 0));
