// The speakers so far on the consoles (as OpenSlides keeps "finished speakers"): kind, where
// and how long, newest first, from the record rather than from every view.

import { $, h } from "/assets/app/common.js";
import { formatDuration } from "/assets/lib/clock.js";

/**
 * The speakers so far, newest first (kind, where, how long), from the record (the report's
 * `speakers`): fetched at the start and again whenever a turn ends, not on every update.
 */
export async function loadHistory(ctx) {
  const res = await fetch(`/api/sessions/${ctx.session}/report`, { headers: { Authorization: `Bearer ${ctx.token}` } }).catch(() => null);
  if (!res?.ok) return;
  ctx.history = (await res.json()).speakers ?? [];
  renderHistory(ctx);
}

export function renderHistory(ctx) {
  const list = $("history-list");
  if (!ctx.history) return;
  // The turn running now is on the floor, not in the history.
  const done = ctx.history.filter((s) => !(ctx.view?.floor && s.at === ctx.view.floor.granted_at));
  list.replaceChildren(...(done.length
    ? done.slice().reverse().map((s) => h("li", {},
        h("bdi", { class: "name" }, s.name), " ",
        h("span", { class: "meta" }, [ctx.t(`kind.${s.kind}`), ctx.t(`modality.${s.modality}`), s.origin === "relay" ? ctx.t("origin.relay") : null].filter(Boolean).join(" · ")), " ",
        h("span", { class: "spoke" }, formatDuration(s.spoken_ms))))
    : [h("li", { class: "empty" }, ctx.t("history.none"))]));
}
