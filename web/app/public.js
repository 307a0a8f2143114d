// The public view: the queue, read-only, for anyone with the session link.

import { $, boot, renderQueue, renderFloor, tickFloor, tickWaits, waitingText, announceEvents, showError } from "/assets/app/common.js";

boot({
  render: (ctx) => {
    $("session-title").textContent = ctx.view.session.title;
    renderFloor($("floor"), ctx);
    renderQueue($("queue"), ctx);
    $("counts").textContent = waitingText(ctx);
    // Closed and ended said plainly; once ended, nobody is waiting for a turn any more.
    const { ended } = ctx.view.session.controls;
    const note = $("list-note");
    note.hidden = ended || ctx.view.session.list_open;
    note.textContent = ctx.t("display.list_closed");
    $("queue-section").hidden = ended;
  },
  tick: (ctx) => {
    tickFloor($("floor"), ctx);
    tickWaits(ctx);
  },
  onEvents: announceEvents,
}).catch((err) => showError({ t: (k) => k }, "unavailable", { message: String(err) }, true));
