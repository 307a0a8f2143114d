// The moderators' console, one page for the chair and the online moderator: the floor and its
// controls, the one queue with per-entry actions, proxies and relays, and (for the chair) the
// list, policy, time limits and agenda. Keyboard: N next, E end, X extend, ? help.

import { MODALITIES, fairness, fullNotice } from "/assets/lib/fairness.js";
import { formatDuration } from "/assets/lib/clock.js";
import { dragToMove } from "/assets/app/reorder.js";
import { loadHistory } from "/assets/app/history.js";
import { SECTIONS, splitSections, joinSections } from "/assets/lib/sections.js";
import { $, boot, h, modalityBadge, renderQueue, renderFloor, tickFloor, tickWaits, announceEvents, ask, confirmDialog, counts, waitingText, showError } from "/assets/app/common.js";

const seen = (ctx) => ctx.view.floor?.turn ?? null;

async function grant(ctx, request, reason = null) {
  const cmd = { type: "grant", seen: seen(ctx) };
  if (request != null) cmd.request = request;
  if (reason) cmd.reason = reason;
  try {
    await ctx.send(cmd, ["not_ready"]);
  } catch (err) {
    if (err.code === "not_ready" && (await confirmDialog(ctx, "confirm.not_ready"))) {
      await ctx.send({ ...cmd, seen: seen(ctx), force: true });
    }
  }
}

const floorCmd = (ctx, type, extra = {}) => ctx.send({ type, seen: seen(ctx), ...extra }).catch(() => {});

/**
 * Whether this console's moderator manages an entry of `who`: the chair every entry, the online
 * moderator remote ones (the core's rule, which refuses the rest). The role is the one the
 * server's `welcome` named, not the page's address.
 */
const manages = (ctx, who) => ctx.role === "chair" || who.modality !== "onsite";

/**
 * Each entry's actions: "Give the floor" and (for a remote speaker to check) "Mark ready" stay
 * in the row; the rest sit in a menu (a `<details>`, so it opens with a click, Enter or Space),
 * so a row stays one line high and ten or more entries fit on a laptop.
 */
function entryActions(ctx) {
  return (r, slot, index) => {
    const remote = r.who.modality !== "onsite";
    const mine = manages(ctx, r.who);
    const name = { name: r.who.name };
    const b = (action, key, onclick, extra = {}) =>
      h("button", { type: "button", "data-action": action, onclick, ...extra }, ctx.t(key, name));
    // Text read out by the online moderator (typed text, or relayed from the chat) has no audio.
    const checkAudio = remote && r.kind !== "text_intervention" && r.origin !== "relay";
    const menu = [
      mine && index > 0 ? b("top", "action.top", async () => {
        const a = await ask(ctx, "dialog.move_title", { params: name });
        if (a) ctx.send({ type: "move", request: r.id, position: 1, reason: a.reason }).catch(() => {});
      }) : null,
      mine ? b("move", "action.move", async () => {
        const a = await ask(ctx, "dialog.move_to_title", { params: name, position: { value: index + 1, max: ctx.view.queue.length } });
        if (a) ctx.send({ type: "move", request: r.id, position: a.position, reason: a.reason }).catch(() => {});
      }) : null,
      // The audio loop: park a remote speaker who cannot be heard, with the reason.
      mine && checkAudio ? b("audio-failed", "action.audio_failed", () =>
        ctx.send({ type: "audio_failed", request: r.id }).catch(() => {})) : null,
      mine ? b("remove", "action.remove", async () => {
        const a = await ask(ctx, "dialog.remove_title", { params: name });
        if (a) ctx.send({ type: "remove", request: r.id, reason: a.reason }).catch(() => {});
      }) : null,
      mine && r.origin === "self" ? b("remove-person", "action.remove_person", async () => {
        const a = await ask(ctx, "dialog.remove_person_title", { params: name });
        if (a) ctx.send({ type: "remove_participant", participant: r.participant, reason: a.reason }).catch(() => {});
      }, { class: "danger" }) : null,
    ].filter(Boolean);
    return [
      b("grant", "action.grant_this", async () => {
        // Out of order is an override, reported with its reason: ask for it as `move` does.
        const a = index > 0 ? await ask(ctx, "dialog.grant_title", { params: name }) : { reason: null };
        if (a) grant(ctx, r.id, a.reason);
      }),
      checkAudio
        ? b("ready", r.state === "ready" ? "action.unready" : "action.ready", () =>
            ctx.send({ type: "mark_ready", request: r.id, ready: r.state !== "ready" }).catch(() => {}), { "aria-pressed": r.state === "ready" ? "true" : "false" })
        : null,
      menu.length
        ? h("details", { class: "more", onclick: (e) => { if (e.target.closest(".menu button")) e.currentTarget.open = false; } },
            h("summary", { "data-action": "menu", "aria-label": ctx.t("action.more_for", name) }, ctx.t("action.more")),
            h("div", { class: "menu" }, menu))
        : null,
    ];
  };
}

