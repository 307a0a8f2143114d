// The participant's page (mobile first): join once (remembered on this device), then raise or
// lower a hand, see the position and why, be told "you're next" and "you have the floor".

import { $, boot, h, renderQueue, renderFloor, tickFloor, tickWaits, announce, announceEvents, reasonText, confirmDialog, showError } from "/assets/app/common.js";

const tokenKey = (session) => `rostrum:${session}:token`;
let alerted = { next: null, floor: null };
// A hand raised while offline: kept on the phone (the connection resends it) until answered.
let pending = null;
/** Whether the browser may still be asked to notify of a turn (not asked yet). */
let mayAsk = typeof Notification !== "undefined" && Notification.permission === "default";
// Where the reader stood last time, to say why they moved back: { request, index, ahead }.
let place = null;
let pushed = null;

function me(ctx) {
  return ctx.participant ?? null;
}

function myRequest(ctx) {
  const p = me(ctx);
  if (p == null) return null;
  return Object.values(ctx.view.requests).find((r) => r.participant === p) ?? null;
}

/** Sound, vibration, a flashing title and a notification: for "you're next" and "you have the floor". */
function alertUser(ctx, key, said = null) {
  const text = said ?? ctx.t(key);
  announce(text);
  navigator.vibrate?.([200, 100, 200]);
  try {
    const audio = new AudioContext();
    const osc = audio.createOscillator();
    osc.frequency.value = 880;
    osc.connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  } catch {}
  if (typeof Notification !== "undefined" && Notification.permission === "granted" && document.hidden) new Notification(text);
  let on = false;
  const base = document.title;
  const flash = setInterval(() => (document.title = (on = !on) ? `● ${text}` : base), 700);
  setTimeout(() => {
    clearInterval(flash);
    document.title = base;
  }, 8000);
}

/** The session's state as a participant needs it: ended, paused, or not taking newcomers. */
function renderControls(ctx) {
  const { locked, suspended, ended } = ctx.view.session.controls;
  const joined = me(ctx) != null;
  const key = ended ? "state.ended" : suspended ? "me.suspended" : locked && !joined ? "join.locked" : null;
  const note = $("session-note");
  note.hidden = key == null;
  note.textContent = key ? ctx.t(key) : "";
  $("join-form").hidden = locked || ended;
}

