// Issue 20: the consoles through a real session, as a chair and an online moderator on laptops
// (1366×768), the room display (1920×1080) and participants' phones see it. Each assertion is
// about what a person sees: text present, elements in the viewport, sizes at 1080p.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, axe, shoot, inView, join, raise, queueNames } from "./harness.mjs";

let env;
before(async () => (env = await start()));
after(async () => env?.stop());

const entry = (p, name) => p.page.locator(`#queue [data-request]:has-text("${name}")`);

/** Open an entry's "More…" menu and click one of its actions. */
async function menuAction(p, name, action) {
  await entry(p, name).locator("[data-action=menu]").click();
  await entry(p, name).locator(`[data-action=${action}]`).click();
}

async function proxy(chair, name, affiliation, modality = "onsite", kind = "intervention") {
  await chair.page.fill("#proxy-name", name);
  await chair.page.fill("#proxy-aff", affiliation);
  await chair.page.selectOption("#proxy-modality", modality);
  await chair.page.selectOption("#proxy-kind", kind);
  await chair.page.click("#proxy-form button[type=submit]");
  await entry(chair, name).waitFor();
}

async function relay(om, name, text, kind = "question") {
  await om.page.fill("#relay-name", name);
  await om.page.selectOption("#relay-kind", kind);
  await om.page.fill("#relay-text", text);
  await om.page.click("#relay-form button[type=submit]");
  await entry(om, name).waitFor();
}

/** "Grant this" on `name`'s entry; out of order, it asks for a reason (issue 19): give `reason`. */
async function grantThis(p, name, reason) {
  await entry(p, name).locator("[data-action=grant]").click();
  const asked = p.page.locator("dialog.ask h2", { hasText: `Give ${name} the floor out of order` });
  if (await asked.waitFor({ timeout: 2000 }).then(() => true, () => false)) {
    await p.page.fill("#ask-input", reason);
    await p.page.click("dialog.ask button[value=ok]");
  }
}