/** People who declined for now, each with one-click "Back in" (to the back of the queue). */
function renderParked(ctx) {
  const parked = Object.values(ctx.view.requests).filter((r) => r.state === "parked");
  $("parked-section").hidden = parked.length === 0;
  const ended = ctx.view.session.controls.ended;
  $("parked").replaceChildren(...parked.map((r) => {
    const may = !ended && manages(ctx, r.who);
    return h("li", { class: "parked-entry", "data-request": r.id },
      h("span", { class: "name", dir: "auto" }, r.who.name), " ",
      modalityBadge(ctx, r.who), " ",
      h("span", { class: "kind" }, ctx.t(`kind.${r.kind}`)),
      r.parked ? h("span", { class: "badge badge-parked" }, ctx.t(`parked.${r.parked}`)) : null,
      may ? h("button", { type: "button", "data-action": "back-in", "aria-label": ctx.t("action.back_in_for", { name: r.who.name }),
        onclick: () => ctx.send({ type: "rejoin", request: r.id }).catch(() => {}) }, ctx.t("action.back_in")) : null);
  }));
}

function proxyForm(ctx) {
  const form = $("proxy-form");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const modality = f.get("modality");
    const profile = { name: f.get("name"), affiliation: f.get("affiliation") ?? "", modality, head_count: modality === "hub" ? Number(f.get("head_count") || 2) : 1 };
    try {
      await ctx.send({ type: "add_proxy", profile, kind: f.get("kind"), note: f.get("note") || null });
      form.reset();
    } catch {}
  });
}

function relayForm(ctx) {
  const form = $("relay-form");
  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const profile = { name: f.get("name"), affiliation: f.get("affiliation") ?? "", modality: "online" };
    try {
      await ctx.send({ type: "add_proxy", profile, kind: f.get("kind"), note: f.get("text") || null });
      form.reset();
    } catch {}
  });
}

/** The session's policy and time limit as the form's fields. */
function policyFields(session) {
  const p = session.policy;
  const order = p.order === "alternate" ? (p.room === 2 && p.remote === 1 ? "alternate21" : "alternate") : p.order;
  return { order, starvation: p.starvation_ms == null ? 0 : p.starvation_ms / 60000, limit: session.limits.default_ms / 60000 };
}

/** Show the session's settings in the form, unless the chair is editing it. */
function fillPolicyForm(ctx) {
  const form = $("policy-form");
  const editing = form?.contains(document.activeElement) && document.activeElement.matches("input, select");
  if (!form || form.dataset.dirty || editing) return;
  const v = policyFields(ctx.view.session);
  form.elements.order.value = v.order;
  form.elements.starvation_min.value = String(v.starvation);
  form.elements.limit_min.value = String(v.limit);
}

/** Remote requests in the queue (the error frame carries only the code). */
function remoteWaiting(view) {
  const c = counts(view);
  return c.online + c.hub;
}

