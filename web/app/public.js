// The public view: the queue, read-only, for anyone with the session link.

import { boot, renderQueue, renderFloor, tickFloor, tickWaits, waitingText, announceEvents, showError } from "/assets/app/common.js";

const $ = (id) => document.getElementById(id);

boot({
  render: (ctx) => {
    $("session-title").textContent = ctx.view.session.title;
    renderFloor($("floor"), ctx);
    renderQueue($("queue"), ctx);
    $("counts").textContent = waitingText(ctx);
  },
  tick: (ctx) => {
    tickFloor($("floor"), ctx);
    tickWaits(ctx);
  },
  onEvents: announceEvents,
}).catch((err) => showError({ t: (k) => k }, "unavailable", { message: String(err) }, true));
