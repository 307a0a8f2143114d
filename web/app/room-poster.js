// A room's permanent poster, to print once for the whole event: the room's name and a large QR
// code of its join link, which leads to whichever session is on in the room. Fetched with the
// admin token from the URL fragment.

import { $ } from "/assets/app/dom.js";
import { tokenFrom } from "/assets/lib/link.js";
import { api } from "/assets/lib/api.js";

const room = location.pathname.split("/").filter(Boolean)[1];
const token = tokenFrom(location.hash) ?? "";

$("print").addEventListener("click", () => print());
const { ok, status, body } = await api(`/api/rooms/${room}/poster`, token);
if (!ok) {
  $("error").textContent = body?.message ?? `error ${status}`;
  $("error").hidden = false;
} else {
  $("poster-title").textContent = body.room.name;
  const svg = new DOMParser().parseFromString(body.qr_svg, "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Join the session in ${body.room.name}`);
  $("poster-qr").replaceChildren(document.importNode(svg, true));
  document.body.dataset.ready = "true";
}