function chairForms(ctx) {
  $("list-toggle")?.addEventListener("click", async () => {
    if (!ctx.view.session.list_open) return ctx.send({ type: "reopen_list" }).catch(() => {});
    try {
      await ctx.send({ type: "close_list", confirm: false }, ["remote_waiting"]);
    } catch (err) {
      if (err.code === "remote_waiting" && (await confirmDialog(ctx, "confirm.close_remote", { count: remoteWaiting(ctx.view) }))) {
        ctx.send({ type: "close_list", confirm: true }).catch(() => {});
      }
    }
  });
  const policyForm = $("policy-form");
  policyForm?.addEventListener("input", () => (policyForm.dataset.dirty = "true"));
  policyForm?.addEventListener("submit", (e) => {
    e.preventDefault();
    // Only what was edited is sent: the rest of the session's settings stay as they are.
    const shown = policyFields(ctx.view.session);
    const f = new FormData(policyForm);
    const order = f.get("order");
    const starvation = Number(f.get("starvation_min"));
    const limit = Number(f.get("limit_min"));
    if (order !== shown.order || starvation !== shown.starvation) {
      const policy = order.startsWith("alternate")
        ? { order: "alternate", room: order === "alternate21" ? 2 : 1, remote: 1 }
        : { order };
      policy.starvation_ms = starvation > 0 ? Math.round(starvation * 60000) : null;
      ctx.send({ type: "set_policy", policy }).catch(() => {});
    }
    if (limit !== shown.limit) {
      const limits = { ...ctx.view.session.limits, default_ms: Math.round(limit * 60000) };
      ctx.send({ type: "set_time_limits", limits }).catch(() => {});
    }
    delete policyForm.dataset.dirty; // the next update shows what the server made of it
    document.activeElement?.blur();
  });
  $("agenda-next")?.addEventListener("click", () =>
    ctx.send({ type: "advance_agenda", carry_over: $("carry-over").checked }).catch(() => {}));
  $("readd-last")?.addEventListener("click", async () => {
    const last = ctx.lastSpeaker;
    const a = await ask(ctx, last ? "dialog.readd_title_named" : "dialog.readd_title", { params: { name: last ?? "" } });
    if (a) ctx.send({ type: "readd_last", reason: a.reason }).catch(() => {});
  });
  $("agenda-form")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const titles = new FormData(e.target).get("items").split("\n").map((t) => t.trim()).filter(Boolean);
    ctx.send({ type: "set_agenda", items: titles.map((title) => ({ title })) }).catch(() => {});
  });
  $("link-form")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    ctx.send({ type: "post_link", title: f.get("title") ?? "", url: f.get("url") }).then(() => e.target.reset(), () => {});
  });
}

const SVG = "http://www.w3.org/2000/svg";
const FILL = { onsite: "#5b2a86", online: "#0b5cad", hub: "#b36b00" };

/** One 100% bar split by modality; the text beside it says the same (the bar is decoration). */
function shareBar(ctx, key, share) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 100 6");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "share-bar");
  let x = 0;
  for (const m of MODALITIES) {
    const w = share.pct[m];
    if (!w) continue;
    const rect = document.createElementNS(SVG, "rect");
    for (const [k, v] of Object.entries({ x, y: 0, width: w, height: 6, fill: FILL[m] })) rect.setAttribute(k, String(v));
    svg.append(rect);
    x += w;
  }
  const parts = MODALITIES.filter((m) => share.pct[m] || m !== "hub").map((m) => `${ctx.t(`modality.${m}`)} ${share.pct[m]}%`);
  return h("div", { class: "share" }, h("p", { class: "share-label" }, h("strong", {}, ctx.t(key)), " ", share.total ? parts.join(" · ") : ctx.t("fairness.none")), share.total ? svg : null);
}

/** The live fairness panel: shares of requests, turns and speaking time; waits per modality. */
function renderFairness(ctx) {
  const f = fairness(ctx.view, ctx.clock.now());
  $("fairness-bars").replaceChildren(
    shareBar(ctx, "fairness.requests", f.requests),
    shareBar(ctx, "fairness.turns", f.turns),
    shareBar(ctx, "fairness.speaking", f.speaking),
  );
  $("fairness-waits").replaceChildren(...MODALITIES.filter((m) => f.waits[m].count || f.waits[m].average_ms != null).map((m) => {
    const w = f.waits[m];
    const avg = w.average_ms == null ? ctx.t("fairness.no_turns") : formatDuration(w.average_ms);
    return h("li", {}, ctx.t("fairness.waits", { modality: ctx.t(`modality.${m}`), count: w.count, longest: formatDuration(w.longest_ms), average: avg }));
  }));
}