function renderMe(ctx) {
  renderControls(ctx);
  const joined = me(ctx) != null;
  const { locked, suspended, ended } = ctx.view.session.controls;
  $("join-section").hidden = joined || locked || ended;
  $("me-section").hidden = !joined;
  $("onsite-note").hidden = !ctx.room;
  $("remote-choice").hidden = !!ctx.room;
  if (!joined) return;
  const r = myRequest(ctx);
  const floor = ctx.view.floor;
  const speaking = floor && floor.participant === me(ctx);
  // "Notify me when it is my turn" means nothing to the speaker.
  $("notify").hidden = !mayAsk || !!speaking;
  $("raise-form").hidden = !!r || !!pending || !ctx.view.session.list_open || suspended || ended;
  // A closed list stops new speakers, not points of order (the core lets those through).
  $("list-closed").hidden = !!r || ctx.view.session.list_open || suspended || ended;
  const status = $("my-status");
  const actions = $("my-actions");
  actions.replaceChildren();
  const button = (key, onclick, cls = "") => h("button", { type: "button", class: cls, onclick }, ctx.t(key));
  if (speaking && floor.kind === "text_intervention") {
    // Text is read out by the moderator: nothing for the writer to do, and no "I'm done".
    status.replaceChildren(h("p", { class: "big" }, ctx.t("me.floor")), h("p", {}, ctx.t("me.read_out")));
    if (alerted.floor !== floor.turn) {
      alerted.floor = floor.turn;
      alertUser(ctx, "me.read_out");
    }
  } else if (speaking) {
    status.replaceChildren(h("p", { class: "big" }, ctx.t("me.floor")));
    actions.append(button("action.done", () => ctx.send({ type: "yield" }).catch(() => {}), "primary"));
    if (alerted.floor !== floor.turn) {
      alerted.floor = floor.turn;
      alertUser(ctx, "me.floor");
    }
  } else if (r && (r.state === "waiting" || r.state === "ready")) {
    const index = ctx.view.queue.findIndex((s) => s.request === r.id);
    const slot = ctx.view.queue[index];
    const ahead = index;
    const minutes = Math.max(1, Math.round((ahead * ctx.view.session.limits.default_ms) / 60000));
    const lostNext = movedBack(ctx, r, index);
    const lines = [h("p", { class: "big" }, index === 0 ? ctx.t("me.next") : ctx.t("me.position", { position: index + 1 }))];
    if (pushed?.request === r.id) lines.push(h("p", { class: "pushed", role: "status" }, pushedText(ctx)));
    if (ahead > 0) lines.push(h("p", {}, ctx.t("me.ahead", { count: ahead })), h("p", {}, ctx.t("me.estimate", { minutes, count: minutes })));
    if (slot) lines.push(h("p", { class: "reason" }, reasonText(ctx, slot)));
    // The online moderator checked the audio: close the loop with the speaker.
    if (r.state === "ready") lines.push(h("p", { class: "ready-note" }, ctx.t("me.ready")));
    status.replaceChildren(...lines);
    if (lostNext) {
      alerted.next = null; // "you're next" again later is news again
      alertUser(ctx, "me.lost_next", `${ctx.t("me.lost_next")}: ${pushedText(ctx)}`);
    }
    actions.append(
      button("action.lower", () => ctx.send({ type: "lower_hand", request: r.id }).catch(() => {})),
      // Said before, not after: stepping out gives up the place.
      button("action.decline", async () => {
        if (await confirmDialog(ctx, "confirm.decline")) ctx.send({ type: "decline_for_now", request: r.id }).catch(() => {});
      }),
    );
    if (index === 0 && alerted.next !== r.id) {
      alerted.next = r.id;
      alertUser(ctx, "me.next");
    }
  } else if (r && r.state === "parked") {
    // Parked by the moderator because the audio failed: say so, and what to do.
    status.replaceChildren(h("p", { class: "big" }, ctx.t(r.parked === "audio_failed" ? "me.parked_audio" : "me.parked")));
    actions.append(
      button("action.rejoin", () => ctx.send({ type: "rejoin", request: r.id }).catch(() => {}), "primary"),
      button("action.lower", () => ctx.send({ type: "lower_hand", request: r.id }).catch(() => {})),
    );
  } else if (pending) {
    status.replaceChildren(h("p", { class: "big pending" }, ctx.t("me.pending")), h("p", {}, ctx.t("me.pending_note")));
  } else {
    status.replaceChildren(h("p", {}, ctx.t("me.idle")));
  }
}

/**
 * Notice being pushed back (someone went ahead: a direct reply, a point of order, a move) and
 * keep a sentence saying who and why; true when that cost the reader "you're next".
 */
function movedBack(ctx, r, index) {
  const ahead = ctx.view.queue.slice(0, index).map((s) => s.request);
  const before = place?.request === r.id ? place : null;
  place = { request: r.id, index, ahead };
  if (!before || index <= before.index) {
    if (pushed?.request === r.id && before && index < before.index) pushed = null;
    return false;
  }
  const known = new Set(before.ahead);
  const jumped = ctx.view.queue.slice(0, index).find((s) => !known.has(s.request));
  if (!jumped) return false; // moved back only because of a change we cannot name
  const who = ctx.view.requests[jumped.request]?.who?.name ?? "";
  pushed = { request: r.id, from: before.index + 1, to: index + 1, name: who, slot: jumped };
  return before.index === 0;
}

/** The sentence saying why the reader moved back, in the language chosen now. */
function pushedText(ctx) {
  const { from, to, name, slot } = pushed;
  return ctx.t("me.pushed", { from, to, name, why: reasonText(ctx, slot) });
}