test("the chair and the online moderator run a twelve-person queue; the room and the phones follow", async () => {
  const s = await env.createSession({
    title: "Main session: digital public goods",
    policy: { order: "alternate", room: 1, remote: 1, starvation_ms: 900000 },
    limits: { default_ms: 60000, per_kind: { point_of_order: 60000, direct_reply: 60000 }, warning_ms: 15000 },
    agenda: [{ title: "Open-source AI in the public sector" }, { title: "Way forward" }],
  });
  const chair = await env.open(s.links.chair, "laptop", { name: "chair" });
  const om = await env.open(s.links.online_moderator, "laptop", { name: "moderator" });
  const display = await env.open(s.links.display, "projector", { name: "display" });
  // Nobody waits yet: the display says so on one line, across the list's width.
  const empty = display.page.locator("#next li.empty");
  const lines = await empty.evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)));
  assert.equal(lines, 1, `"${await empty.textContent()}" on ${lines} lines`);

  // 2. "Policy and time" shows the session's settings, and Apply changes only what was edited.
  assert.equal(await chair.page.inputValue("#order"), "alternate");
  assert.equal(await chair.page.inputValue("#limit"), "1");
  assert.equal(await chair.page.inputValue("#starvation"), "15");
  await chair.page.fill("#starvation", "10");
  await chair.page.click("#policy-form button[type=submit]");
  await chair.page.locator("#policy-current", { hasText: "Alternating room and remote (1:1)" }).waitFor();
  await chair.page.waitForFunction(() => document.querySelector("#starvation").value === "10");
  assert.equal(await chair.page.inputValue("#order"), "alternate", "the order was not reverted");
  assert.equal(await chair.page.inputValue("#limit"), "1", "the time limit was not reverted");

  // Three people on phones, the rest added by the chair and relayed by the online moderator.
  const ana = await env.open(s.links.participant, "phone", { name: "ana" });
  const bo = await env.open(s.links.participant, "phone", { name: "bo" });
  await join(ana, "Ana Lima", "Brazil IGF");
  await join(bo, "Bo Kim", "Korea IGF");
  await raise(ana, "question");
  await relay(om, "Remote from chat", "How do small administrations maintain open-source AI with no budget?");
  await raise(bo);
  for (const [name, aff] of [["Walk-in delegate", "Chad IGF"], ["Fatima Al-Sayed", "Egypt"], ["Jean Dupont", "France"], ["Kwame Mensah", "Ghana"], ["Lucía Pérez", "Argentina"], ["Mateus Silva", "Angola"], ["Nguyen Van An", "Viet Nam"]]) await proxy(chair, name, aff);
  await proxy(chair, "Nairobi hub", "Kenya IGF", "hub");
  await relay(om, "Priya from chat", "Please add captions for the remote hubs.", "text_intervention");
  await chair.page.waitForFunction(() => document.querySelectorAll("#queue .entry").length === 12);

  // 4. At 1366×768 the floor and its buttons are in view, with at least ten entries, after
  // adding a proxy (the tools column scrolled) and after saving the takeaways.
  const visibleEntries = (p) => p.page.locator("#queue .entry").evaluateAll((els) => els.filter((el) => {
    const r = el.getBoundingClientRect();
    const list = el.closest(".queue-panel").getBoundingClientRect();
    return r.top >= list.top && r.bottom <= Math.min(innerHeight, list.bottom);
  }).length);
  for (const p of [chair, om]) {
    assert.ok((await visibleEntries(p)) >= 10, `${p.name}: ${await visibleEntries(p)} entries visible at 1366×768`);
    for (const id of ["#floor", "#next", "#end", "#extend", "#pause"]) assert.ok(await inView(p.page.locator(id)), `${p.name}: ${id} in view`);
  }
  await chair.page.fill("#takeaways-recommendations", "Captions for hubs.");
  await chair.page.click("#takeaways-form button[type=submit]");
  for (const id of ["#floor", "#next", "#end", "#extend", "#pause"]) assert.ok(await inView(chair.page.locator(id)), `${id} stays in view after the takeaways`);
  // Per-entry actions one click away, from the keyboard too.
  await entry(chair, "Jean Dupont").locator("[data-action=menu]").focus();
  await chair.page.keyboard.press("Enter");
  assert.ok(await entry(chair, "Jean Dupont").locator("[data-action=move]").isVisible(), "Enter opens the menu");
  await chair.page.keyboard.press("Enter"); // closes it again (focus is on the summary)
  // What each console offers follows the role the server's welcome named: the chair manages
  // every entry, the online moderator remote ones only (no move, no remove, no drag onsite).
  assert.equal(await entry(om, "Jean Dupont").locator("[data-action=move], [data-action=remove]").count(), 0, "the online moderator cannot move an onsite entry");
  assert.equal(await entry(om, "Jean Dupont").getAttribute("draggable"), null);
  assert.equal(await entry(om, "Remote from chat").locator("[data-action=move]").count(), 1, "the online moderator moves remote entries");
  assert.equal(await entry(om, "Remote from chat").getAttribute("draggable"), "true");
  assert.equal(await entry(chair, "Jean Dupont").getAttribute("draggable"), "true", "the chair moves every entry");

  // 6. Presence, for moderators: Ana is connected; Bo's phone loses its network and both
  // consoles show him reconnecting within the coalescing window; the public sees none of it.
  await entry(chair, "Ana Lima").locator(".presence", { hasText: "Connected" }).waitFor();
  await bo.context.setOffline(true);
  for (const p of [chair, om]) await entry(p, "Bo Kim").locator(".presence-reconnecting", { hasText: "Reconnecting" }).waitFor({ timeout: 5000 });
  assert.equal(await entry(chair, "Walk-in delegate").locator(".presence").count(), 0, "no device, no presence");
  assert.equal(await display.page.locator(".presence").count(), 0);

  // 8. Relayed entries say so, everywhere.
  assert.equal(await entry(om, "Remote from chat").locator(".badge-origin").textContent(), "via chat");
  assert.equal(await entry(chair, "Priya from chat").locator(".badge-origin").textContent(), "via chat");
  // 7. "1 hub", not "1 hubs".
  assert.match(await chair.page.textContent("#counts"), /, 1 hub$/);
  // Far from the 5,000-person cap: no "session full" notice on either console.
  for (const p of [chair, om]) assert.equal(await p.page.locator("#full-alert[hidden]").count(), 1);
  await display.page.locator("#next li").first().waitFor();
  await shoot(chair, "chair-12-waiting-1366x768");
  await shoot(om, "moderator-12-waiting-1366x768");
  for (const p of [chair, om]) await axe(p);
  await bo.context.setOffline(false);
  await entry(chair, "Bo Kim").locator(".presence-connected").waitFor({ timeout: 20000 });
  // The open menu, checked by axe too.
  await entry(chair, "Kwame Mensah").locator("[data-action=menu]").click();
  await axe(chair);
  await entry(chair, "Kwame Mensah").locator("[data-action=menu]").click();

  // 7. The move dialog names the person.
  await menuAction(chair, "Kwame Mensah", "move");
  await chair.page.locator("dialog.ask h2", { hasText: "Move Kwame Mensah" }).waitFor();
  await chair.page.click("dialog.ask button[value=cancel]");
  // Beyond: drag and drop, with the reason asked; and the keyboard's way, Alt+↓.
  await entry(chair, "Nguyen Van An").dragTo(chair.page.locator("#queue .entry").nth(9));
  assert.equal(await chair.page.inputValue("#ask-position"), "10");
  await chair.page.fill("#ask-input", "asked to speak before leaving");
  await chair.page.click("dialog.ask button[value=ok]");
  await chair.page.locator("#queue .entry >> nth=9", { hasText: "Nguyen Van An" }).waitFor();
  assert.match(await chair.page.textContent("#queue .entry >> nth=9 >> .reason"), /asked to speak before leaving/);
  await entry(chair, "Nguyen Van An").locator("[data-action=grant]").focus();
  await chair.page.keyboard.press("Alt+ArrowDown");
  assert.equal(await chair.page.inputValue("#ask-position"), "11");
  await chair.page.click("dialog.ask button[value=ok]");
  await chair.page.locator("#queue .entry >> nth=10", { hasText: "Nguyen Van An" }).waitFor();

  // 3. A relayed question is read out: no audio check, no override in the record.
  // It is not first in line, so "grant this" is an out-of-order grant and asks for its reason
  // (issue 19); what it must not ask is the audio question.
  await grantThis(chair, "Remote from chat", "the chat asked first");
  await chair.page.locator("#floor .floor-name", { hasText: "Remote from chat" }).waitFor();
  assert.equal(await chair.page.locator("dialog.ask[open]").count(), 0, "no 'not marked ready' question");
  assert.equal(await entry(om, "Priya from chat").locator("[data-action=ready]").count(), 0, "nothing to mark ready");
  // 1. The text to read out stays on the floor, large, on both consoles.
  for (const p of [chair, om]) {
    await p.page.locator("#floor .floor-text blockquote", { hasText: "How do small administrations maintain" }).waitFor();
    assert.ok(await inView(p.page.locator("#floor .floor-text")), `${p.name}: the text is in view`);
    const size = await p.page.locator("#floor .floor-text blockquote").evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(size >= 20, `${p.name}: text at ${size}px`);
  }
  await chair.page.locator("#floor .countdown").waitFor();
  await new Promise((r) => setTimeout(r, 1200)); // the clock has ticked: the text is still there
  assert.equal(await om.page.locator("#floor .floor-text").count(), 1);
  const record = await (await fetch(`${env.base}/api/sessions/${s.id}/report`, { headers: { Authorization: `Bearer ${new URL(s.links.chair).hash.replace(/^#(t=)?/, "")}` } })).json();
  assert.equal(JSON.stringify(record).includes("forced_not_ready"), false, "no override recorded");

  // 11. The display from the back of the room: a relayed question on the floor, names twice
  // as large as before (20.8 px), the kind and the agenda item shown.
  await display.page.locator("#floor .floor-name", { hasText: "Remote from chat" }).waitFor();
  await display.page.locator("#agenda", { hasText: "Open-source AI in the public sector" }).waitFor();
  const px = (sel) => display.page.locator(sel).first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok((await px("#next .name")) >= 41.6, `display names at ${await px("#next .name")}px`);
  assert.ok((await px("#next .badge")) >= 26, `display badges at ${await px("#next .badge")}px`);
  await display.page.locator("#next .badge-kind").first().waitFor();
  await display.page.locator("#floor .badge-origin", { hasText: "via chat" }).waitFor();
  // 1. The text on the display too, when the chair chooses.
  assert.equal(await display.page.locator("#floor .floor-text").count(), 0, "not before the chair shows it");
  await chair.page.click("#show-text");
  await display.page.locator("#floor .floor-text blockquote", { hasText: "How do small administrations maintain" }).waitFor();
  await chair.page.locator("#show-text[aria-pressed=true]").waitFor();
  await shoot(display, "display-relayed-question-1920x1080");
  await axe(display);
  // 13. The projector: the language picker is not shown to the room; in Arabic a Latin name sits
  // at the start (right) edge with its affiliation, the position beside it, the clock reads "0:59".
  assert.equal(await display.page.locator(".lang").evaluate((el) => getComputedStyle(el).opacity), "0");
  await display.page.selectOption("#lang", "ar");
  await display.page.waitForFunction(() => document.documentElement.dir === "rtl");
  const edges = await display.page.evaluate(() => {
    const box = document.querySelector("#floor").getBoundingClientRect();
    const name = document.querySelector("#floor .floor-name bdi").getBoundingClientRect();
    const aff = document.querySelector("#floor .floor-affiliation").getBoundingClientRect();
    const li = document.querySelector("#next li");
    const pos = li.querySelector(".pos").getBoundingClientRect();
    const first = li.querySelector(".name").getBoundingClientRect();
    return { right: box.right - name.right, affRight: box.right - aff.right, sameRow: Math.abs(pos.top - first.top) < first.height, clock: getComputedStyle(document.querySelector("#floor .countdown")).direction };
  });
  assert.ok(edges.right < 40 && edges.affRight < 40, `name and affiliation at the right edge: ${JSON.stringify(edges)}`);
  assert.ok(edges.sameRow, "the position stays beside the name");
  assert.equal(edges.clock, "ltr");
  await axe(display);
  await display.page.selectOption("#lang", "en");

  // Beyond: the speakers' history on both consoles, once the turn ends.
  await chair.page.click("#end");
  for (const p of [chair, om]) await p.page.locator("#history-list li", { hasText: /Remote from chat Question · Online · via chat \d+:\d\d/ }).waitFor();

  // 14. Pushed back: Ana was next (first come, first served now); a direct reply goes ahead,
  // and she is told who and why.
  await chair.page.selectOption("#order", "fifo");
  await chair.page.click("#policy-form button[type=submit]");
  await chair.page.locator("#policy-current", { hasText: "First come, first served" }).waitFor();
  assert.equal(await chair.page.inputValue("#limit"), "1");
  await chair.page.locator("#floor .floor-empty").waitFor();
  await ana.page.locator("#my-status", { hasText: "You're next" }).waitFor();
  await proxy(chair, "Olu Adeyemi", "Nigeria", "onsite", "direct_reply");
  await ana.page.locator("#my-status .pushed", { hasText: "You moved from number 1 to number 2: Olu Adeyemi went ahead of you (Direct reply to the speaker)." }).waitFor();
  await ana.page.locator("#announce", { hasText: "You are no longer next" }).waitFor();
  await ana.page.locator("#queue .entry-mine", { hasText: "Ana Lima" }).waitFor(); // 15: her own entry
  await shoot(ana, "participant-pushed-back-phone");
  await axe(ana);
  // 19. Arabic: plural rules, no redundant "(1)", the clock left to right.
  await ana.page.selectOption("#lang", "ar");
  await ana.page.locator("#my-status", { hasText: "نحو دقيقة واحدة من الانتظار" }).waitFor();
  const ahead = await ana.page.locator("#my-status p", { hasText: "قبلك" }).textContent();
  assert.equal(ahead, "شخص واحد قبلك");
  await axe(ana);
  await ana.page.selectOption("#lang", "en");
  await ana.page.locator("#my-status", { hasText: "You are number 2" }).waitFor();
  // 10. The audio loop closed: the online moderator marks her ready, and she is told.
  await entry(om, "Ana Lima").locator("[data-action=ready]").click();
  await ana.page.locator("#my-status .ready-note", { hasText: "Unmute when you get the floor" }).waitFor();

  // 5. Declining for now: Bo is told first where rejoining puts him; the consoles keep him in a
  // parked list, and "Back in" puts him at the back.
  await bo.page.click("#my-actions button >> text=Decline for now");
  await bo.page.locator("dialog.ask", { hasText: "back of the queue" }).waitFor();
  await bo.page.click("dialog.ask button[value=ok]");
  await bo.page.locator("#my-status", { hasText: "You declined for now" }).waitFor();
  for (const p of [chair, om]) await p.page.locator("#parked-section:not([hidden]) .parked-entry", { hasText: "Bo Kim" }).waitFor();
  assert.equal(await entry(chair, "Bo Kim").count(), 0);
  await axe(chair);
  await om.page.click(`#parked [data-action=back-in]`);
  await entry(chair, "Bo Kim").waitFor();
  assert.equal((await queueNames(chair)).at(-1), "Bo Kim", "back in, at the back");
  await bo.page.locator("#my-status", { hasText: "You are number" }).waitFor();
  assert.equal(await chair.page.locator("#parked-section").isHidden(), true);

  // 10. Audio that fails: the online moderator sets Bo aside with the reason; he is told what to
  // do, the consoles show why he is parked, and he rejoins himself.
  await menuAction(om, "Bo Kim", "audio-failed");
  await bo.page.locator("#my-status", { hasText: "The moderator could not hear you. Check your microphone" }).waitFor();
  await chair.page.locator("#parked .parked-entry", { hasText: "audio failed" }).waitFor();
  await axe(bo);
  await bo.page.click("#my-actions button >> text=Rejoin the queue");
  await entry(chair, "Bo Kim").waitFor();

  // 7. Re-add names the last speaker.
  await chair.page.click("#readd-last");
  await chair.page.locator("dialog.ask h2", { hasText: "Put Remote from chat, the last speaker, back at the top" }).waitFor();
  await chair.page.click("dialog.ask button[value=cancel]");

  // 16. A text intervention: a real text area, and "read out by the moderator" on the floor.
  const dee = await env.open(s.links.participant, "phone", { name: "dee" });
  await join(dee, "Dee Okafor", "Nigeria IGF");
  await dee.page.selectOption("#kind", "text_intervention");
  assert.equal(await dee.page.locator("#note").isHidden(), true);
  await dee.page.fill("#text", "Two points from our hub:\n1. captions\n2. a second microphone");
  // 15. Tapped while offline: the phone says it holds the hand, and sends it once back.
  await dee.context.setOffline(true);
  await dee.page.locator("#status[data-state=offline]").waitFor();
  await dee.page.click("#raise-form button[type=submit]");
  await dee.page.locator("#my-status .pending", { hasText: "Your hand is raised on this phone" }).waitFor();
  await axe(dee);
  await dee.context.setOffline(false);
  await dee.page.locator("#my-status", { hasText: "You are number" }).waitFor({ timeout: 20000 });
  await grantThis(chair, "Dee Okafor", "the hub's text is short");
  await dee.page.locator("#my-status", { hasText: "The moderator is reading your text out." }).waitFor();
  assert.equal(await dee.page.locator("#my-actions button").count(), 0, "no 'I'm done' for text read out by someone else");
  assert.equal(await om.page.locator("#floor .floor-text blockquote").textContent(), "Two points from our hub:\n1. captions\n2. a second microphone");
  await axe(dee);
  await chair.page.click("#end");
  await chair.page.locator("#floor .floor-empty").waitFor();
  await dee.context.close();

  // 7 and 12. Closing the list says what it does; the display stops inviting people to join.
  await chair.page.click("#list-toggle");
  const closing = chair.page.locator("dialog.ask");
  await closing.waitFor();
  assert.match(await closing.textContent(), /4 remote participants are still waiting\. Closing the list stops new requests only: everyone already waiting keeps their place/);
  await chair.page.click("dialog.ask button[value=ok]");
  await display.page.locator("#join-closed:not([hidden])", { hasText: "The list of speakers is closed." }).waitFor();
  for (const id of ["#qr", "#room-code", "#join-h"]) assert.equal(await display.page.locator(id).isHidden(), true, `${id} hidden`);
  await shoot(display, "display-list-closed-1920x1080");
  await axe(display);

  // 17. A point of order is still possible while the list is closed.
  const cy = await env.open(s.links.participant, "phone", { name: "cy" });
  // 18. The join form asks, optionally and saying why, the stakeholder group and gender.
  await cy.page.click("#about summary");
  await cy.page.selectOption("#stakeholder", "civil_society");
  await cy.page.selectOption("#gender", "woman");
  await axe(cy);
  await join(cy, "Cy Dlamini", "South Africa");
  await cy.page.locator("#list-closed:not([hidden])", { hasText: "A point of order is still possible" }).waitFor();
  assert.equal(await cy.page.locator("#raise-form").isHidden(), true);
  await cy.page.click("#point-of-order");
  await cy.page.locator("#my-status", { hasText: "You're next" }).waitFor();
  await chair.page.locator("#queue .entry >> nth=0", { hasText: "Cy Dlamini" }).waitFor();
  assert.equal(await chair.page.textContent("#queue .entry >> nth=0 >> .kind"), "Point of order");
  await axe(cy);

  // 12. The public view says the list is closed.
  const pubBefore = await env.open(s.links.public, "phone", { name: "public-closed" });
  await pubBefore.page.locator("#list-note:not([hidden])", { hasText: "The list of speakers is closed." }).waitFor();
  await axe(pubBefore);
  await pubBefore.context.close();

  // 12 and 7. After the end: "Ended", no next speakers, no remote alert, waits stop counting.
  const pub = await env.open(s.links.public, "phone", { name: "public" });
  await chair.page.click("#end-session");
  await chair.page.click("dialog.ask button[value=ok]");
  for (const p of [display, pub, chair]) {
    await p.page.locator("#status", { hasText: "Ended" }).waitFor();
    await p.page.locator("#floor .floor-ended", { hasText: "This session has ended." }).waitFor();
  }
  assert.equal(await display.page.locator("#next-section").isHidden(), true);
  assert.equal(await pub.page.locator("#queue-section").isHidden(), true, "the public view lists no 'next' after the end");
  assert.equal(await chair.page.locator("#remote-alert").isHidden(), true);
  const waits = await chair.page.locator("#queue .wait").allTextContents();
  await new Promise((r) => setTimeout(r, 1600));
  assert.deepEqual(await chair.page.locator("#queue .wait").allTextContents(), waits, "wait timers stopped");
  await shoot(display, "display-ended-1920x1080");
  for (const p of [display, pub]) await axe(p);

  // 21. The report names whose entry each override touched, and lists who spoke, in order.
  const report = await env.open(new URL(await chair.page.getAttribute("#report-page", "href"), env.base).href, "laptop", { name: "report", live: false });
  await report.page.locator("body[data-ready=true]").waitFor();
  await report.page.locator("section li", { hasText: "given the floor out of order · Remote from chat" }).waitFor();
  await report.page.locator("table tr", { hasText: "Civil society" }).waitFor();
  await report.page.locator("table tr", { hasText: "Woman" }).waitFor();
  const spoke = report.page.locator("section:has(h2:text('Who spoke')) tbody tr");
  assert.deepEqual((await spoke.locator("td:nth-of-type(2)").allTextContents()).slice(0, 2), ["Remote from chat", "Dee Okafor (Nigeria IGF)"]);
  assert.match(await spoke.first().textContent(), /Online · via chat/);
  await axe(report);
  await report.context.close();

  assert.deepEqual(env.problems, [], "no CSP report and no page error");
  for (const p of [chair, om, display, ana, bo, cy, pub]) await p.context.close();
});