/** Lock, pause participants, lock names, remove a join flood, renew every link, end the session. */
function controlForms(ctx) {
  const toggle = (id, control) =>
    $(id)?.addEventListener("click", () => {
      const on = !ctx.view.session.controls[STATE_OF[control]];
      ctx.send({ type: "set_control", control, on }).catch(() => {});
    });
  toggle("lock-toggle", "lock");
  toggle("suspend-toggle", "suspend");
  toggle("rename-toggle", "rename_lock");
  $("end-session")?.addEventListener("click", async () => {
    if (await confirmDialog(ctx, "confirm.end_session")) ctx.send({ type: "end_session" }).catch(() => {});
  });
  $("purge-silent")?.addEventListener("click", async () => {
    if (!(await confirmDialog(ctx, "confirm.purge_silent"))) return;
    // The server removes 500 at a time: again until the seq stops moving.
    let seq = null;
    for (let i = 0; i < 20; i++) {
      const ack = await ctx.send({ type: "remove_silent", reason: "join flood" }).catch(() => null);
      if (!ack || ack.seq === seq) break;
      seq = ack.seq;
    }
  });
  $("rotate")?.addEventListener("click", async () => {
    if (!(await confirmDialog(ctx, "confirm.rotate"))) return;
    const res = await fetch(`/api/sessions/${ctx.session}/rotate`, { method: "POST", headers: { Authorization: `Bearer ${ctx.token}` } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) return showError(ctx, body.code ?? "unavailable", body);
    ctx.conn.stop(); // this console's own link has just stopped working
    showRotatedLinks(ctx, body.links);
  });
}

/** The record: the printable report, downloads of every export, the key takeaways. */
function recordForms(ctx) {
  const page = $("report-page");
  page.href = `/s/${ctx.session}/report#t=${encodeURIComponent(ctx.token)}`;
  for (const b of document.querySelectorAll("[data-export]")) {
    b.addEventListener("click", async () => {
      const file = b.dataset.export;
      const res = await fetch(`/api/sessions/${ctx.session}/${file}`, { headers: { Authorization: `Bearer ${ctx.token}` } });
      if (!res.ok) return showError(ctx, (await res.json().catch(() => ({}))).code ?? "unavailable");
      const a = h("a", { href: URL.createObjectURL(await res.blob()), download: `rostrum-${ctx.session.slice(0, 8)}-${file === "report" ? "report.json" : file}` });
      document.body.append(a);
      a.click();
      a.remove();
    });
  }
  const form = $("takeaways-form");
  if (!form) return;
  // The report's text sections, a box each, saved joined as the one takeaways text (its
  // headings name the sections: web/lib/sections.js). The core counts the whole text.
  const joined = () => joinSections(Object.fromEntries(SECTIONS.map((s) => [s.key, $(`takeaways-${s.key}`).value])));
  const fits = () => {
    const n = [...joined()].length;
    const over = $("takeaways-length");
    over.hidden = n <= TAKEAWAYS_MAX;
    over.textContent = over.hidden ? "" : ctx.t("record.too_long", { n, max: TAKEAWAYS_MAX });
    return over.hidden;
  };
  form.addEventListener("input", fits);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (fits()) ctx.send({ type: "set_takeaways", text: joined() }).catch(() => {});
  });
}

/** The core's limit on the takeaways, all sections together (src/queue/text.rs). */
const TAKEAWAYS_MAX = 10000;
let takeawaysShown = null;

/** Each section's box filled from the session's takeaways when they change (not the box being typed in). */
function renderTakeaways(ctx) {
  const text = ctx.view.session.takeaways ?? "";
  if (text === takeawaysShown) return;
  takeawaysShown = text;
  const parts = splitSections(text);
  for (const s of SECTIONS) {
    const box = $(`takeaways-${s.key}`);
    if (box && document.activeElement !== box) box.value = parts[s.key];
  }
}

const STATE_OF = { lock: "locked", suspend: "suspended", rename_lock: "rename_locked" };
const LINK_ROLES = ["chair", "online_moderator", "participant", "display", "public"];