function render(ctx) {
  $("session-title").textContent = ctx.view.session.title;
  renderMe(ctx);
  renderFloor($("floor"), ctx);
  renderQueue($("queue"), ctx);
}

boot({
  render,
  tick: (ctx) => {
    tickFloor($("floor"), ctx);
    tickWaits(ctx);
  },
  onEvents: announceEvents,
  token: (fragToken, session) => localStorage.getItem(tokenKey(session)) ?? fragToken,
  onJoined: ({ token }, ctx) => localStorage.setItem(tokenKey(ctx.session), token),
}).then((ctx) => {
  // A personal link that no longer works (the session's links were rotated): forget it and
  // start again from the session's join link.
  ctx.conn.addEventListener("fatal", (e) => {
    if (!localStorage.getItem(tokenKey(ctx.session))) return;
    localStorage.removeItem(tokenKey(ctx.session));
    // A link that is no longer understood falls back to the session's join link; one that was
    // revoked (the person was removed, or every link renewed) does not: the message stays.
    if (e.detail === "bad_token") location.reload();
  });
  const form = $("join-form");
  form.elements.name.value = localStorage.getItem("rostrum:name") ?? "";
  form.elements.affiliation.value = localStorage.getItem("rostrum:affiliation") ?? "";
  const hub = () => form.elements.modality.value === "hub";
  // In the room without the display's QR code (from the printed poster, say): the code the
  // display shows, typed, proves presence the same way.
  const typing = () => !ctx.room && form.elements.modality.value === "onsite";
  const syncChoice = () => {
    $("head-count-row").hidden = !hub();
    $("room-code-row").hidden = !typing();
    form.elements.room.required = typing();
  };
  form.addEventListener("change", syncChoice);
  syncChoice();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    localStorage.setItem("rostrum:name", f.get("name"));
    localStorage.setItem("rostrum:affiliation", f.get("affiliation"));
    const modality = ctx.room ? "onsite" : f.get("modality");
    const profile = { name: f.get("name"), affiliation: f.get("affiliation"), modality, head_count: modality === "hub" ? Number(f.get("head_count") || 2) : 1 };
    // Optional, and only sent when given (the report counts the rest as undeclared).
    if (f.get("stakeholder")) profile.stakeholder = f.get("stakeholder");
    if (f.get("gender")) profile.gender = f.get("gender");
    const cmd = { type: "join", profile };
    if (ctx.room) cmd.room = ctx.room;
    else if (typing()) cmd.room = String(f.get("room") ?? "").replace(/\D/g, "");
    await ctx.send(cmd).catch(() => {});
  });
  const raise = $("raise-form");
  const textKind = () => raise.elements.kind.value === "text_intervention";
  const syncKind = () => {
    $("text-row").hidden = !textKind();
    $("note-row").hidden = textKind();
    raise.elements.text.required = textKind();
  };
  raise.elements.kind.addEventListener("change", syncKind);
  syncKind();
  raise.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(raise);
    const note = textKind() ? f.get("text") : f.get("note");
    const sent = ctx.send({ type: "raise_hand", kind: f.get("kind"), note: note || null });
    // Offline, the tap is not lost: say so until the server has it.
    if (ctx.conn.status !== "online") {
      pending = f.get("kind");
      renderMe(ctx);
    }
    sent.then(() => {
      raise.reset();
      syncKind();
    }, () => {}).finally(() => {
      pending = null;
      if (ctx.view) renderMe(ctx);
    });
  });
  $("point-of-order").addEventListener("click", () => ctx.send({ type: "raise_hand", kind: "point_of_order", note: null }).catch(() => {}));
  const notify = $("notify");
  notify.hidden = !mayAsk;
  notify.addEventListener("click", () => Notification.requestPermission().then(() => {
    mayAsk = false;
    notify.hidden = true;
  }));
}, (err) => showError({ t: (k) => k }, "unavailable", { message: String(err) }, true));