/** The new links, to copy and send; closing it opens this console on its new link. */
function showRotatedLinks(ctx, links) {
  const rows = LINK_ROLES.map((role) => {
    const id = `link-${role}`;
    return [h("label", { for: id }, ctx.t(`rotate.${role}`)), h("input", { id, readonly: true, value: links[role], onfocus: (e) => e.target.select() })];
  });
  const dialog = h("dialog", { class: "ask rotated-links", "aria-labelledby": "rotated-h" },
    h("form", { method: "dialog" },
      h("h2", { id: "rotated-h" }, ctx.t("rotate.title")),
      h("p", {}, ctx.t("rotate.note")),
      rows.flat(),
      h("div", { class: "dialog-buttons" }, h("button", { value: "ok", class: "primary" }, ctx.t("rotate.open")))));
  document.body.append(dialog);
  dialog.addEventListener("close", () => {
    location.replace(links.chair);
    location.reload();
  });
  dialog.showModal();
}

function renderControls(ctx) {
  const c = ctx.view.session.controls;
  const press = (id, on, onKey, offKey) => {
    const b = $(id);
    if (!b) return;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = ctx.t(on ? onKey : offKey);
    b.disabled = c.ended;
  };
  press("lock-toggle", c.locked, "action.unlock", "action.lock");
  press("suspend-toggle", c.suspended, "action.unsuspend", "action.suspend");
  press("rename-toggle", c.rename_locked, "action.rename_unlock", "action.rename_lock");
  const states = [c.ended && "state.ended", c.locked && "state.locked", c.suspended && "state.suspended", c.rename_locked && "state.rename_locked"].filter(Boolean);
  $("controls-state").textContent = (states.length ? states : ["state.open"]).map((k) => ctx.t(k)).join(" · ");
  // An ended session is a record: nothing on this page changes it any more.
  document.body.classList.toggle("ended", c.ended);
  // (The record stays usable: exports, and the takeaways written after the meeting.)
  if (c.ended) for (const el of document.querySelectorAll("main button, main input, main select, main textarea")) if (!el.closest("#record")) el.disabled = true;
  renderTakeaways(ctx);
}

function keyboard(ctx) {
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.("input, textarea, select, dialog")) return;
    const k = e.key.toLowerCase();
    if (k === "n") grant(ctx, null);
    else if (k === "e") floorCmd(ctx, "end_turn");
    else if (k === "x") floorCmd(ctx, "extend", { by_ms: 30000 });
    else if (e.key === "?") $("help").showModal();
    else return;
    e.preventDefault();
  });
  $("help-open")?.addEventListener("click", () => $("help").showModal());
}

function renderSettings(ctx) {
  const s = ctx.view.session;
  $("session-title").textContent = s.title;
  const toggle = $("list-toggle");
  if (toggle) toggle.textContent = ctx.t(s.list_open ? "action.close_list" : "action.reopen_list");
  $("list-state").textContent = ctx.t(s.list_open ? "list.open" : "list.closed");
  const items = $("agenda-items");
  if (items && document.activeElement !== items) items.value = s.agenda.join("\n");
  const agenda = $("agenda-current");
  if (agenda) agenda.textContent = s.item == null ? ctx.t("agenda.none") : ctx.t("agenda.item", { n: s.item + 1, total: s.agenda.length, title: s.agenda[s.item] });
  const policy = $("policy-current");
  if (policy) {
    const p = s.policy;
    const name = p.order === "alternate" ? ctx.t("policy.alternate_ratio", { room: p.room, remote: p.remote }) : ctx.t(`policy.${p.order}`);
    policy.textContent = name;
  }
  const agendaLine = $("agenda-line");
  agendaLine.textContent = s.item == null ? ctx.t("agenda.none") : ctx.t("agenda.item", { n: s.item + 1, total: s.agenda.length, title: s.agenda[s.item] });
  agendaLine.dir = "auto";
  fillPolicyForm(ctx);
  $("counts").textContent = waitingText(ctx);
  const remote = $("remote-counts");
  const remoteCounts = ctx.view.remote ?? { asked: 0, forwarded: 0, answered: 0, room_turns_waited: 0 };
  if (remote) remote.textContent = ctx.t("counts.remote", remoteCounts);
  const alert = $("remote-alert");
  if (alert) {
    // After the end nobody is waiting for a turn any more: no alert on a record.
    const starving = remoteCounts.room_turns_waited >= 2 && !s.controls.ended;
    alert.hidden = !starving;
    alert.textContent = starving ? ctx.t("alert.remote_waiting", { turns: remoteCounts.room_turns_waited }) : "";
  }
  // The core refuses joins past the cap: say so, and what makes room (the purge of silent joiners).
  const fullAlert = $("full-alert");
  const full = fullNotice(ctx.view, ctx.catalog);
  fullAlert.hidden = full == null;
  fullAlert.textContent = full ?? "";
  const links = $("links");
  if (links) links.replaceChildren(...s.links.map((l) => h("li", {}, h("a", { href: l.url, rel: "noopener noreferrer", target: "_blank" }, l.title))));
  const controls = $("floor-controls");
  const busy = ctx.view.floor != null;
  for (const b of controls.querySelectorAll("[data-needs-floor]")) b.disabled = !busy;
  // The text being read out can go on the room's screens, at the moderator's choice.
  const showText = $("show-text");
  const f = ctx.view.floor;
  const r = f && ctx.view.requests[f.request];
  showText.hidden = !(r?.note && (f.kind === "text_intervention" || r.origin === "relay"));
  showText.setAttribute("aria-pressed", f?.text != null ? "true" : "false");
  showText.textContent = ctx.t(f?.text != null ? "action.hide_text" : "action.show_text");
  const pause = $("pause");
  pause.textContent = ctx.t(ctx.view.floor?.paused_at != null ? "action.resume" : "action.pause");
}

/** Start the console of the chair (`/s/{id}/chair`) or the online moderator (`/moderator`). */
function startConsole() {
  const chair = location.pathname.endsWith("/chair");
  const role = chair ? "chair" : "moderator";
  // One page serves both roles: drop what belongs to the other.
  for (const el of document.querySelectorAll("[data-for]")) if (el.dataset.for !== role) el.remove();
  document.body.classList.add(`page-${role}`);
  document.body.dataset.titleKey = `title.${role}`;
  let remoteOnly = false;
  const render = (ctx) => {
    if (ctx.view.floor) ctx.lastSpeaker = ctx.view.floor.who.name;
    renderSettings(ctx);
    renderFloor($("floor"), ctx);
    renderParked(ctx);
    const actions = ctx.view.session.controls.ended ? null : entryActions(ctx);
    renderQueue($("queue"), ctx, { actions, filter: remoteOnly ? (r) => r.who.modality !== "onsite" : null });
    // Draggable (and Alt+arrows) where this moderator may move the entry.
    if (actions) for (const li of $("queue").querySelectorAll("[data-request]")) {
      const r = ctx.view.requests[li.dataset.request];
      if (!r || manages(ctx, r.who)) li.setAttribute("draggable", "true");
    }
    renderControls(ctx);
    renderFairness(ctx);
  };
  boot({
    render,
    tick: (ctx) => {
      tickFloor($("floor"), ctx);
      tickWaits(ctx);
      if (!ctx.view.session.controls.ended) renderFairness(ctx);
    },
    onEvents: (events, ctx, update) => {
      announceEvents(events, ctx, update);
      if (events.some((e) => e.type === "turn_ended")) loadHistory(ctx);
    },
  }).then((ctx) => {
    loadHistory(ctx);
    $("next").addEventListener("click", () => grant(ctx, null));
    $("end").addEventListener("click", () => floorCmd(ctx, "end_turn"));
    $("extend").addEventListener("click", () => floorCmd(ctx, "extend", { by_ms: 30000 }));
    $("show-text").addEventListener("click", () => floorCmd(ctx, "show_text", { shown: ctx.view.floor?.text == null }));
    $("pause").addEventListener("click", () => floorCmd(ctx, ctx.view.floor?.paused_at != null ? "resume_clock" : "pause"));
    $("remote-only")?.addEventListener("change", (e) => {
      remoteOnly = e.target.checked;
      if (ctx.view) render(ctx);
    });
    dragToMove(ctx);
    proxyForm(ctx);
    relayForm(ctx);
    chairForms(ctx);
    controlForms(ctx);
    recordForms(ctx);
    keyboard(ctx);
  }, (err) => showError({ t: (k) => k }, "unavailable", { message: String(err) }, true));
}

startConsole();
